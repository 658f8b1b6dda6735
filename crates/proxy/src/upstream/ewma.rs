//! Peak-EWMA latency: an exponentially weighted moving average over time
//! (not over samples) that jumps straight up to a slower sample.
//!
//! Between samples the value decays toward zero with time constant
//! [`DECAY`], so a target that stopped getting traffic after one slow answer
//! becomes attractive again and is re-measured. A sample `rtt` taken `dt`
//! after the last one gives `v·w + rtt·(1 − w)` with `w = e^(−dt/τ)`, unless
//! `rtt` exceeds the decayed value, which then becomes `rtt` at once ("peak").
//!
//! Two atomics (value, stamp) are updated without a lock; a race can lose a
//! sample, which only blurs an estimate that is a heuristic anyway.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Time constant of the decay.
pub(crate) const DECAY: Duration = Duration::from_secs(10);

/// Estimate for a target never measured: plausible, so new targets are
/// tried without being flooded.
const DEFAULT_RTT: Duration = Duration::from_millis(30);

/// Lock-free peak-EWMA; values are `f64` nanoseconds, times are pool-clock
/// nanoseconds.
#[derive(Debug)]
pub(crate) struct PeakEwma {
    value_bits: AtomicU64,
    stamp: AtomicU64,
}

fn weight(now: u64, stamp: u64) -> f64 {
    let dt = now.saturating_sub(stamp) as f64;
    (-dt / DECAY.as_nanos() as f64).exp()
}

impl PeakEwma {
    pub(crate) fn new(now: u64) -> PeakEwma {
        PeakEwma {
            value_bits: AtomicU64::new((DEFAULT_RTT.as_nanos() as f64).to_bits()),
            stamp: AtomicU64::new(now),
        }
    }

    /// The estimate at `now`, decayed since the last sample.
    pub(crate) fn get(&self, now: u64) -> f64 {
        let v = f64::from_bits(self.value_bits.load(Ordering::Relaxed));
        v * weight(now, self.stamp.load(Ordering::Relaxed))
    }

    /// Add a sample of `rtt` nanoseconds. `at_least_current` (for failures)
    /// treats the sample as no faster than the last estimate, so the value
    /// holds instead of decaying: a fast error (connection refused) must not
    /// make a broken target look fast.
    pub(crate) fn observe(&self, now: u64, rtt: f64, at_least_current: bool) {
        let w = weight(now, self.stamp.load(Ordering::Relaxed));
        let mut old_bits = self.value_bits.load(Ordering::Relaxed);
        loop {
            let old = f64::from_bits(old_bits);
            let decayed = old * w;
            let sample = if at_least_current { rtt.max(old) } else { rtt };
            let new = if sample > decayed {
                sample
            } else {
                decayed + sample * (1.0 - w)
            };
            match self.value_bits.compare_exchange_weak(
                old_bits,
                new.to_bits(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(current) => old_bits = current,
            }
        }
        self.stamp.fetch_max(now, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: f64 = 1e6;
    const SEC: u64 = 1_000_000_000;

    #[test]
    fn peak_jumps_up_and_decays_down() {
        let e = PeakEwma::new(0);
        assert!((e.get(0) - 30.0 * MS).abs() < 1.0);
        // A slow sample is taken at once.
        e.observe(SEC, 500.0 * MS, false);
        assert!((e.get(SEC) - 500.0 * MS).abs() < 1.0);
        // Fast samples pull it down gradually, not at once.
        e.observe(2 * SEC, 10.0 * MS, false);
        let after_one = e.get(2 * SEC);
        assert!(
            after_one < 500.0 * MS && after_one > 400.0 * MS,
            "{after_one}"
        );
        for s in 3..60 {
            e.observe(s * SEC, 10.0 * MS, false);
        }
        let settled = e.get(59 * SEC);
        assert!(settled < 15.0 * MS, "{settled}");
    }

    #[test]
    fn idle_value_decays_toward_zero() {
        let e = PeakEwma::new(0);
        e.observe(0, 800.0 * MS, false);
        assert!(e.get(10 * SEC) < 800.0 * MS * 0.37);
        assert!(e.get(100 * SEC) < 1.0 * MS);
    }

    #[test]
    fn failures_never_lower_the_estimate() {
        let e = PeakEwma::new(0);
        e.observe(0, 200.0 * MS, false);
        e.observe(SEC, 1.0 * MS, true);
        // The estimate holds: neither the fast sample nor the decay applies.
        assert!((e.get(SEC) - 200.0 * MS).abs() < 1.0);
        // A successful fast sample does pull it down over time.
        e.observe(2 * SEC, 1.0 * MS, false);
        assert!(e.get(2 * SEC) < 200.0 * MS);
    }
}
