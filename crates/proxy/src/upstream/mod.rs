//! Upstream pools: which target gets the next request, and what the pool
//! learns from how that request went.
//!
//! A [`Pool`] is compiled once from an [`UpstreamSpec`]; it owns its
//! [`Target`]s and their runtime state (requests in flight, peak-EWMA latency,
//! outlier ejection, active health, circuit breaker). The request path calls,
//! per attempt:
//!
//! 1. [`Pool::select`] — pick an eligible target (or [`NoTarget`] with a reason
//!    the edge turns into a 503);
//! 2. [`Selected::start`] — count the attempt in flight ([`AttemptGuard`]);
//! 3. [`AttemptGuard::finish`] — report the [`Outcome`]; dropping the guard
//!    without finishing counts as cancelled and only ends the in-flight count.
//!
//! Retries use [`RetryBudget`] (per pool, [`Pool::retry_budget`]) and
//! [`backoff`]; active probing runs in one task per pool
//! ([`Pool::spawn_health_checks`]).
//!
//! Invariants: no I/O here except through the injected probe function; the
//! hot path takes no lock (counters and state machines are atomics); time is
//! read from `tokio::time::Instant`, so paused-time tests drive everything.
//!
//! **Reuse across reloads.** Health, ejection and breaker state live in the
//! pool, so the snapshot compile must reuse the existing `Arc<Pool>` when an
//! upstream's spec is unchanged ([`Pool::reuse_or_build`]) and spawn health
//! checks only for newly built pools. A pool whose spec changed starts fresh;
//! its old health task ends when the old snapshot (its last `Arc`) is dropped.

mod attempt;
mod backoff;
mod balance;
mod breaker;
mod budget;
mod compile;
mod ewma;
mod health;
mod outlier;
mod ring;
mod target;

#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::{Arc, OnceLock};

use sy_config::UpstreamSpec;
use tokio::time::Instant;

pub use attempt::{AttemptGuard, FailureKind, Outcome};
pub use backoff::backoff;
pub use breaker::BreakerState;
pub use budget::RetryBudget;
pub use health::{ProbeFn, ProbeTarget};
pub use target::{EventListener, Target, TargetEvent};

use balance::Balancer;
use breaker::Probe;
use target::Clock;

/// A compiled upstream pool. Share it as `Arc<Pool>`; every method takes
/// `&self` and is safe to call from many tasks at once.
pub struct Pool {
    name: Arc<str>,
    spec: UpstreamSpec,
    targets: Vec<Arc<Target>>,
    balancer: Balancer,
    budget: Option<RetryBudget>,
    clock: Clock,
    listener: Arc<OnceLock<EventListener>>,
}

/// What the caller knows about the request when selecting a target.
#[derive(Debug, Clone, Copy, Default)]
pub struct SelectInput<'a> {
    /// The bytes to hash for `consistent_hash`: the header value, cookie value
    /// or client IP the caller extracted per the pool's `hash_on`. `None`
    /// (or another algorithm) ignores it; `consistent_hash` then falls back to
    /// weighted round robin.
    pub hash_key: Option<&'a [u8]>,
    /// Target indexes already tried by this request, so a retry goes elsewhere.
    pub exclude: &'a [usize],
}

/// The outcome of [`Pool::select`]: a target, with a half-open circuit slot
/// reserved if its breaker is probing. Call [`Selected::start`] when the
/// attempt begins; dropping it instead gives any reserved slot back.
pub struct Selected {
    /// The target's index in the pool (stable for the pool's lifetime; put it
    /// in [`SelectInput::exclude`] on retry).
    pub index: usize,
    /// The target.
    pub target: Arc<Target>,
    probe: Option<Probe>,
}

impl Selected {
    /// Start the attempt: counts it in flight and starts its latency clock.
    pub fn start(mut self) -> AttemptGuard {
        let probe = self.probe.take();
        AttemptGuard::new(Arc::clone(&self.target), probe)
    }
}

impl Drop for Selected {
    fn drop(&mut self) {
        if let Some(probe) = self.probe.take() {
            self.target.release_probe(probe);
        }
    }
}

impl fmt::Debug for Selected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Selected")
            .field("index", &self.index)
            .field("target", &self.target.url())
            .field("probe", &self.probe.is_some())
            .finish()
    }
}

/// Why no target could be selected. The edge answers 503 either way; the
/// reason picks the message and the metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoTargetReason {
    /// Every target with weight is unhealthy (active checks) or ejected
    /// (passive checks), or a mix of that and open circuits.
    Unhealthy,
    /// Every target with weight has its circuit open (or its half-open
    /// probe slots taken).
    CircuitOpen,
    /// Every target has weight 0.
    Drained,
    /// Every target with weight was already tried by this request.
    AllTried,
}

impl NoTargetReason {
    /// A short, stable label for metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            NoTargetReason::Unhealthy => "unhealthy",
            NoTargetReason::CircuitOpen => "circuit_open",
            NoTargetReason::Drained => "drained",
            NoTargetReason::AllTried => "all_tried",
        }
    }
}

/// No target could be selected from an upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoTarget {
    /// The upstream's name.
    pub upstream: Arc<str>,
    /// Why.
    pub reason: NoTargetReason,
}

impl fmt::Display for NoTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let up = &self.upstream;
        match self.reason {
            NoTargetReason::Unhealthy => write!(f, "no healthy target in upstream {up}"),
            NoTargetReason::CircuitOpen => {
                write!(f, "circuit open for every target in upstream {up}")
            }
            NoTargetReason::Drained => {
                write!(f, "every target in upstream {up} is drained (weight 0)")
            }
            NoTargetReason::AllTried => {
                write!(f, "every target in upstream {up} was already tried")
            }
        }
    }
}

impl std::error::Error for NoTarget {}

impl Pool {
    /// Compile a pool, checking the spec. Errors are every problem found,
    /// each prefixed with the upstream's name and the field's path.
    pub fn from_spec(spec: &UpstreamSpec) -> Result<Pool, Vec<String>> {
        compile::build(spec)
    }

    /// Reuse `existing` when it was built from an equal spec, so health,
    /// ejection and breaker state survive a config reload; otherwise build a
    /// new pool. The `bool` is `true` when the pool is new (spawn its health
    /// checks then, and only then).
    pub fn reuse_or_build(
        existing: Option<&Arc<Pool>>,
        spec: &UpstreamSpec,
    ) -> Result<(Arc<Pool>, bool), Vec<String>> {
        match existing {
            Some(pool) if pool.spec == *spec => Ok((Arc::clone(pool), false)),
            _ => Pool::from_spec(spec).map(|p| (Arc::new(p), true)),
        }
    }

    /// The upstream's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The upstream's name, shared: a request's record takes a reference
    /// instead of a copy.
    pub fn shared_name(&self) -> &Arc<str> {
        &self.name
    }

    /// The spec this pool was built from (timeouts, retries, TLS, HTTP/2 are
    /// read from here by the forwarding code).
    pub fn spec(&self) -> &UpstreamSpec {
        &self.spec
    }

    /// The targets, by index.
    pub fn targets(&self) -> &[Arc<Target>] {
        &self.targets
    }

    /// The pool's retry budget; `None` when the upstream has no retries.
    /// Deposit once per client request, withdraw before each retry.
    pub fn retry_budget(&self) -> Option<&RetryBudget> {
        self.budget.as_ref()
    }

    /// Install the listener told about ejections, breaker changes and health
    /// changes (for metrics and logs). Only the first call wins; returns
    /// whether this one did. A reused pool keeps its listener.
    pub fn set_event_listener(&self, listener: EventListener) -> bool {
        self.listener.set(listener).is_ok()
    }

    /// Pick a target for one attempt. Skips targets that are excluded,
    /// drained (weight 0), unhealthy, ejected, or whose circuit is open; for a
    /// half-open circuit it reserves a probe slot atomically, so at most
    /// `half_open_requests` attempts get through however many tasks select at
    /// once.
    pub fn select(&self, input: &SelectInput<'_>) -> Result<Selected, NoTarget> {
        let now = self.clock.nanos(Instant::now());
        // Targets whose breaker refused a slot after the balancer picked them
        // (lost a race for the last half-open slot). Empty, so free, normally.
        let mut refused: Vec<usize> = Vec::new();
        for _ in 0..=self.targets.len() {
            let eligible = |i: usize| {
                !input.exclude.contains(&i)
                    && !refused.contains(&i)
                    && self.targets.get(i).is_some_and(|t| t.is_eligible(now))
            };
            let Some(index) = self
                .balancer
                .pick(&self.targets, input.hash_key, now, &eligible)
            else {
                break;
            };
            let Some(target) = self.targets.get(index) else {
                break;
            };
            match target.admit(now) {
                Some(probe) => {
                    return Ok(Selected {
                        index,
                        target: Arc::clone(target),
                        probe,
                    });
                }
                None => refused.push(index),
            }
        }
        Err(self.no_target(input, now))
    }

    /// Explain an empty selection.
    fn no_target(&self, input: &SelectInput<'_>, now: u64) -> NoTarget {
        let reason = if self.targets.iter().all(|t| t.weight() == 0) {
            NoTargetReason::Drained
        } else {
            let mut candidates = self
                .targets
                .iter()
                .enumerate()
                .filter(|(i, t)| t.weight() > 0 && !input.exclude.contains(i))
                .peekable();
            if candidates.peek().is_none() {
                NoTargetReason::AllTried
            } else if candidates.all(|(_, t)| t.is_circuit_blocked(now)) {
                NoTargetReason::CircuitOpen
            } else {
                NoTargetReason::Unhealthy
            }
        };
        NoTarget {
            upstream: Arc::clone(&self.name),
            reason,
        }
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("name", &self.name)
            .field("balance", &self.spec.balance)
            .field(
                "targets",
                &self.targets.iter().map(|t| t.url()).collect::<Vec<_>>(),
            )
            .finish()
    }
}
