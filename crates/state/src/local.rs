//! The in-memory [`RateLimiter`] for a single node: GCRA (the generic cell
//! rate algorithm), which behaves exactly like a token bucket but keeps one
//! number per key, the "theoretical arrival time" (TAT): the instant at which
//! the bucket would be full again. Spending `n` tokens pushes the TAT forward
//! by `n` emission intervals; a request is allowed while the TAT stays within
//! `burst` intervals of now.
//!
//! Buckets live in a sharded map ([`DashMap`]); each acquire takes one shard
//! lock for a few arithmetic operations and never across an `.await`, so it
//! is O(1) and always [`LimitFuture::Ready`]. Time comes from
//! [`tokio::time::Instant`], so paused-time tests drive it.
//!
//! Memory is bounded two ways: [`LocalLimiter::sweep`] drops full buckets (a
//! full bucket is the same as no bucket), and a key cap
//! ([`LocalLimiter::with_max_keys`]) stops growth between sweeps.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use dashmap::DashMap;
use tokio::time::Instant;

use crate::limiter::{LimitDecision, LimitFuture, Quota, RateLimiter};

/// Default key cap: about 100 bytes per bucket, so roughly 25 MiB at most.
pub const DEFAULT_MAX_KEYS: usize = 262_144;

/// Shortest gap between two sweeps forced by hitting the key cap, so a full
/// map of live buckets does not turn every new key into an O(n) scan.
const FORCED_SWEEP_EVERY: Duration = Duration::from_secs(1);

/// One bucket's state, in "scaled" time: nanoseconds multiplied by the
/// quota's `rate`, which makes the emission interval (`period / rate`) the
/// exact integer `period` in nanoseconds, with no rounding.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Theoretical arrival time, scaled by `rate`.
    tat: u128,
    /// The rate `tat` is scaled by; a quota change (config reload) rescales.
    rate: u32,
}

/// In-memory GCRA rate limiter for one node. Share it behind an `Arc`; call
/// [`sweep`](Self::sweep) every few seconds from a background task.
///
/// When the key cap is reached and a sweep frees nothing, a request for a
/// new key is decided as if its bucket were full but is not remembered (fail
/// open: availability over strictness); [`overflows`](Self::overflows) counts
/// these so an alert can fire.
#[derive(Debug)]
pub struct LocalLimiter {
    buckets: DashMap<Box<str>, Bucket>,
    /// Number of buckets, kept beside the map because `DashMap::len` locks
    /// every shard.
    len: AtomicUsize,
    max_keys: usize,
    /// Time zero for the nanosecond clock.
    epoch: Instant,
    /// When the last cap-forced sweep ran, in nanoseconds since `epoch`.
    last_forced_sweep: AtomicU64,
    overflows: AtomicU64,
}

impl Default for LocalLimiter {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalLimiter {
    /// A limiter holding at most [`DEFAULT_MAX_KEYS`] buckets.
    pub fn new() -> Self {
        Self::with_max_keys(DEFAULT_MAX_KEYS)
    }

    /// A limiter holding at most `max_keys` buckets (at least one).
    pub fn with_max_keys(max_keys: usize) -> Self {
        LocalLimiter {
            buckets: DashMap::new(),
            len: AtomicUsize::new(0),
            max_keys: max_keys.max(1),
            epoch: Instant::now(),
            last_forced_sweep: AtomicU64::new(0),
            overflows: AtomicU64::new(0),
        }
    }

    /// Number of buckets held (buckets not yet swept may be full).
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Whether no bucket is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Requests decided without keeping state because the key cap was reached.
    pub fn overflows(&self) -> u64 {
        self.overflows.load(Ordering::Relaxed)
    }

    /// Drop every bucket that has refilled completely; returns how many were
    /// dropped. O(buckets), shard by shard: run it off the request path.
    pub fn sweep(&self) -> usize {
        let now = self.now_nanos();
        let mut removed = 0;
        self.buckets.retain(|_, b| {
            let full = b.tat <= now * u128::from(b.rate);
            removed += usize::from(full);
            !full
        });
        self.len.fetch_sub(removed, Ordering::Relaxed);
        removed
    }

    /// Nanoseconds since `epoch`.
    fn now_nanos(&self) -> u128 {
        Instant::now()
            .saturating_duration_since(self.epoch)
            .as_nanos()
    }

    /// Decide for `key`, creating its bucket if the request is allowed.
    fn decide(&self, key: &str, quota: Quota, cost: u32) -> LimitDecision {
        let now = self.now_nanos();
        if let Some(mut bucket) = self.buckets.get_mut(key) {
            let (decision, tat) = gcra(Some(bucket.value()), now, quota, cost);
            if let Some(tat) = tat {
                *bucket = Bucket {
                    tat,
                    rate: quota.rate,
                };
            }
            return decision;
        }
        let (decision, tat) = gcra(None, now, quota, cost);
        // A refused or free request leaves a full bucket: nothing to keep.
        let Some(tat) = tat.filter(|&t| t > now * u128::from(quota.rate)) else {
            return decision;
        };
        if self.len() >= self.max_keys && !self.make_room(now) {
            self.overflows.fetch_add(1, Ordering::Relaxed);
            return decision;
        }
        let fresh = Bucket {
            tat,
            rate: quota.rate,
        };
        match self.buckets.entry(Box::from(key)) {
            dashmap::Entry::Vacant(slot) => {
                slot.insert(fresh);
                self.len.fetch_add(1, Ordering::Relaxed);
                decision
            }
            // Another thread created the bucket between our two lookups:
            // decide against its state instead.
            dashmap::Entry::Occupied(mut slot) => {
                let (decision, tat) = gcra(Some(slot.get()), now, quota, cost);
                if let Some(tat) = tat {
                    *slot.get_mut() = Bucket {
                        tat,
                        rate: quota.rate,
                    };
                }
                decision
            }
        }
    }

    /// At the cap: sweep (at most once per [`FORCED_SWEEP_EVERY`]) and say
    /// whether there is room now.
    fn make_room(&self, now: u128) -> bool {
        let now64 = u64::try_from(now).unwrap_or(u64::MAX);
        let last = self.last_forced_sweep.load(Ordering::Relaxed);
        let due = now64.saturating_sub(last) >= nanos(FORCED_SWEEP_EVERY) || last == 0;
        if due
            && self
                .last_forced_sweep
                .compare_exchange(last, now64.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.sweep();
        }
        self.len() < self.max_keys
    }
}

impl RateLimiter for LocalLimiter {
    fn acquire<'a>(&'a self, key: &'a str, quota: Quota, cost: u32) -> LimitFuture<'a> {
        LimitFuture::Ready(self.decide(key, quota, cost))
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Scaled time back to a duration, rounding up so a client that waits
/// `retry_after` is never refused for being a nanosecond early.
fn unscale(scaled: u128, rate: u32) -> Duration {
    let ns = scaled.div_ceil(u128::from(rate));
    Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
}

/// The GCRA step for a bucket (`None`: full) at `now` nanoseconds. Returns
/// the decision and, when allowed, the new scaled TAT to store.
fn gcra(
    bucket: Option<&Bucket>,
    now: u128,
    quota: Quota,
    cost: u32,
) -> (LimitDecision, Option<u128>) {
    let burst = u64::from(quota.burst);
    if quota.rate == 0 {
        let never = LimitDecision {
            allowed: false,
            remaining: 0,
            reset_after: Duration::MAX,
            retry_after: Duration::MAX,
        };
        return (never, None);
    }
    let period = quota.period.as_nanos();
    if period == 0 {
        let free = LimitDecision {
            allowed: true,
            remaining: burst,
            reset_after: Duration::ZERO,
            retry_after: Duration::ZERO,
        };
        return (free, None);
    }
    let rate = u128::from(quota.rate);
    let now_s = now * rate;
    // The bucket's TAT in this quota's scale; a past TAT means a full bucket.
    let tat = bucket
        .map(|b| {
            if b.rate == quota.rate {
                b.tat
            } else {
                b.tat / u128::from(b.rate.max(1)) * rate
            }
        })
        .unwrap_or(0)
        .max(now_s);
    // How far ahead of now the TAT may run: `burst` emission intervals.
    let window = u128::from(burst) * period;
    let remaining_at =
        |tat: u128| u64::try_from(window.saturating_sub(tat - now_s) / period).unwrap_or(u64::MAX);
    let refused = |retry_after| LimitDecision {
        allowed: false,
        remaining: remaining_at(tat),
        reset_after: unscale(tat - now_s, quota.rate),
        retry_after,
    };
    if u64::from(cost) > burst {
        return (refused(Duration::MAX), None);
    }
    let new_tat = tat + u128::from(cost) * period;
    let ahead = new_tat - now_s;
    if ahead > window {
        return (refused(unscale(ahead - window, quota.rate)), None);
    }
    let allowed = LimitDecision {
        allowed: true,
        remaining: remaining_at(new_tat),
        reset_after: unscale(ahead, quota.rate),
        retry_after: Duration::ZERO,
    };
    (allowed, Some(new_tat))
}

#[cfg(test)]
mod tests;
