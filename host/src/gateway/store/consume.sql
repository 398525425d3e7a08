-- The fleet's shared counts in PostgreSQL, created and brought up to date
-- by the gateway (`entitle_consume` replaced on every start).
CREATE TABLE IF NOT EXISTS entitle_counts (
  license      text   NOT NULL,
  metric       text   NOT NULL,
  period_start bigint NOT NULL,
  period_end   bigint NOT NULL,
  used         bigint NOT NULL DEFAULT 0 CHECK (used >= 0),
  PRIMARY KEY (license, metric, period_start)
);
CREATE TABLE IF NOT EXISTS entitle_keys (
  license     text    NOT NULL,
  key         text    NOT NULL,
  fingerprint text    NOT NULL,
  before      bigint  NOT NULL,
  at          text    NOT NULL,
  admitted    boolean NOT NULL,
  kept_until  bigint  NOT NULL,
  PRIMARY KEY (license, key)
);

-- One consuming check, atomically with every other gateway's: the count
-- moves only when the request fits under its ceiling (`used <= ceiling -
-- amount`, which never overflows), and a keyed request is counted once,
-- its first outcome kept for retries. Concurrent updates of one count wait
-- on its row and re-check the condition on the committed count.
CREATE OR REPLACE FUNCTION entitle_consume(
  p_license text, p_metric text, p_start bigint, p_end bigint,
  p_amount bigint, p_ceiling bigint,
  p_key text, p_fingerprint text, p_at text, p_kept_until bigint
) RETURNS TABLE (r_outcome text, r_before bigint, r_at text)
LANGUAGE plpgsql AS $$
DECLARE
  seen entitle_keys%ROWTYPE;
  v_used bigint;
  v_admitted boolean;
BEGIN
  IF p_key IS NOT NULL THEN
    INSERT INTO entitle_keys AS k VALUES
      (p_license, p_key, p_fingerprint, 0, p_at, false, p_kept_until)
      ON CONFLICT (license, key) DO NOTHING;
    IF NOT FOUND THEN
      SELECT * INTO seen FROM entitle_keys k
        WHERE k.license = p_license AND k.key = p_key;
      IF seen.fingerprint <> p_fingerprint THEN
        RETURN QUERY SELECT 'key_reused'::text, 0::bigint, ''::text;
      ELSIF seen.admitted THEN
        RETURN QUERY SELECT 'replayed_admitted'::text, seen.before, seen.at;
      ELSE
        RETURN QUERY SELECT 'replayed_refused'::text, seen.before, seen.at;
      END IF;
      RETURN;
    END IF;
  END IF;
  INSERT INTO entitle_counts AS c VALUES (p_license, p_metric, p_start, p_end, 0)
    ON CONFLICT (license, metric, period_start) DO NOTHING;
  UPDATE entitle_counts c SET used = c.used + p_amount
    WHERE c.license = p_license AND c.metric = p_metric
      AND c.period_start = p_start AND c.used <= p_ceiling - p_amount
    RETURNING c.used - p_amount INTO v_used;
  v_admitted := FOUND;
  IF NOT v_admitted THEN
    SELECT c.used INTO v_used FROM entitle_counts c
      WHERE c.license = p_license AND c.metric = p_metric AND c.period_start = p_start;
  END IF;
  IF p_key IS NOT NULL THEN
    UPDATE entitle_keys k SET before = v_used, admitted = v_admitted
      WHERE k.license = p_license AND k.key = p_key;
  END IF;
  RETURN QUERY SELECT CASE WHEN v_admitted THEN 'admitted' ELSE 'refused' END, v_used, p_at;
END
$$;
