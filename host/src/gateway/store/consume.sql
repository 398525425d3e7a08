-- The fleet's shared counts in PostgreSQL, created and brought up to date
-- by the gateway as it connects, one gateway at a time (an advisory lock
-- held for the transaction), so a fleet started at once migrates once.
BEGIN;
SELECT pg_advisory_xact_lock(7301410001);
CREATE TABLE IF NOT EXISTS entitle_counts (
  license      text   NOT NULL,
  metric       text   NOT NULL,
  period_start bigint NOT NULL,
  period_end   bigint NOT NULL,
  used         bigint NOT NULL DEFAULT 0 CHECK (used >= 0),
  PRIMARY KEY (license, metric, period_start)
);
-- When the soft limit was first crossed in the period (the first count
-- past it); its grace runs from there for every gateway.
ALTER TABLE entitle_counts ADD COLUMN IF NOT EXISTS soft_exceeded_at text;
CREATE INDEX IF NOT EXISTS entitle_counts_end ON entitle_counts (period_end);
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
ALTER TABLE entitle_keys ADD COLUMN IF NOT EXISTS soft text;
CREATE INDEX IF NOT EXISTS entitle_keys_kept ON entitle_keys (kept_until);

-- Leases settled, so that a settlement sent again gives nothing back twice.
CREATE TABLE IF NOT EXISTS entitle_settled (
  lease      text   PRIMARY KEY,
  kept_until bigint NOT NULL
);

-- Earlier shapes of the function, replaced by the one below.
DROP FUNCTION IF EXISTS entitle_consume(
  text, text, bigint, bigint, bigint, bigint, text, text, text, bigint);
DROP FUNCTION IF EXISTS entitle_consume(
  text, text, bigint, bigint, bigint, bigint, text, text, text, bigint, bigint, text);

-- One consuming check, atomically with every other gateway's: the count's
-- row is locked, the request is refused as stale when the soft limit was
-- crossed otherwise than its decision saw, counted only when it fits under
-- its ceiling (`used <= ceiling - amount`, which never overflows), and the
-- first count past a soft limit records its instant. A keyed request is
-- counted once, its first outcome kept for retries. With `p_up_to`, a
-- lease: up to that many units are reserved, what is left under the
-- ceiling, stopping short of a soft limit the request does not cross.
CREATE OR REPLACE FUNCTION entitle_consume(
  p_license text, p_metric text, p_start bigint, p_end bigint,
  p_amount bigint, p_ceiling bigint,
  p_key text, p_fingerprint text, p_at text, p_kept_until bigint,
  p_soft_limit bigint, p_soft text, p_up_to bigint
) RETURNS TABLE (r_outcome text, r_before bigint, r_at text, r_soft text, r_units bigint)
LANGUAGE plpgsql AS $$
DECLARE
  seen entitle_keys%ROWTYPE;
  v_used bigint;
  v_soft text;
  v_admitted boolean;
  v_amount bigint := p_amount;
BEGIN
  -- The count's row first, then the key's: every transaction takes its
  -- counts before its keys, so a batch (which takes several) and single
  -- calls never wait on each other in a cycle.
  INSERT INTO entitle_counts AS c (license, metric, period_start, period_end, used)
    VALUES (p_license, p_metric, p_start, p_end, 0)
    ON CONFLICT (license, metric, period_start) DO NOTHING;
  SELECT c.used, c.soft_exceeded_at INTO v_used, v_soft FROM entitle_counts c
    WHERE c.license = p_license AND c.metric = p_metric AND c.period_start = p_start
    FOR UPDATE;
  IF p_key IS NOT NULL THEN
    INSERT INTO entitle_keys AS k VALUES
      (p_license, p_key, p_fingerprint, 0, p_at, false, p_kept_until, NULL)
      ON CONFLICT (license, key) DO NOTHING;
    IF NOT FOUND THEN
      SELECT * INTO seen FROM entitle_keys k
        WHERE k.license = p_license AND k.key = p_key;
      IF seen.fingerprint <> p_fingerprint THEN
        RETURN QUERY SELECT 'key_reused'::text, 0::bigint, ''::text, ''::text, 0::bigint;
      ELSIF seen.admitted THEN
        RETURN QUERY SELECT 'replayed_admitted'::text, seen.before, seen.at,
          coalesce(seen.soft, ''), 0::bigint;
      ELSE
        RETURN QUERY SELECT 'replayed_refused'::text, seen.before, seen.at,
          coalesce(seen.soft, ''), 0::bigint;
      END IF;
      RETURN;
    END IF;
  END IF;
  IF v_soft IS DISTINCT FROM p_soft THEN
    -- Nothing counted and nothing kept: the retry is decided afresh.
    IF p_key IS NOT NULL THEN
      DELETE FROM entitle_keys k WHERE k.license = p_license AND k.key = p_key;
    END IF;
    RETURN QUERY SELECT 'stale'::text, v_used, p_at, coalesce(v_soft, ''), 0::bigint;
    RETURN;
  END IF;
  v_admitted := v_used <= p_ceiling - p_amount;
  IF v_admitted AND p_up_to IS NOT NULL THEN
    v_amount := greatest(p_amount, least(p_up_to, p_ceiling - v_used,
      CASE WHEN p_soft_limit IS NOT NULL AND p_amount <= p_soft_limit - v_used
        THEN p_soft_limit - v_used END));
  END IF;
  IF v_admitted THEN
    UPDATE entitle_counts c SET used = c.used + v_amount,
      soft_exceeded_at = CASE
        WHEN p_soft_limit IS NOT NULL AND c.soft_exceeded_at IS NULL
          AND v_amount > p_soft_limit - v_used THEN p_at
        ELSE c.soft_exceeded_at END
      WHERE c.license = p_license AND c.metric = p_metric AND c.period_start = p_start;
  END IF;
  IF p_key IS NOT NULL THEN
    UPDATE entitle_keys k SET before = v_used, admitted = v_admitted, soft = v_soft
      WHERE k.license = p_license AND k.key = p_key;
  END IF;
  RETURN QUERY SELECT CASE
      WHEN v_admitted AND p_up_to IS NOT NULL THEN 'reserved'
      WHEN v_admitted THEN 'admitted'
      ELSE 'refused' END,
    v_used, p_at, coalesce(v_soft, ''), CASE WHEN v_admitted THEN v_amount ELSE 0 END;
END
$$;

-- Consuming checks a gateway sends together (they arrived while its
-- last call was in flight), of any counts: every count's row is locked
-- first, in the order of its key, then each check is decided by
-- entitle_consume in the order given (the gateway sorts them by their
-- idempotency keys), all in this one transaction, exactly as if sent one
-- after another. Counts before keys, each in one order: batches and single
-- calls never deadlock. Answered in that order (`r_index`, from 1).
DROP FUNCTION IF EXISTS entitle_consume_batch(
  text, text, bigint, bigint, bigint[], bigint[], text[], text[], text[],
  bigint[], bigint[], text[], bigint[]);
CREATE OR REPLACE FUNCTION entitle_consume_batch(
  p_licenses text[], p_metrics text[], p_starts bigint[], p_ends bigint[],
  p_amounts bigint[], p_ceilings bigint[], p_keys text[], p_fingerprints text[],
  p_ats text[], p_kept_untils bigint[], p_soft_limits bigint[], p_softs text[],
  p_up_tos bigint[]
) RETURNS TABLE (r_index int, r_outcome text, r_before bigint, r_at text, r_soft text, r_units bigint)
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO entitle_counts AS c (license, metric, period_start, period_end, used)
    SELECT DISTINCT l, m, s, e, 0
      FROM unnest(p_licenses, p_metrics, p_starts, p_ends) AS b(l, m, s, e)
    ORDER BY 1, 2, 3
    ON CONFLICT (license, metric, period_start) DO NOTHING;
  PERFORM 1 FROM entitle_counts c
    JOIN (SELECT DISTINCT l, m, s FROM unnest(p_licenses, p_metrics, p_starts) AS b(l, m, s)) b
      ON c.license = b.l AND c.metric = b.m AND c.period_start = b.s
    ORDER BY c.license, c.metric, c.period_start
    FOR UPDATE OF c;
  FOR i IN 1 .. coalesce(array_length(p_amounts, 1), 0) LOOP
    RETURN QUERY SELECT i, c.r_outcome, c.r_before, c.r_at, c.r_soft, c.r_units
      FROM entitle_consume(p_licenses[i], p_metrics[i], p_starts[i], p_ends[i],
        p_amounts[i], p_ceilings[i], p_keys[i], p_fingerprints[i], p_ats[i],
        p_kept_untils[i], p_soft_limits[i], p_softs[i], p_up_tos[i]) c;
  END LOOP;
END
$$;

-- A lease settled: its unspent units go back to the count, once.
CREATE OR REPLACE FUNCTION entitle_settle(
  p_license text, p_metric text, p_start bigint, p_lease text,
  p_unused bigint, p_kept_until bigint
) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  v_back bigint;
BEGIN
  INSERT INTO entitle_settled VALUES (p_lease, p_kept_until)
    ON CONFLICT (lease) DO NOTHING;
  IF NOT FOUND THEN
    RETURN -1;
  END IF;
  SELECT least(p_unused, c.used) INTO v_back FROM entitle_counts c
    WHERE c.license = p_license AND c.metric = p_metric AND c.period_start = p_start
    FOR UPDATE;
  -- A count pruned with its period takes nothing back.
  IF v_back IS NULL THEN
    RETURN 0;
  END IF;
  UPDATE entitle_counts c SET used = c.used - v_back
    WHERE c.license = p_license AND c.metric = p_metric AND c.period_start = p_start;
  RETURN v_back;
END
$$;
COMMIT;
