//! The model router: which deployment of a virtual model a call goes to,
//! and what is tried next when it fails.
//!
//! - [`state`]: per-deployment runtime state (in flight, latency average,
//!   failures and cool-down, `rpm`/`tpm` windows), atomics only, carried
//!   across config reloads while the deployment is unchanged.
//! - [`strategy`]: the ranking each strategy gives the deployments.
//! - The attempt loop that walks rankings, retries, fails over to the
//!   `fallbacks` and the `context_window_fallback` lives with the shared
//!   provider call (`endpoints::upstream`), so every dialect gets it.

pub mod state;
pub(crate) mod strategy;

#[cfg(test)]
mod tests;

use std::time::Duration;

use sy_config::{CooldownSpec, ModelSpec, RetriesSpec, RoutingStrategySpec};

pub use state::{DeploymentState, InFlight};

/// A model's routing rules, from its config.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Routing {
    /// How deployments are ranked.
    pub strategy: RoutingStrategySpec,
    /// Models tried after this one's deployments, in order.
    pub fallbacks: Vec<String>,
    /// The model used when a prompt does not fit.
    pub context_window_fallback: Option<String>,
    /// Retries of one deployment.
    pub retries: RetriesSpec,
    /// Time allowed per attempt (until the answer, or a stream's first
    /// chunk); `None` leaves it to the provider.
    pub timeout: Option<Duration>,
    /// When a deployment is taken out of rotation.
    pub cooldown: CooldownSpec,
}

impl Routing {
    /// The rules a model's config gives.
    pub fn from_spec(spec: &ModelSpec) -> Routing {
        Routing {
            strategy: spec.strategy,
            fallbacks: spec.fallbacks.clone(),
            context_window_fallback: spec.context_window_fallback.clone(),
            retries: spec.retries,
            timeout: spec.timeout.map(|t| t.get()),
            cooldown: spec.cooldown,
        }
    }

    /// The pause before retry number `retry` (1-based) of one deployment:
    /// `backoff_base` doubled per retry, capped at `backoff_max`, with
    /// "equal jitter" (half fixed, half random) so retries spread out.
    pub fn backoff(&self, retry: u32) -> Duration {
        let base = self.retries.backoff_base.get();
        let max = self.retries.backoff_max.get();
        let factor = 1u32 << retry.saturating_sub(1).min(16);
        let full = base.saturating_mul(factor).min(max);
        let half = full / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(fastrand::u64(0..=jitter_ms))
    }
}
