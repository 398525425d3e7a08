-- One consuming check counted in a fleet's Redis, atomically: the count
-- moves only when the request fits under its ceiling and was decided on
-- the soft limit's state the count has, and a request with an idempotency
-- key is counted once, its first outcome kept for retries.
--
-- KEYS[1]  the count of a license's metric in one period: a hash of
--          `used` and `soft` (when the soft limit was first crossed)
-- KEYS[2]  the idempotency record of the request's key (same license)
-- KEYS[3]  the license's newest period per metric: a hash, metric to the
--          period's start, read by a gateway that reports the counts
-- ARGV[1]  units asked for
-- ARGV[2]  the most the count may reach (limit and grace, or 2^53)
-- ARGV[3]  when the count expires, Unix milliseconds (its period's end)
-- ARGV[4]  the request's fingerprint; empty when it has no key
-- ARGV[5]  the instant of the check, as the answer writes it
-- ARGV[6]  how long a key's record is kept, milliseconds
-- ARGV[7]  the soft limit whose first crossing is recorded; empty if none
-- ARGV[8]  when the soft limit was first crossed, as the decision saw it;
--          empty if not
-- ARGV[9]  the metric
-- ARGV[10] the period's start, Unix seconds
-- ARGV[11] for a lease, the most units to reserve (at least ARGV[1]);
--          empty to count the request alone
--
-- Returns {outcome, count before, instant of the check, soft crossing
-- before, units counted}, outcome one of `admitted`, `reserved` (a lease's
-- units), `refused`, `stale` (decided on
-- another soft state: nothing counted, nothing kept), `replayed_admitted`,
-- `replayed_refused`, `key_reused` (the key was first sent with another
-- request).
local keyed = ARGV[4] ~= ''
if keyed then
  local seen = redis.call('HMGET', KEYS[2], 'fingerprint', 'before', 'at', 'admitted', 'soft')
  if seen[1] then
    if seen[1] ~= ARGV[4] then
      return {'key_reused', 0, '', '', 0}
    end
    local outcome = 'replayed_refused'
    if seen[4] == '1' then
      outcome = 'replayed_admitted'
    end
    return {outcome, tonumber(seen[2]), seen[3], seen[5] or '', 0}
  end
end
local count = redis.call('HMGET', KEYS[1], 'used', 'soft')
local before = tonumber(count[1] or '0')
local soft = count[2] or ''
if soft ~= ARGV[8] then
  return {'stale', before, ARGV[5], soft, 0}
end
local amount = tonumber(ARGV[1])
local ceiling = tonumber(ARGV[2])
-- Lua numbers are doubles: every count, amount and ceiling is at most
-- 2^53, where they are exact, and `before + amount` could round past it;
-- what is left under the ceiling never does.
local admitted = amount <= ceiling - before
local leased = ARGV[11] ~= ''
if admitted and leased then
  -- A lease takes what is left, up to its size; short of a soft limit it
  -- stops there, so that only a request crossing the limit itself starts
  -- grace, at its instant.
  local most = math.min(tonumber(ARGV[11]), ceiling - before)
  if ARGV[7] ~= '' and amount <= tonumber(ARGV[7]) - before then
    most = math.min(most, tonumber(ARGV[7]) - before)
  end
  amount = math.max(amount, most)
end
if admitted then
  redis.call('HINCRBY', KEYS[1], 'used', amount)
  -- The first count past a soft limit starts its grace, for every gateway.
  if ARGV[7] ~= '' and soft == '' and amount > tonumber(ARGV[7]) - before then
    redis.call('HSET', KEYS[1], 'soft', ARGV[5])
  end
  redis.call('PEXPIREAT', KEYS[1], ARGV[3])
  local newest = tonumber(redis.call('HGET', KEYS[3], ARGV[9]) or '-1')
  if tonumber(ARGV[10]) >= newest then
    redis.call('HSET', KEYS[3], ARGV[9], ARGV[10])
    redis.call('PEXPIREAT', KEYS[3], ARGV[3], 'GT')
    if redis.call('PTTL', KEYS[3]) < 0 then
      redis.call('PEXPIREAT', KEYS[3], ARGV[3])
    end
  end
end
if keyed then
  local flag = '0'
  if admitted then
    flag = '1'
  end
  redis.call('HSET', KEYS[2], 'fingerprint', ARGV[4], 'before', before, 'at', ARGV[5], 'admitted', flag, 'soft', soft)
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
end
if admitted and leased then
  return {'reserved', before, ARGV[5], soft, amount}
end
if admitted then
  return {'admitted', before, ARGV[5], soft, amount}
end
return {'refused', before, ARGV[5], soft, 0}
