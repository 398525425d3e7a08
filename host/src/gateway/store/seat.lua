-- Takes or renews a floating seat in a fleet's Redis, atomically with
-- every other gateway: seats past their expiry are dropped, then the seat
-- is held until ARGV[3] when the seats other clients hold stay under the
-- limit.
--
-- KEYS[1]  the license's seats: fingerprints scored by expiry (ms, exclusive)
-- ARGV[1]  the fingerprint
-- ARGV[2]  now, milliseconds since the epoch
-- ARGV[3]  the seat's new expiry, milliseconds since the epoch
-- ARGV[4]  the limit (0 only reads)
--
-- Returns {granted (1 or 0), seats held by others, whether it held one (1 or 0)}.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local mine = redis.call('ZSCORE', KEYS[1], ARGV[1]) and 1 or 0
local others = redis.call('ZCARD', KEYS[1]) - mine
if others >= tonumber(ARGV[4]) then
  return {0, others, mine}
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
-- The set lives as long as its latest seat.
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return {1, others, mine}
