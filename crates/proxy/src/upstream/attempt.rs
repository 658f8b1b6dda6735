//! One attempt against one target, from start to outcome.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::breaker::Probe;
use super::target::Target;

/// How an attempt ended, as far as the pool's health tracking cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A response arrived. A 5xx `status` still counts as a failure for
    /// passive health and the breaker; `latency` (time to response headers)
    /// feeds the peak-EWMA estimate either way.
    Success {
        /// Time from sending the request to the response headers.
        latency: Duration,
        /// The response status.
        status: u16,
    },
    /// The attempt failed; always counts as a failure.
    Failure {
        /// What went wrong.
        kind: FailureKind,
    },
}

/// Why an attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// No connection (refused, DNS, TLS handshake).
    Connect,
    /// A connect, response-header or idle timeout fired.
    Timeout,
    /// The caller classified this response status as a failure.
    Status(u16),
    /// The connection or stream was reset mid-exchange.
    Reset,
}

impl Outcome {
    /// Whether passive health and the breaker count this as a failure.
    pub fn is_failure(&self) -> bool {
        match self {
            Outcome::Success { status, .. } => *status >= 500,
            Outcome::Failure { .. } => true,
        }
    }
}

/// An attempt in flight. [`finish`](AttemptGuard::finish) it with the
/// outcome; dropping it unfinished (client went away, request cancelled)
/// only ends the in-flight count and gives back a half-open probe slot,
/// teaching the pool nothing about the target.
#[must_use = "dropping the guard at once records a cancelled attempt"]
pub struct AttemptGuard {
    target: Arc<Target>,
    started: Instant,
    probe: Option<Probe>,
    done: bool,
}

impl AttemptGuard {
    pub(crate) fn new(target: Arc<Target>, probe: Option<Probe>) -> AttemptGuard {
        target.attempt_started();
        AttemptGuard {
            target,
            started: Instant::now(),
            probe,
            done: false,
        }
    }

    /// The target this attempt goes to.
    pub fn target(&self) -> &Arc<Target> {
        &self.target
    }

    /// When [`super::Selected::start`] made this guard.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Time since [`super::Selected::start`].
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Whether this attempt holds a half-open breaker slot (it is a probe:
    /// its outcome decides whether the circuit closes).
    pub fn is_probe(&self) -> bool {
        self.probe.is_some()
    }

    /// Report the outcome: updates the latency estimate, passive health and
    /// the breaker, then ends the in-flight count. A failure's latency is the
    /// time since start and never lowers the estimate.
    pub fn finish(mut self, outcome: Outcome) {
        self.done = true;
        match outcome {
            Outcome::Success { latency, .. } => self.target.observe_latency(latency, false),
            Outcome::Failure { .. } => self.target.observe_latency(self.elapsed(), true),
        }
        self.target.record(outcome.is_failure(), self.probe.take());
        self.target.attempt_ended();
    }
}

impl Drop for AttemptGuard {
    fn drop(&mut self) {
        if !self.done {
            if let Some(probe) = self.probe.take() {
                self.target.release_probe(probe);
            }
            self.target.attempt_ended();
        }
    }
}

impl fmt::Debug for AttemptGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttemptGuard")
            .field("target", &self.target.url())
            .field("probe", &self.probe.is_some())
            .finish()
    }
}
