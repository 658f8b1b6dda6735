use std::fmt;
use std::ops::{Add, AddAssign};

/// An amount of US dollars in integer micro-dollars (1 USD = 1,000,000).
///
/// Integer so that ledgers add up exactly: summing a million `f64` prices
/// drifts, summing micro-dollars does not. Saturating arithmetic: a budget
/// check must never wrap around to a small number.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Money(pub i64);

impl Money {
    /// Zero dollars.
    pub const ZERO: Money = Money(0);

    /// From micro-dollars.
    pub const fn from_micros(micros: i64) -> Self {
        Money(micros)
    }

    /// Micro-dollars.
    pub const fn micros(self) -> i64 {
        self.0
    }

    /// Cost of `tokens` at `micros_per_million` micro-dollars per million
    /// tokens, rounded up so the gateway never under-charges.
    pub fn for_tokens(tokens: u64, micros_per_million: i64) -> Self {
        // In 64 bits when the product fits, as it does for any real call:
        // a 128-bit division is a library call (~60 instructions, and a
        // call's cost and its estimate take ten of them).
        if let Some(product) = i64::try_from(tokens)
            .ok()
            .and_then(|t| t.checked_mul(micros_per_million))
            .and_then(|p| p.checked_add(999_999))
        {
            return Money(product.div_euclid(1_000_000));
        }
        let product = i128::from(tokens) * i128::from(micros_per_million);
        let rounded = (product + 999_999).div_euclid(1_000_000);
        Money(i64::try_from(rounded).unwrap_or(i64::MAX))
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 = self.0.saturating_add(rhs.0);
    }
}

impl Money {
    /// Dollars with six decimals, e.g. `0.000150`, written to `out`.
    /// By `itoa`, not `write!`: every priced answer's cost header is
    /// written with this.
    pub fn write_usd<W: fmt::Write + ?Sized>(self, out: &mut W) -> fmt::Result {
        if self.0 < 0 {
            out.write_str("-")?;
        }
        let abs = self.0.unsigned_abs();
        let mut digits = itoa::Buffer::new();
        out.write_str(digits.format(abs / 1_000_000))?;
        // Six digits with leading zeros: 1_000_000 + micros, first digit cut.
        let micros = digits.format(abs % 1_000_000 + 1_000_000);
        out.write_str(".")?;
        out.write_str(micros.get(1..).unwrap_or_default())
    }

    /// [`write_usd`](Self::write_usd) into text on the stack (the longest
    /// amount, 21 bytes, fits).
    pub fn usd(self) -> crate::ShortText {
        let mut text = crate::ShortText::new();
        let _ = self.write_usd(&mut text);
        text
    }
}

impl fmt::Display for Money {
    /// Dollars with six decimals, e.g. `0.000150`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_usd(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 64-bit path gives what the 128-bit one gives, at the edges of
    /// where it applies and past them, for negative prices too.
    #[test]
    fn token_cost_is_the_same_in_64_and_128_bits() {
        let wide = |tokens: u64, price: i64| {
            let rounded = (i128::from(tokens) * i128::from(price) + 999_999).div_euclid(1_000_000);
            Money(i64::try_from(rounded).unwrap_or(i64::MAX))
        };
        let tokens = [
            0,
            1,
            2,
            999_999,
            1_000_000,
            1 << 31,
            1 << 40,
            i64::MAX as u64,
            u64::MAX,
        ];
        let prices = [
            0,
            1,
            -1,
            2_500_000,
            -2_500_000,
            75_000_000,
            1 << 40,
            i64::MAX,
            i64::MIN,
        ];
        for t in tokens {
            for p in prices {
                assert_eq!(Money::for_tokens(t, p), wide(t, p), "{t} tokens at {p}");
            }
        }
    }

    #[test]
    fn token_cost_rounds_up() {
        // 1 token at $2.50 per million = 2.5 micro-dollars -> 3.
        assert_eq!(Money::for_tokens(1, 2_500_000), Money(3));
        assert_eq!(Money::for_tokens(1_000_000, 2_500_000), Money(2_500_000));
        assert_eq!(Money::for_tokens(0, 2_500_000), Money::ZERO);
    }

    #[test]
    fn display_and_saturation() {
        assert_eq!(Money(1_500_000).to_string(), "1.500000");
        assert_eq!(Money(-150).to_string(), "-0.000150");
        assert_eq!(Money(0).to_string(), "0.000000");
        assert_eq!(Money(7).to_string(), "0.000007");
        assert_eq!(Money(12_345_678_901).to_string(), "12345.678901");
        assert_eq!(Money(i64::MIN).to_string(), "-9223372036854.775808");
        for m in [1_500_000, -150, 0, 7, 12_345_678_901, i64::MIN, i64::MAX] {
            assert_eq!(Money(m).usd().as_str(), Money(m).to_string(), "{m}");
        }
        assert_eq!(Money(i64::MAX) + Money(1), Money(i64::MAX));
    }
}
