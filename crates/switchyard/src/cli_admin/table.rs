//! Table output: aligned columns described by [`Column`] specs, one row per
//! JSON object. Cells never contain tabs or newlines and an absent or empty
//! value shows as `-`, so every row has the same number of
//! whitespace-separated fields for `awk` and friends (free-text columns
//! excepted).

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// How a cell renders its JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fmt {
    /// Strings as they are, numbers and booleans as JSON, anything else as
    /// compact JSON.
    Text,
    /// Unix milliseconds as RFC 3339 UTC, to the second.
    Time,
    /// `yes` / `no`.
    Bool,
    /// An array of strings, comma-separated.
    List,
    /// An API key's state from the whole row: `revoked`, `expired` or
    /// `active` (the column's field is ignored).
    KeyState,
}

/// One column: its header, the dotted path of the field it shows, how, and
/// the most characters a cell keeps (0: all).
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Header text (upper case by convention).
    pub header: &'static str,
    /// Dotted path into the row object, e.g. `scopes.routes`.
    pub field: &'static str,
    /// Rendering.
    pub fmt: Fmt,
    /// Longest cell in characters; longer ones end in `…`. 0: no limit.
    pub max: usize,
}

/// A column of `fmt` without a width limit.
pub const fn col(header: &'static str, field: &'static str, fmt: Fmt) -> Column {
    Column {
        header,
        field,
        fmt,
        max: 0,
    }
}

/// A text column cut to `max` characters.
pub const fn text(header: &'static str, field: &'static str, max: usize) -> Column {
    Column {
        header,
        field,
        fmt: Fmt::Text,
        max,
    }
}

/// The aligned table of `rows` under `columns`' headers, one line each,
/// ending in a newline; columns are two spaces apart and lines carry no
/// trailing spaces.
pub fn render(columns: &[Column], rows: &[Value]) -> String {
    let now = now_ms();
    let mut cells: Vec<Vec<String>> = Vec::with_capacity(rows.len() + 1);
    cells.push(columns.iter().map(|c| c.header.to_owned()).collect());
    for row in rows {
        cells.push(columns.iter().map(|c| cell(c, row, now)).collect());
    }
    let widths: Vec<usize> = (0..columns.len())
        .map(|i| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in &cells {
        let mut line = String::new();
        for (i, value) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(value);
            if i + 1 < row.len() {
                let pad = widths[i].saturating_sub(value.chars().count());
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The value at a dotted `path` of `v` (`Null` when absent).
pub fn lookup<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .filter(|p| !p.is_empty())
        .fold(v, |v, key| v.get(key).unwrap_or(&Value::Null))
}

fn cell(c: &Column, row: &Value, now: i64) -> String {
    let v = lookup(row, c.field);
    let s = match c.fmt {
        Fmt::KeyState => key_state(row, now).to_owned(),
        _ if v.is_null() => String::new(),
        Fmt::Text => match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        },
        Fmt::Time => v.as_i64().map_or_else(|| v.to_string(), rfc3339),
        Fmt::Bool => match v.as_bool() {
            Some(true) => "yes".to_owned(),
            Some(false) => "no".to_owned(),
            None => v.to_string(),
        },
        Fmt::List => match v.as_array() {
            Some(items) => items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(","),
            None => v.to_string(),
        },
    };
    let s: String = s
        .chars()
        .map(|ch| if ch.is_control() { ' ' } else { ch })
        .collect();
    let s = s.trim();
    if s.is_empty() {
        return "-".to_owned();
    }
    if c.max > 0 && s.chars().count() > c.max {
        let mut cut: String = s.chars().take(c.max.saturating_sub(1)).collect();
        cut.push('…');
        return cut;
    }
    s.to_owned()
}

fn key_state(row: &Value, now: i64) -> &'static str {
    if !row["revoked_at"].is_null() {
        "revoked"
    } else if row["expires_at"].as_i64().is_some_and(|t| t <= now) {
        "expired"
    } else {
        "active"
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Unix milliseconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_735_689_599_999), "2024-12-31T23:59:59Z");
        assert_eq!(rfc3339(-1000), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn columns_align_and_blanks_show_a_dash() {
        let columns = [
            col("ID", "id", Fmt::Text),
            col("ROUTES", "scopes.routes", Fmt::List),
            col("OK", "ok", Fmt::Bool),
            text("NOTE", "note", 5),
            col("STATE", "", Fmt::KeyState),
        ];
        let rows = [
            json!({"id": "a", "scopes": {"routes": ["r1", "r2"]}, "ok": true, "note": "x\ny"}),
            json!({"id": "longer", "ok": false, "note": "", "revoked_at": 5}),
            json!({"id": "e", "note": "a long note", "expires_at": 1}),
        ];
        assert_eq!(
            render(&columns, &rows),
            "ID      ROUTES  OK   NOTE   STATE\n\
             a       r1,r2   yes  x y    active\n\
             longer  -       no   -      revoked\n\
             e       -       -    a lo…  expired\n"
        );
    }
}
