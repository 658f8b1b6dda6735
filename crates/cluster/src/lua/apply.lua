-- Settlements and releases, queued by a node and sent together.
--
-- ARGV: n, then n times (op, key, value):
--   'a': add `value` (signed) to the counter `key` if it still exists,
--        never below zero (a window already expired is left alone);
--   'r': remove the slot `value` from the gauge `key`.
local n = tonumber(ARGV[1])
for i = 1, n do
  local j = 1 + (i - 1) * 3
  local op, key, value = ARGV[j + 1], ARGV[j + 2], ARGV[j + 3]
  if op == 'a' then
    if redis.call('EXISTS', key) == 1 then
      if redis.call('INCRBY', key, value) < 0 then
        redis.call('SET', key, '0', 'KEEPTTL')
      end
    end
  else
    redis.call('ZREM', key, value)
  end
end
return n
