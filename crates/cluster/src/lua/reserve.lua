-- Reserve every charge or none. Counters of windows are integers at
-- `{base}:{window start}` that expire `grace` ms after their window ends;
-- a gauge is a sorted set at `{base}` of slot ids scored by lease expiry,
-- expired slots (their node died or lost Redis) pruned here first.
--
-- ARGV: shift, grace ms, lease ms, slot id, n, then n times
--       (base, window 'm'|'d'|'M'|'g', limit, amount).
-- Returns {1, now, then per charge: window start, window end (-1: gauge),
-- value after} or {0, now, index (1-based), value now, start, end} for
-- the first charge that does not fit.
local now = now_ms(tonumber(ARGV[1]))
local grace = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local slot = ARGV[4]
local n = tonumber(ARGV[5])

local keys, starts, ends, after, amounts, gauge = {}, {}, {}, {}, {}, {}
-- What this reservation already takes from a key charged twice.
local taking = {}
for i = 1, n do
  local j = 5 + (i - 1) * 4
  local base, w = ARGV[j + 1], ARGV[j + 2]
  local limit, amount = tonumber(ARGV[j + 3]), tonumber(ARGV[j + 4])
  local key, used
  if w == 'g' then
    key = base
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
    used = redis.call('ZCARD', key)
    starts[i], ends[i] = 0, -1
  else
    local s, e = bounds(w, now)
    key = window_key(base, s)
    used = tonumber(redis.call('GET', key) or '0')
    starts[i], ends[i] = s, e
  end
  used = used + (taking[key] or 0)
  if used + amount > limit then
    return {0, now, i, used, starts[i], ends[i]}
  end
  taking[key] = (taking[key] or 0) + amount
  keys[i], amounts[i], after[i], gauge[i] = key, amount, used + amount, w == 'g'
end

local out = {1, now}
for i = 1, n do
  local key, amount = keys[i], amounts[i]
  if amount > 0 then
    if gauge[i] then
      for k = 1, amount do
        redis.call('ZADD', key, now + lease, slot .. ':' .. i .. ':' .. k)
      end
      keep_alive(key, 2 * lease)
    else
      redis.call('INCRBY', key, amount)
      redis.call('PEXPIRE', key, ends[i] - now + grace)
    end
  end
  out[#out + 1] = starts[i]
  out[#out + 1] = ends[i]
  out[#out + 1] = after[i]
end
return out
