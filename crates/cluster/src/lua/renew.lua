-- Extend the leases of the slots a live node holds.
--
-- ARGV: shift, lease ms, then pairs (gauge key, slot). A slot that was
-- pruned (Redis unreachable for longer than a lease) is added back: the
-- call it stands for is still in flight.
local now = now_ms(tonumber(ARGV[1]))
local lease = tonumber(ARGV[2])
for j = 3, #ARGV - 1, 2 do
  redis.call('ZADD', ARGV[j], now + lease, ARGV[j + 1])
  keep_alive(ARGV[j], 2 * lease)
end
return (#ARGV - 2) / 2
