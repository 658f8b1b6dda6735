//! One upstream server and its runtime state.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http::uri::{Authority, Scheme};
use tokio::time::Instant;

use super::breaker::{Breaker, BreakerState, Probe};
use super::ewma::PeakEwma;
use super::outlier::Outlier;

/// Called on target state changes; see [`super::Pool::set_event_listener`].
/// Runs inline on the request path (inside `finish`) or in the health task,
/// so it must be quick: bump a metric, log a line.
pub type EventListener = Arc<dyn Fn(&Target, TargetEvent) + Send + Sync>;

/// A change in a target's state, for metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetEvent {
    /// Passive health ejected the target for this long.
    Ejected {
        /// Ejection time (grows with repeated ejections).
        duration: Duration,
    },
    /// The circuit breaker moved to this state.
    BreakerChanged(BreakerState),
    /// Active health checks marked the target healthy or unhealthy.
    HealthChanged {
        /// The new state.
        healthy: bool,
    },
}

/// Nanoseconds since the pool was built: lets time live in `AtomicU64`s.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    epoch: Instant,
}

impl Clock {
    pub(crate) fn new() -> Clock {
        Clock {
            epoch: Instant::now(),
        }
    }

    /// Nanoseconds from the epoch to `at` (0 for earlier instants).
    pub(crate) fn nanos(&self, at: Instant) -> u64 {
        duration_nanos(at.saturating_duration_since(self.epoch))
    }
}

/// A duration in nanoseconds, saturating (584 years fit).
pub(crate) fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Active-health state: written by the health task, read by `select`.
#[derive(Debug)]
pub(crate) struct ActiveState {
    healthy: AtomicBool,
    ok_streak: AtomicU32,
    fail_streak: AtomicU32,
}

/// One upstream server: where it is, its weight, and what the pool has
/// learned about it. Shared as `Arc<Target>`; all state is atomics.
pub struct Target {
    index: usize,
    upstream: Arc<str>,
    url: Arc<str>,
    /// `authority` as a shared string, for the access log.
    label: Arc<str>,
    scheme: Scheme,
    authority: Authority,
    weight: u32,
    clock: Clock,
    in_flight: AtomicU32,
    pub(crate) ewma: PeakEwma,
    outlier: Option<Outlier>,
    breaker: Option<Breaker>,
    active: ActiveState,
    listener: Arc<OnceLock<EventListener>>,
}

/// What `compile` hands to [`Target::new`].
pub(crate) struct TargetParts {
    pub(crate) index: usize,
    pub(crate) upstream: Arc<str>,
    pub(crate) scheme: Scheme,
    pub(crate) authority: Authority,
    pub(crate) weight: u32,
    pub(crate) clock: Clock,
    pub(crate) outlier: Option<Outlier>,
    pub(crate) breaker: Option<Breaker>,
    pub(crate) listener: Arc<OnceLock<EventListener>>,
}

impl Target {
    pub(crate) fn new(p: TargetParts) -> Target {
        let url: Arc<str> = format!("{}://{}", p.scheme, p.authority).into();
        Target {
            index: p.index,
            upstream: p.upstream,
            url,
            label: p.authority.as_str().into(),
            scheme: p.scheme,
            authority: p.authority,
            weight: p.weight,
            ewma: PeakEwma::new(p.clock.nanos(Instant::now())),
            clock: p.clock,
            in_flight: AtomicU32::new(0),
            outlier: p.outlier,
            breaker: p.breaker,
            active: ActiveState {
                healthy: AtomicBool::new(true),
                ok_streak: AtomicU32::new(0),
                fail_streak: AtomicU32::new(0),
            },
            listener: p.listener,
        }
    }

    /// Index in the pool.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The upstream's name (a metric label).
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// `scheme://host:port`, port always explicit (a metric label).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    /// `host:port`; the port is filled in from the scheme when the URL had none.
    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// `host:port` as a shared string (the access log's `target`): a
    /// request's record takes a reference instead of a copy.
    pub fn label(&self) -> &Arc<str> {
        &self.label
    }

    /// Configured weight; 0 means drained.
    pub fn weight(&self) -> u32 {
        self.weight
    }

    /// Attempts started and not yet finished or dropped.
    pub fn in_flight(&self) -> u32 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// The peak-EWMA latency estimate now (decays toward zero while idle).
    pub fn ewma_latency(&self) -> Duration {
        let ns = self.ewma.get(self.now());
        Duration::from_nanos(ns as u64)
    }

    /// Whether active health checks consider the target healthy (always true
    /// without active checks; targets start healthy).
    pub fn is_healthy(&self) -> bool {
        self.active.healthy.load(Ordering::Relaxed)
    }

    /// Whether passive health has the target ejected right now.
    pub fn is_ejected(&self) -> bool {
        let now = self.now();
        self.outlier.as_ref().is_some_and(|o| o.is_ejected(now))
    }

    /// Circuit-breaker state (always `Closed` without a breaker). An open
    /// circuit whose `open_for` has passed reports `HalfOpen`: the next
    /// selection will probe it.
    pub fn breaker_state(&self) -> BreakerState {
        let now = self.now();
        self.breaker
            .as_ref()
            .map_or(BreakerState::Closed, |b| b.state(now))
    }

    fn now(&self) -> u64 {
        self.clock.nanos(Instant::now())
    }

    /// Selectable now, without reserving anything.
    pub(crate) fn is_eligible(&self, now: u64) -> bool {
        self.weight > 0
            && self.is_healthy()
            && !self.outlier.as_ref().is_some_and(|o| o.is_ejected(now))
            && self.breaker.as_ref().is_none_or(|b| b.is_available(now))
    }

    /// Whether the breaker alone keeps the target out (for [`super::NoTarget`]).
    pub(crate) fn is_circuit_blocked(&self, now: u64) -> bool {
        self.breaker.as_ref().is_some_and(|b| !b.is_available(now))
    }

    /// Pass the breaker: `None` if refused, `Some(probe)` otherwise, where
    /// `probe` holds a half-open slot.
    pub(crate) fn admit(&self, now: u64) -> Option<Option<Probe>> {
        let Some(breaker) = &self.breaker else {
            return Some(None);
        };
        let (admission, entered_half_open) = breaker.admit(now)?;
        if entered_half_open {
            self.emit(TargetEvent::BreakerChanged(BreakerState::HalfOpen));
        }
        Some(admission)
    }

    /// Give back a half-open slot that was never used.
    pub(crate) fn release_probe(&self, probe: Probe) {
        if let Some(b) = &self.breaker {
            b.release(probe);
        }
    }

    pub(crate) fn attempt_started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn attempt_ended(&self) {
        // Saturating: never wraps even if a guard were double-counted.
        let _ = self
            .in_flight
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    /// Feed a finished attempt into passive health and the breaker.
    pub(crate) fn record(&self, failed: bool, probe: Option<Probe>) {
        let now = self.now();
        if failed {
            if let Some(d) = self.outlier.as_ref().and_then(|o| o.on_failure(now)) {
                self.emit(TargetEvent::Ejected { duration: d });
            }
            if let Some(state) = self.breaker.as_ref().and_then(|b| b.on_failure(now, probe)) {
                self.emit(TargetEvent::BreakerChanged(state));
            }
        } else {
            if let Some(o) = &self.outlier {
                o.on_success(now);
            }
            if let Some(state) = self.breaker.as_ref().and_then(|b| b.on_success(probe)) {
                self.emit(TargetEvent::BreakerChanged(state));
            }
        }
    }

    pub(crate) fn observe_latency(&self, latency: Duration, at_least_current: bool) {
        self.ewma
            .observe(self.now(), duration_nanos(latency) as f64, at_least_current);
    }

    /// Feed one active probe result; flips health after enough in a row.
    pub(crate) fn record_probe(&self, ok: bool, healthy_after: u32, unhealthy_after: u32) {
        let a = &self.active;
        let flip_to = if ok {
            a.fail_streak.store(0, Ordering::Relaxed);
            let n = a
                .ok_streak
                .fetch_add(1, Ordering::Relaxed)
                .saturating_add(1);
            (n >= healthy_after).then_some(true)
        } else {
            a.ok_streak.store(0, Ordering::Relaxed);
            let n = a
                .fail_streak
                .fetch_add(1, Ordering::Relaxed)
                .saturating_add(1);
            (n >= unhealthy_after).then_some(false)
        };
        if let Some(healthy) = flip_to
            && a.healthy.swap(healthy, Ordering::Relaxed) != healthy
        {
            self.emit(TargetEvent::HealthChanged { healthy });
        }
    }

    fn emit(&self, event: TargetEvent) {
        if let Some(listener) = self.listener.get() {
            listener(self, event);
        }
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("url", &self.url)
            .field("weight", &self.weight)
            .field("in_flight", &self.in_flight())
            .field("healthy", &self.is_healthy())
            .finish()
    }
}
