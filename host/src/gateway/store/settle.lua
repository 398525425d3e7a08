-- A lease settled in a fleet's Redis: the units it reserved and did not
-- spend go back to the count, once, however often the settlement is sent
-- (a gateway settles again what its journal does not show settled).
--
-- KEYS[1]  the count the lease was reserved from
-- KEYS[2]  the lease's settlement mark
-- ARGV[1]  units reserved and not spent
-- ARGV[2]  how long the mark is kept, milliseconds
--
-- Returns the units given back, or -1 when the lease was settled before.
if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then
  return -1
end
-- A count expired with its period takes nothing back.
local used = tonumber(redis.call('HGET', KEYS[1], 'used') or '0')
local back = math.min(tonumber(ARGV[1]), used)
if back > 0 then
  redis.call('HINCRBY', KEYS[1], 'used', -back)
end
return back
