//! Retry back-off: exponential with full jitter, so retries from many clients
//! spread out instead of arriving in waves.

use std::time::Duration;

use super::target::duration_nanos;

/// How long to wait before retry number `retry` (1 for the first retry; 0 is
/// treated as 1): a uniformly random duration in `[0, min(max, base · 2^(retry−1))]`.
pub fn backoff(retry: u32, base: Duration, max: Duration) -> Duration {
    let ceiling = duration_nanos(ceiling(retry, base, max));
    Duration::from_nanos(fastrand::u64(0..=ceiling))
}

/// The upper bound of [`backoff`]'s jitter for `retry`.
fn ceiling(retry: u32, base: Duration, max: Duration) -> Duration {
    let doublings = retry.saturating_sub(1);
    let factor = 1u32.checked_shl(doublings).unwrap_or(u32::MAX);
    base.checked_mul(factor).unwrap_or(max).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn ceiling_doubles_and_caps() {
        let (base, max) = (25 * MS, 1000 * MS);
        let ceilings: Vec<_> = (0..9).map(|r| ceiling(r, base, max)).collect();
        assert_eq!(
            ceilings,
            [25, 25, 50, 100, 200, 400, 800, 1000, 1000]
                .map(|m| m * MS)
                .to_vec()
        );
        assert_eq!(ceiling(u32::MAX, base, max), max);
        assert_eq!(ceiling(40, Duration::from_secs(u64::MAX / 2), max), max);
    }

    #[test]
    fn jitter_stays_in_bounds_and_spreads() {
        let (base, max) = (25 * MS, 1000 * MS);
        for retry in 1..12 {
            let cap = ceiling(retry, base, max);
            let samples: Vec<_> = (0..200).map(|_| backoff(retry, base, max)).collect();
            assert!(samples.iter().all(|d| *d <= cap));
            // Full jitter: both halves of the range are used.
            assert!(samples.iter().any(|d| *d < cap / 2));
            assert!(samples.iter().any(|d| *d > cap / 2));
        }
        assert_eq!(backoff(3, Duration::ZERO, max), Duration::ZERO);
    }
}
