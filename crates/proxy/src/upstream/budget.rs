//! Retry budget (after Finagle and Linkerd): retries may add at most a
//! fraction of the traffic, so a struggling upstream is not buried under
//! retries of its own failures.
//!
//! Over a sliding window of [`WINDOW_SECS`] seconds, retries allowed =
//! `min_per_sec · WINDOW_SECS + ratio · requests`. Every client request
//! [`deposit`](RetryBudget::deposit)s; each retry must
//! [`try_withdraw`](RetryBudget::try_withdraw). `min_per_sec` keeps low-traffic
//! upstreams retrying; it is counted over the whole window, so a quiet pool
//! may spend it in one burst.
//!
//! The window is a ring of one-second buckets, each one `AtomicU64` holding
//! `(second, count)`, so counting is a single compare-and-swap and a stale
//! bucket is recycled in the same step. Lock-free and exact except that
//! concurrent withdrawals landing in different seconds may overshoot by one.

use std::sync::atomic::{AtomicU64, Ordering};

use sy_config::RetrySpec;
use tokio::time::Instant;

/// Seconds covered by the sliding window (its oldest bucket is partial).
pub const WINDOW_SECS: u32 = 10;

const BUCKETS: usize = WINDOW_SECS as usize;

/// A pool's retry budget. Cheap to share by reference; all methods take `&self`.
#[derive(Debug)]
pub struct RetryBudget {
    ratio: f64,
    min_per_sec: u32,
    epoch: Instant,
    deposits: [AtomicU64; BUCKETS],
    withdrawals: [AtomicU64; BUCKETS],
}

fn pack(second: u32, count: u32) -> u64 {
    (u64::from(second) << 32) | u64::from(count)
}

fn unpack(word: u64) -> (u32, u32) {
    ((word >> 32) as u32, word as u32)
}

fn slot(second: u32) -> usize {
    second as usize % BUCKETS
}

/// What `word` would hold after counting one more in `second`.
fn bumped(word: u64, second: u32) -> u64 {
    match unpack(word) {
        (s, n) if s == second => pack(second, n.saturating_add(1)),
        _ => pack(second, 1),
    }
}

/// Sum of the buckets that fall in the window ending at `second`.
fn window_sum(buckets: &[AtomicU64; BUCKETS], second: u32) -> u64 {
    buckets
        .iter()
        .map(|b| unpack(b.load(Ordering::Relaxed)))
        .filter(|(s, _)| second.wrapping_sub(*s) < WINDOW_SECS)
        .map(|(_, n)| u64::from(n))
        .sum()
}

impl RetryBudget {
    /// A budget allowing `ratio` retries per request plus `min_per_sec`
    /// retries per second. A negative or NaN ratio counts as 0.
    pub fn new(min_per_sec: u32, ratio: f64) -> RetryBudget {
        RetryBudget {
            ratio: if ratio.is_finite() && ratio > 0.0 {
                ratio
            } else {
                0.0
            },
            min_per_sec,
            epoch: Instant::now(),
            deposits: Default::default(),
            withdrawals: Default::default(),
        }
    }

    /// The budget a [`RetrySpec`] asks for.
    pub fn from_spec(spec: &RetrySpec) -> RetryBudget {
        RetryBudget::new(spec.budget_min_per_sec, spec.budget_ratio)
    }

    /// Seconds since the budget was made, offset so that the epoch's own
    /// second never matches an untouched bucket (which reads second 0).
    fn second(&self) -> u32 {
        let secs = Instant::now()
            .saturating_duration_since(self.epoch)
            .as_secs();
        (secs as u32).wrapping_add(WINDOW_SECS)
    }

    /// Count one client request (once per request, not per attempt).
    pub fn deposit(&self) {
        let second = self.second();
        let bucket = &self.deposits[slot(second)];
        let _ = bucket.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |w| {
            Some(bumped(w, second))
        });
    }

    /// Take one retry from the budget; `false` means do not retry.
    pub fn try_withdraw(&self) -> bool {
        let second = self.second();
        let bucket = &self.withdrawals[slot(second)];
        loop {
            let allowed = self.allowed(second);
            let current = bucket.load(Ordering::Relaxed);
            if window_sum(&self.withdrawals, second) >= allowed {
                return false;
            }
            if bucket
                .compare_exchange_weak(
                    current,
                    bumped(current, second),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
            {
                return true;
            }
        }
    }

    /// Retries allowed in the window ending at `second`.
    fn allowed(&self, second: u32) -> u64 {
        let deposits = window_sum(&self.deposits, second) as f64;
        u64::from(self.min_per_sec) * u64::from(WINDOW_SECS) + (self.ratio * deposits) as u64
    }

    /// Retries still available now (for metrics and tests).
    pub fn remaining(&self) -> u64 {
        let second = self.second();
        self.allowed(second)
            .saturating_sub(window_sum(&self.withdrawals, second))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn minimum_alone_allows_min_per_sec_times_window() {
        let b = RetryBudget::new(2, 0.2);
        let granted = (0..100).filter(|_| b.try_withdraw()).count();
        assert_eq!(granted, 20);
        assert_eq!(b.remaining(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn ratio_of_requests_is_added() {
        let b = RetryBudget::new(1, 0.2);
        for _ in 0..100 {
            b.deposit();
        }
        // 1/s × 10 s + 20 % of 100.
        let granted = (0..1000).filter(|_| b.try_withdraw()).count();
        assert_eq!(granted, 30);
    }

    #[tokio::test(start_paused = true)]
    async fn window_slides() {
        let b = RetryBudget::new(0, 0.5);
        for _ in 0..10 {
            b.deposit();
        }
        assert_eq!((0..100).filter(|_| b.try_withdraw()).count(), 5);
        tokio::time::advance(Duration::from_secs(5)).await;
        // Still inside the window: nothing new.
        assert!(!b.try_withdraw());
        tokio::time::advance(Duration::from_secs(6)).await;
        // Old deposits and withdrawals have left the window.
        assert_eq!(b.remaining(), 0);
        for _ in 0..4 {
            b.deposit();
        }
        assert_eq!((0..100).filter(|_| b.try_withdraw()).count(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn zero_ratio_and_zero_min_allow_nothing() {
        let b = RetryBudget::new(0, f64::NAN);
        b.deposit();
        assert!(!b.try_withdraw());
    }
}
