//! Runtime state of one deployment, shared by every call and kept across
//! config reloads while the deployment is unchanged. Lock-free: atomics
//! only, read and written on the request path.
//!
//! Times are milliseconds since the state's `epoch`, read through
//! `tokio::time` so paused-clock tests drive them.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use sy_config::CooldownSpec;
use tokio::time::Instant;

/// Counters and timers of one deployment.
#[derive(Debug)]
pub struct DeploymentState {
    epoch: Instant,
    in_flight: AtomicU64,
    /// Moving average of time to first token in microseconds; 0 = untried.
    ttft_ewma_us: AtomicU64,
    /// Failures since the last success.
    failures: AtomicU32,
    /// Milliseconds since `epoch` until which the deployment is skipped.
    cooldown_until_ms: AtomicU64,
    rpm: Window,
    tpm: Window,
    /// Smooth weighted round robin's running weight.
    pub(super) swrr: AtomicI64,
}

impl Default for DeploymentState {
    fn default() -> Self {
        DeploymentState {
            epoch: Instant::now(),
            in_flight: AtomicU64::new(0),
            ttft_ewma_us: AtomicU64::new(0),
            failures: AtomicU32::new(0),
            cooldown_until_ms: AtomicU64::new(0),
            rpm: Window::default(),
            tpm: Window::default(),
            swrr: AtomicI64::new(0),
        }
    }
}

/// Weight of the newest sample in the latency average, in tenths.
const EWMA_NEW_TENTHS: u64 = 3;

impl DeploymentState {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The per-minute window index now (starting at 1; 0 = never used).
    fn minute(&self) -> u64 {
        self.now_ms() / 60_000 + 1
    }

    /// Calls in flight.
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// The average time to first token, `None` while untried.
    pub fn ttft(&self) -> Option<Duration> {
        match self.ttft_ewma_us.load(Ordering::Relaxed) {
            0 => None,
            us => Some(Duration::from_micros(us)),
        }
    }

    /// Failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures.load(Ordering::Relaxed)
    }

    /// Time left in cool-down, if cooling down.
    pub fn cooling_down(&self) -> Option<Duration> {
        let until = self.cooldown_until_ms.load(Ordering::Relaxed);
        let now = self.now_ms();
        (until > now).then(|| Duration::from_millis(until - now))
    }

    /// Skip this deployment for `duration` (never shortening a longer
    /// cool-down already running).
    pub fn cool_down(&self, duration: Duration) {
        let until = self
            .now_ms()
            .saturating_add(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX));
        self.cooldown_until_ms.fetch_max(until, Ordering::Relaxed);
    }

    /// A call answered: failures reset, latency sample taken.
    pub fn record_success(&self, ttft: Duration) {
        self.failures.store(0, Ordering::Relaxed);
        let sample = u64::try_from(ttft.as_micros()).unwrap_or(u64::MAX).max(1);
        let _ = self
            .ttft_ewma_us
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
                Some(match old {
                    0 => sample,
                    old => {
                        (old.saturating_mul(10 - EWMA_NEW_TENTHS))
                            .saturating_add(sample.saturating_mul(EWMA_NEW_TENTHS))
                            / 10
                    }
                })
            });
    }

    /// A call failed in a way that counts against the deployment. After
    /// `cooldown.failures` in a row it cools down for `cooldown.duration`;
    /// a `retry_after` the provider sent cools it down for that long at
    /// once.
    pub fn record_failure(&self, cooldown: &CooldownSpec, retry_after: Option<Duration>) {
        if let Some(wait) = retry_after {
            self.cool_down(wait);
        }
        let failures = self
            .failures
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        if failures >= cooldown.failures {
            self.failures.store(0, Ordering::Relaxed);
            self.cool_down(cooldown.duration.get());
        }
    }

    /// Take one request from the `rpm` window; `false` at the limit.
    pub fn try_request(&self, limit: Option<u64>) -> bool {
        match limit {
            None => true,
            Some(limit) => self.rpm.try_take(self.minute(), 1, limit),
        }
    }

    /// Reserve `tokens` in the `tpm` window; `None` at the limit, else the
    /// window they were taken from (for [`DeploymentState::settle_tokens`]).
    pub fn try_tokens(&self, limit: Option<u64>, tokens: u64) -> Option<u64> {
        let minute = self.minute();
        match limit {
            None => Some(minute),
            Some(limit) => self.tpm.try_take(minute, tokens, limit).then_some(minute),
        }
    }

    /// Replace a reservation of `reserved` tokens in window `minute` by
    /// the `actual` count (a window that has rolled over is left alone).
    pub fn settle_tokens(&self, minute: u64, reserved: u64, actual: u64) {
        self.tpm.adjust(minute, reserved, actual);
    }

    /// Requests and tokens used in the current minute.
    pub fn window_use(&self) -> (u64, u64) {
        let minute = self.minute();
        (self.rpm.used_in(minute), self.tpm.used_in(minute))
    }

    /// Count a call in flight until the guard drops.
    pub fn enter(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(Arc::clone(self))
    }
}

/// One call in flight at a deployment; dropping it ends the call.
#[derive(Debug)]
pub struct InFlight(Arc<DeploymentState>);

impl InFlight {
    /// The deployment's state.
    pub fn state(&self) -> &Arc<DeploymentState> {
        &self.0
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let _ = self
            .0
            .in_flight
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(1))
            });
    }
}

/// A fixed one-minute window. Roll-over and taking race benignly: at worst
/// a few units are counted in the wrong minute.
#[derive(Debug, Default)]
struct Window {
    minute: AtomicU64,
    used: AtomicU64,
}

impl Window {
    fn roll(&self, minute: u64) {
        let seen = self.minute.load(Ordering::Acquire);
        if seen != minute
            && self
                .minute
                .compare_exchange(seen, minute, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            self.used.store(0, Ordering::Release);
        }
    }

    fn try_take(&self, minute: u64, n: u64, limit: u64) -> bool {
        self.roll(minute);
        let before = self.used.fetch_add(n, Ordering::AcqRel);
        if before.saturating_add(n) > limit {
            self.used.fetch_sub(n, Ordering::AcqRel);
            return false;
        }
        true
    }

    fn adjust(&self, minute: u64, reserved: u64, actual: u64) {
        if self.minute.load(Ordering::Acquire) != minute {
            return;
        }
        if actual > reserved {
            self.used.fetch_add(actual - reserved, Ordering::AcqRel);
        } else {
            let give_back = reserved - actual;
            let _ = self
                .used
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                    Some(u.saturating_sub(give_back))
                });
        }
    }

    fn used_in(&self, minute: u64) -> u64 {
        if self.minute.load(Ordering::Acquire) == minute {
            self.used.load(Ordering::Acquire)
        } else {
            0
        }
    }
}
