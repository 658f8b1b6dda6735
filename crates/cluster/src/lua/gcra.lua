-- One GCRA step (see sy-state's local.rs) on the bucket KEYS[1], atomically
-- and on the server's clock. The state is how far the bucket's
-- theoretical arrival time runs ahead of the time it was written, in
-- microseconds scaled by the rate (so one emission interval is exactly
-- `period` and nothing is rounded), with that time and the rate:
-- a hash {t = written at (µs), a = ahead (scaled), r = rate}.
--
-- ARGV: rate, period (µs), burst, cost.
-- Returns {allowed (0|1), remaining, reset_after µs, retry_after µs (-1: never)}.
local rate = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

-- How far ahead of now the arrival time may run: `burst` intervals.
local window = burst * period
local ahead = 0
local state = redis.call('HMGET', KEYS[1], 't', 'a', 'r')
if state[1] and state[2] and state[3] then
  local at, a, r = tonumber(state[1]), tonumber(state[2]), tonumber(state[3])
  if r ~= rate then
    -- A reloaded quota keeps the time to full, as the local limiter does.
    a = math.floor(a / r) * rate
  end
  local elapsed = now - at
  if elapsed < 0 then elapsed = 0 end
  ahead = a - elapsed * rate
  if ahead < 0 then ahead = 0 end
end

local function remaining(a)
  local left = window - a
  if left < 0 then return 0 end
  return math.floor(left / period)
end
-- Scaled time to µs, rounded up so a client waiting this long is not early.
local function unscale(a)
  return math.ceil(a / rate)
end

if cost > burst then
  return {0, remaining(ahead), unscale(ahead), -1}
end
local next_ahead = ahead + cost * period
if next_ahead > window then
  return {0, remaining(ahead), unscale(ahead), unscale(next_ahead - window)}
end
if next_ahead > 0 then
  redis.call('HSET', KEYS[1], 't', string.format('%d', now), 'a', string.format('%d', next_ahead),
    'r', string.format('%d', rate))
  -- A full bucket is the same as no bucket: the key goes when it refills.
  redis.call('PEXPIRE', KEYS[1], math.ceil(next_ahead / rate / 1000) + 1000)
end
return {1, remaining(next_ahead), unscale(next_ahead), 0}
