-- A counter's value in the window open now; for a gauge, the slots whose
-- lease has not expired.
--
-- ARGV: shift, base, window 'm'|'d'|'M'|'g'.
local now = now_ms(tonumber(ARGV[1]))
if ARGV[3] == 'g' then
  return redis.call('ZCOUNT', ARGV[2], '(' .. int(now), '+inf')
end
local s = bounds(ARGV[3], now)
return tonumber(redis.call('GET', window_key(ARGV[2], s)) or '0')
