-- Settlements and releases, queued by a node and sent together.
--
-- ARGV: mark, seq, mark_ttl_ms, n, then n times (op, key, value):
--   `mark` holds the highest batch number of this node applied so far; a
--   batch numbered at or below it was applied before (its reply was lost)
--   and is skipped, so resending a batch never counts it twice;
--   'a': add `value` (signed) to the counter `key` if it still exists,
--        never below zero (a window already expired is left alone);
--   'r': remove the slot `value` from the gauge `key`.
-- Returns n, or -1 for a batch already applied.
local mark, seq, ttl = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local last = tonumber(redis.call('GET', mark) or '0')
if seq <= last then
  return -1
end
redis.call('SET', mark, seq, 'PX', ttl)
local n = tonumber(ARGV[4])
for i = 1, n do
  local j = 4 + (i - 1) * 3
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
