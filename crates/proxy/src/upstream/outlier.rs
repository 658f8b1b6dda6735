//! Passive health (outlier ejection): a target that fails `threshold` live
//! requests in a row is taken out of rotation for a while.
//!
//! The ejection time is `base · 2^level`, capped at `max`; each ejection
//! raises the level by one. The level decays by one for every `base` the
//! target then stays in service, so a target that flaps is kept out longer
//! and longer, and one that recovered for good starts again from `base`.
//! Failures reported while ejected (requests already in flight) are ignored;
//! a success resets the failure streak. Nothing is scheduled: ejection ends
//! when `now` passes the deadline.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use sy_config::PassiveHealthSpec;

use super::target::duration_nanos;

/// Levels beyond this cannot make a difference (2^40 · base is past any max).
const MAX_LEVEL: u32 = 40;

/// Outlier state of one target; times are pool-clock nanoseconds.
#[derive(Debug)]
pub(crate) struct Outlier {
    threshold: u32,
    base: u64,
    max: u64,
    streak: AtomicU32,
    /// Ejected while `now < ejected_until`.
    ejected_until: AtomicU64,
    level: AtomicU32,
    /// When the level last decayed (or the last ejection ended).
    decay_from: AtomicU64,
}

impl Outlier {
    pub(crate) fn new(spec: &PassiveHealthSpec) -> Outlier {
        Outlier {
            threshold: spec.consecutive_failures.max(1),
            base: duration_nanos(spec.ejection_time.get()).max(1),
            max: duration_nanos(spec.max_ejection_time.get()),
            streak: AtomicU32::new(0),
            ejected_until: AtomicU64::new(0),
            level: AtomicU32::new(0),
            decay_from: AtomicU64::new(0),
        }
    }

    pub(crate) fn is_ejected(&self, now: u64) -> bool {
        now < self.ejected_until.load(Ordering::Relaxed)
    }

    pub(crate) fn on_success(&self, now: u64) {
        if self.streak.load(Ordering::Relaxed) != 0 {
            self.streak.store(0, Ordering::Relaxed);
        }
        self.decay(now);
    }

    /// Count a failure; returns the ejection time if this one ejected.
    pub(crate) fn on_failure(&self, now: u64) -> Option<Duration> {
        let until = self.ejected_until.load(Ordering::Relaxed);
        if now < until {
            return None;
        }
        let streak = self
            .streak
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        if streak < self.threshold {
            return None;
        }
        self.decay(now);
        let level = self.level.load(Ordering::Relaxed);
        let duration = self
            .base
            .saturating_mul(1u64 << level.min(MAX_LEVEL))
            .min(self.max.max(self.base));
        let new_until = now.saturating_add(duration);
        // One racing failure wins the ejection; the others see it done.
        if self
            .ejected_until
            .compare_exchange(until, new_until, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return None;
        }
        self.streak.store(0, Ordering::Relaxed);
        self.level
            .store(level.saturating_add(1).min(MAX_LEVEL), Ordering::Relaxed);
        self.decay_from.store(new_until, Ordering::Relaxed);
        Some(Duration::from_nanos(duration))
    }

    /// Lower the level by one per whole `base` spent in service since
    /// `decay_from`.
    fn decay(&self, now: u64) {
        let level = self.level.load(Ordering::Relaxed);
        if level == 0 {
            return;
        }
        let from = self.decay_from.load(Ordering::Relaxed);
        let periods = now.saturating_sub(from) / self.base;
        if periods == 0 {
            return;
        }
        let drop_by = u32::try_from(periods).unwrap_or(u32::MAX);
        if self
            .decay_from
            .compare_exchange(
                from,
                from.saturating_add(periods.saturating_mul(self.base)),
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .is_ok()
        {
            let _ = self
                .level
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| {
                    Some(l.saturating_sub(drop_by))
                });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sy_config::DurationSpec;

    const SEC: u64 = 1_000_000_000;

    fn outlier() -> Outlier {
        Outlier::new(&PassiveHealthSpec {
            consecutive_failures: 3,
            ejection_time: DurationSpec::from_secs(10),
            max_ejection_time: DurationSpec::from_secs(40),
        })
    }

    fn fail_n(o: &Outlier, now: u64, n: u32) -> Option<Duration> {
        (0..n).filter_map(|_| o.on_failure(now)).last()
    }

    #[test]
    fn success_resets_the_streak() {
        let o = outlier();
        assert_eq!(fail_n(&o, 0, 2), None);
        o.on_success(0);
        assert_eq!(fail_n(&o, 0, 2), None);
        assert!(!o.is_ejected(0));
        assert_eq!(o.on_failure(0), Some(Duration::from_secs(10)));
        assert!(o.is_ejected(0));
    }

    #[test]
    fn ejection_doubles_up_to_max_then_decays() {
        let o = outlier();
        let mut now = 0;
        for expected in [10, 20, 40, 40] {
            assert_eq!(fail_n(&o, now, 3), Some(Duration::from_secs(expected)));
            assert!(o.is_ejected(now + expected * SEC - 1));
            // Failures while ejected are ignored.
            assert_eq!(fail_n(&o, now + SEC, 5), None);
            now += expected * SEC;
            assert!(!o.is_ejected(now));
        }
        // Level 4 decays one per 10 s in service: after 20 s, 40 s → 20 s... level 2.
        o.on_success(now + 20 * SEC);
        assert_eq!(fail_n(&o, now + 20 * SEC, 3), Some(Duration::from_secs(40)));
        now += 20 * SEC + 40 * SEC;
        // A long healthy stretch brings it back to the base time.
        o.on_success(now + 100 * SEC);
        assert_eq!(
            fail_n(&o, now + 100 * SEC, 3),
            Some(Duration::from_secs(10))
        );
    }
}
