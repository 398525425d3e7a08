-- Floating seats a fleet shares in PostgreSQL: who holds a seat of which
-- license until when (milliseconds since the epoch, exclusive). Created by
-- the gateway as it connects, one gateway at a time (the same advisory
-- lock as the counts').
BEGIN;
SELECT pg_advisory_xact_lock(7301410001);
CREATE TABLE IF NOT EXISTS entitle_seats (
  license     text   NOT NULL,
  fingerprint text   NOT NULL,
  expires_ms  bigint NOT NULL,
  PRIMARY KEY (license, fingerprint)
);
-- Takes or renews `p_fingerprint`'s seat until `p_expires` when the seats
-- other clients hold at `p_now` stay under `p_limit` (0 only reads), in
-- one transaction: a lock per license orders the fleet's claims of it, so
-- two gateways never both take its last seat. Seats past their expiry are
-- dropped first.
CREATE OR REPLACE FUNCTION entitle_seat_claim(
  p_license text, p_fingerprint text, p_now bigint, p_expires bigint, p_limit bigint,
  OUT r_granted boolean, OUT r_others bigint, OUT r_mine boolean
) LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('entitle_seats:' || p_license, 0));
  DELETE FROM entitle_seats WHERE license = p_license AND expires_ms <= p_now;
  SELECT count(*) FILTER (WHERE fingerprint <> p_fingerprint),
         coalesce(bool_or(fingerprint = p_fingerprint), false)
    INTO r_others, r_mine
    FROM entitle_seats WHERE license = p_license;
  IF r_others >= p_limit THEN
    r_granted := false;
    RETURN;
  END IF;
  INSERT INTO entitle_seats (license, fingerprint, expires_ms)
    VALUES (p_license, p_fingerprint, p_expires)
    ON CONFLICT (license, fingerprint) DO UPDATE SET expires_ms = excluded.expires_ms;
  r_granted := true;
END
$$;
COMMIT;
