//! Window boundaries on the UTC calendar and the time formats of 429
//! messages and `x-ratelimit-reset-*` headers. Pure arithmetic on Unix
//! milliseconds (proleptic Gregorian calendar, no leap seconds, as Unix
//! time itself).

use std::fmt::Write as _;
use std::time::Duration;

use sy_core::ShortText;

use super::Window;

const MINUTE_MS: u64 = 60_000;
const DAY_MS: u64 = 86_400_000;

/// `[start, end)` of the window containing `now_ms`, in Unix milliseconds.
/// A gauge ([`Window::Open`]) has one endless window `[0, u64::MAX)`.
pub fn window_bounds(window: Window, now_ms: u64) -> (u64, u64) {
    match window {
        Window::Minute => {
            let start = now_ms - now_ms % MINUTE_MS;
            (start, start + MINUTE_MS)
        }
        Window::Day => {
            let start = now_ms - now_ms % DAY_MS;
            (start, start + DAY_MS)
        }
        Window::Month => {
            let days = now_ms / DAY_MS;
            let (y, m, _) = civil_from_days(days);
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            (
                days_from_civil(y, m, 1) * DAY_MS,
                days_from_civil(ny, nm, 1) * DAY_MS,
            )
        }
        Window::Open => (0, u64::MAX),
    }
}

/// Unix seconds as `2026-11-24T00:00:00Z`.
pub fn format_rfc3339(unix_secs: u64) -> String {
    let days = unix_secs / 86_400;
    let rem = unix_secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A duration the way OpenAI's `x-ratelimit-reset-*` headers write it (Go's
/// duration format): `12ms`, `1s`, `1.5s`, `6m0s`, `3h12m0s`. Below a
/// second, whole milliseconds rounded up; above, milliseconds at most.
///
/// On the stack ([`ShortText`]; the longest, `u64::MAX` milliseconds, is
/// 24 bytes): this runs twice for every answer that carries rate-limit
/// headers.
pub fn format_duration(d: Duration) -> ShortText {
    let mut out = ShortText::new();
    // Cannot fail: every duration fits.
    let _ = write_duration(d, &mut out);
    out
}

/// Numbers written by `itoa`: `write!` cost ~600 instructions a number.
fn write_duration(d: Duration, out: &mut ShortText) -> std::fmt::Result {
    let ms = u64::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX);
    if ms == 0 {
        return out.write_str("0s");
    }
    let mut digits = itoa::Buffer::new();
    if ms < 1000 {
        out.write_str(digits.format(ms))?;
        return out.write_str("ms");
    }
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, frac) = (rest / 1000, rest % 1000);
    if h > 0 {
        out.write_str(digits.format(h))?;
        out.write_str("h")?;
    }
    if h > 0 || m > 0 {
        out.write_str(digits.format(m))?;
        out.write_str("m")?;
    }
    out.write_str(digits.format(s))?;
    if frac > 0 {
        // Three digits with leading zeros, trailing zeros dropped.
        let text = digits.format(frac + 1000);
        out.write_str(".")?;
        out.write_str(text.get(1..).unwrap_or_default().trim_end_matches('0'))?;
    }
    out.write_str("s")
}

/// Days since 1970-01-01 to `(year, month, day)` (Howard Hinnant's
/// `civil_from_days`, for non-negative days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// `(year, month, day)` to days since 1970-01-01 (dates from 1970 on).
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).saturating_sub(719_468)
}

/// Unix milliseconds of `y-m-d h:mi:s` UTC, for tests and injected clocks.
pub fn unix_ms(y: u64, m: u64, d: u64, h: u64, mi: u64, s: u64) -> u64 {
    (days_from_civil(y, m, d) * 86_400 + h * 3600 + mi * 60 + s) * 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trips() {
        for days in [0, 59, 365, 10_957, 20_000, 20_780, 47_482] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_rfc3339(unix_ms(2024, 2, 29, 23, 59, 59) / 1000),
            "2024-02-29T23:59:59Z"
        );
    }

    #[test]
    fn windows_start_on_calendar_boundaries() {
        let now = unix_ms(2026, 11, 23, 20, 48, 30) + 250;
        assert_eq!(
            window_bounds(Window::Minute, now),
            (
                unix_ms(2026, 11, 23, 20, 48, 0),
                unix_ms(2026, 11, 23, 20, 49, 0)
            )
        );
        assert_eq!(
            window_bounds(Window::Day, now),
            (
                unix_ms(2026, 11, 23, 0, 0, 0),
                unix_ms(2026, 11, 24, 0, 0, 0)
            )
        );
        assert_eq!(
            window_bounds(Window::Month, now),
            (unix_ms(2026, 11, 1, 0, 0, 0), unix_ms(2026, 12, 1, 0, 0, 0))
        );
        // December rolls into January; February of a leap year has 29 days.
        let dec = unix_ms(2026, 12, 31, 23, 59, 59);
        assert_eq!(
            window_bounds(Window::Month, dec).1,
            unix_ms(2027, 1, 1, 0, 0, 0)
        );
        let feb = unix_ms(2028, 2, 10, 0, 0, 0);
        assert_eq!(
            window_bounds(Window::Month, feb).1,
            unix_ms(2028, 3, 1, 0, 0, 0)
        );
        assert_eq!(
            window_bounds(Window::Month, feb).1 - window_bounds(Window::Month, feb).0,
            29 * DAY_MS
        );
    }

    #[test]
    fn durations_read_like_openai_headers() {
        let f = |ms| format_duration(Duration::from_millis(ms));
        assert_eq!(f(0), "0s");
        assert_eq!(f(12), "12ms");
        assert_eq!(format_duration(Duration::from_micros(1)), "1ms");
        assert_eq!(f(1000), "1s");
        assert_eq!(f(1500), "1.5s");
        assert_eq!(f(360_000), "6m0s");
        assert_eq!(f(11_520_000), "3h12m0s");
        assert_eq!(f(59_617), "59.617s");
        assert_eq!(f(1_050), "1.05s");
        assert_eq!(f(61_001), "1m1.001s");
        assert_eq!(f(3_600_000), "1h0m0s");
        assert_eq!(format_duration(Duration::MAX), "5124095576030h25m51.615s");
        // Against the `write!` formatting it replaced, over a spread of
        // values (below and above a second, every fraction length).
        for ms in (0..5_000).chain((0..2_000).map(|i| i * 7_919 + 999)) {
            assert_eq!(f(ms), reference(ms), "{ms} ms");
        }
    }

    fn reference(ms: u64) -> String {
        if ms == 0 {
            return "0s".to_owned();
        }
        if ms < 1000 {
            return format!("{ms}ms");
        }
        let (h, m, s, frac) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
        let mut out = String::new();
        if h > 0 {
            out += &format!("{h}h");
        }
        if h > 0 || m > 0 {
            out += &format!("{m}m");
        }
        out += &format!("{s}");
        if frac > 0 {
            out += format!(".{frac:03}").trim_end_matches('0');
        }
        out + "s"
    }
}
