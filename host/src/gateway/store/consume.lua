-- One consuming check counted in a fleet's Redis, atomically: the count
-- moves only when the request fits under its ceiling, and a request with
-- an idempotency key is counted once, its first outcome kept for retries.
--
-- KEYS[1]  the count of a license's metric in one period
-- KEYS[2]  the idempotency record of the request's key (same license)
-- ARGV[1]  units asked for
-- ARGV[2]  the most the count may reach (limit and grace, or 2^53)
-- ARGV[3]  when the count expires, Unix milliseconds (its period's end)
-- ARGV[4]  the request's fingerprint; empty when it has no key
-- ARGV[5]  the instant of the check, as the answer writes it
-- ARGV[6]  how long a key's record is kept, milliseconds
--
-- Returns {outcome, count before, instant of the first check}, outcome one
-- of `admitted`, `refused`, `replayed_admitted`, `replayed_refused`,
-- `key_reused` (the key was first sent with another request).
local keyed = ARGV[4] ~= ''
if keyed then
  local seen = redis.call('HMGET', KEYS[2], 'fingerprint', 'before', 'at', 'admitted')
  if seen[1] then
    if seen[1] ~= ARGV[4] then
      return {'key_reused', 0, ''}
    end
    local outcome = 'replayed_refused'
    if seen[4] == '1' then
      outcome = 'replayed_admitted'
    end
    return {outcome, tonumber(seen[2]), seen[3]}
  end
end
local before = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount = tonumber(ARGV[1])
local ceiling = tonumber(ARGV[2])
-- Lua numbers are doubles: every count, amount and ceiling is at most
-- 2^53, where they are exact, and `before + amount` could round past it;
-- what is left under the ceiling never does.
local admitted = amount <= ceiling - before
if admitted then
  redis.call('INCRBY', KEYS[1], amount)
  redis.call('PEXPIREAT', KEYS[1], ARGV[3])
end
if keyed then
  local flag = '0'
  if admitted then
    flag = '1'
  end
  redis.call('HSET', KEYS[2], 'fingerprint', ARGV[4], 'before', before, 'at', ARGV[5], 'admitted', flag)
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
end
if admitted then
  return {'admitted', before, ARGV[5]}
end
return {'refused', before, ARGV[5]}
