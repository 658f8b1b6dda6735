-- Shared by the ledger's scripts (prepended to each).
--
-- Windows on the UTC calendar in Unix milliseconds: the arithmetic of
-- sy-state's calendar.rs (Howard Hinnant's civil-date algorithms), so a
-- window here starts and ends where LocalLedger's does. Lua numbers are
-- doubles, exact for integers up to 2^53: milliseconds since 1970 are far
-- inside that.
local floor = math.floor
local MINUTE, DAY = 60000, 86400000

-- Days since 1970-01-01 to (year, month).
local function civil_from_days(days)
  local z = days + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return y, m
end

-- The first day of (year, month), in days since 1970-01-01.
local function days_from_civil(y, m)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local mp = m > 2 and m - 3 or m + 9
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + floor((153 * mp + 2) / 5)
  return era * 146097 + doe - 719468
end

-- [start, end) of the window holding `now`: 'm' minute, 'd' UTC day,
-- 'M' UTC calendar month.
local function bounds(w, now)
  if w == 'm' then
    local s = now - now % MINUTE
    return s, s + MINUTE
  end
  if w == 'd' then
    local s = now - now % DAY
    return s, s + DAY
  end
  local y, m = civil_from_days(floor(now / DAY))
  local ny, nm = y, m + 1
  if nm == 13 then ny, nm = y + 1, 1 end
  return days_from_civil(y, m) * DAY, days_from_civil(ny, nm) * DAY
end

-- The server's clock in Unix milliseconds, moved by `shift` (0 except in
-- tests, which place it near a window's end).
local function now_ms(shift)
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + floor(tonumber(t[2]) / 1000) + shift
end

local function int(n)
  return string.format('%d', n)
end

-- The key of a windowed counter.
local function window_key(base, start)
  return base .. ':' .. int(start)
end

-- A gauge's set lives `ttl` ms past its last change, never less than
-- another node asked for.
local function keep_alive(key, ttl)
  if redis.call('PTTL', key) < ttl then
    redis.call('PEXPIRE', key, ttl)
  end
end
