//! Prices in config: US dollars per million tokens, written as a decimal
//! string (`"2.50"`) or a number (`2.5`), held as integer micro-dollars.
//!
//! Exact by construction: a number is read through its shortest decimal
//! form (`0.075` stays `0.075`, never `0.07499999…`) and the digits are
//! parsed as a decimal, so no `f64` arithmetic ever touches the value. More
//! than six decimals cannot be held in micro-dollars and is refused.
//! Negative and absurd values parse (so that validation can report them
//! with their path) and are rejected by `validate`.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// USD per million tokens, in micro-dollars (`2.50` → `2_500_000`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UsdPerMillion(pub i64);

impl UsdPerMillion {
    /// Micro-dollars per million tokens.
    pub const fn micros(self) -> i64 {
        self.0
    }
}

/// Parse a decimal dollar amount (`"2.50"`, `"0.075"`, `"15"`, `"-1"`) to
/// micro-dollars, exactly.
pub fn parse_usd(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |p: &str| p.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() && frac.is_empty() || !all_digits(whole) || !all_digits(frac) {
        return Err(format!(
            "`{t}` is not a dollar amount; write it like `2.50` or `0.075`"
        ));
    }
    if frac.len() > 6 {
        return Err(format!(
            "`{t}` has more than 6 decimals; prices are held in micro-dollars"
        ));
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole
            .parse()
            .map_err(|_| format!("`{t}` is out of range"))?
    };
    let frac_micros: i64 = format!("{frac:0<6}")
        .parse()
        .map_err(|_| format!("`{t}` is not a dollar amount"))?;
    let micros = whole
        .checked_mul(1_000_000)
        .and_then(|w| w.checked_add(frac_micros))
        .ok_or_else(|| format!("`{t}` is out of range"))?;
    Ok(if neg { -micros } else { micros })
}

impl fmt::Display for UsdPerMillion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_usd(f, self.0)
    }
}

/// `micros` as the shortest exact decimal dollar amount (`2.5`, `15`).
fn write_usd(f: &mut fmt::Formatter<'_>, micros: i64) -> fmt::Result {
    let sign = if micros < 0 { "-" } else { "" };
    let abs = micros.unsigned_abs();
    let frac = format!("{:06}", abs % 1_000_000);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        write!(f, "{sign}{}", abs / 1_000_000)
    } else {
        write!(f, "{sign}{}.{frac}", abs / 1_000_000)
    }
}

impl Serialize for UsdPerMillion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for UsdPerMillion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(MicrosVisitor(
            "US dollars per million tokens, like `2.50` or \"0.075\"",
        ))
        .map(UsdPerMillion)
    }
}

/// Reads a dollar amount written as a number or a decimal string into
/// micro-dollars; the `&str` is what the error says was expected.
struct MicrosVisitor(&'static str);

impl Visitor<'_> for MicrosVisitor {
    type Value = i64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        parse_usd(v).map_err(E::custom)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        parse_usd(&v.to_string()).map_err(E::custom)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        parse_usd(&v.to_string()).map_err(E::custom)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        if !v.is_finite() {
            return Err(E::custom("a dollar amount must be a finite number"));
        }
        // `{}` prints the shortest decimal that reads back as `v`, which is
        // the literal the user wrote for any amount with up to 15
        // significant digits.
        parse_usd(&format!("{v}")).map_err(E::custom)
    }
}

impl JsonSchema for UsdPerMillion {
    fn schema_name() -> Cow<'static, str> {
        "UsdPerMillion".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": ["number", "string"],
            "pattern": "^[0-9]*(\\.[0-9]{1,6})?$",
            "description": "US dollars per million tokens, at most 6 decimals (e.g. `2.50`)."
        })
    }
}

/// An amount of US dollars (a budget), in micro-dollars; written like a
/// price (`25`, `"0.50"`), at most 6 decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Usd(pub i64);

impl Usd {
    /// Micro-dollars.
    pub const fn micros(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Usd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_usd(f, self.0)
    }
}

impl Serialize for Usd {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Usd {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(MicrosVisitor("US dollars, like `25` or \"0.50\""))
            .map(Usd)
    }
}

impl JsonSchema for Usd {
    fn schema_name() -> Cow<'static, str> {
        "Usd".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": ["number", "string"],
            "pattern": "^[0-9]*(\\.[0-9]{1,6})?$",
            "description": "US dollars, at most 6 decimals (e.g. `25` or `0.50`)."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_strings_and_numbers_are_exact() {
        assert_eq!(parse_usd("2.50"), Ok(2_500_000));
        assert_eq!(parse_usd("0.075"), Ok(75_000));
        assert_eq!(parse_usd("15"), Ok(15_000_000));
        assert_eq!(parse_usd(".5"), Ok(500_000));
        assert_eq!(parse_usd("0.000001"), Ok(1));
        assert_eq!(parse_usd("-1"), Ok(-1_000_000));
        let p: UsdPerMillion = serde_json::from_str("0.075").unwrap();
        assert_eq!(p, UsdPerMillion(75_000));
        let p: UsdPerMillion = serde_json::from_str("\"1.10\"").unwrap();
        assert_eq!(p, UsdPerMillion(1_100_000));
        let p: UsdPerMillion = serde_json::from_str("3").unwrap();
        assert_eq!(p, UsdPerMillion(3_000_000));
        assert_eq!(UsdPerMillion(75_000).to_string(), "0.075");
        assert_eq!(UsdPerMillion(3_000_000).to_string(), "3");
    }

    #[test]
    fn bad_amounts_are_refused() {
        assert!(parse_usd("0.0000001").is_err());
        assert!(parse_usd("abc").is_err());
        assert!(parse_usd("1e3").is_err());
        assert!(parse_usd(".").is_err());
        assert!(parse_usd("99999999999999999").is_err());
        assert!(serde_json::from_str::<UsdPerMillion>("true").is_err());
    }
}
