//! Active health checks: one task per pool probes every target each
//! `interval` through an injected probe function (the HTTP client lives
//! elsewhere). `unhealthy_threshold` failures in a row take a target out of
//! rotation, `healthy_threshold` successes in a row bring it back; targets
//! start healthy.
//!
//! The task holds only a `Weak<Pool>` between rounds, so it ends by itself
//! when the pool is dropped (its snapshot replaced by one that did not reuse
//! it), or when the cancellation token fires.

use std::future::Future;
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::future::{BoxFuture, join_all};
use http::uri::{Authority, Scheme};
use sy_config::ActiveHealthSpec;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::Pool;

/// What a probe should request: `GET {scheme}://{authority}{path}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeTarget {
    /// The target's index in the pool.
    pub index: usize,
    /// `http` or `https`.
    pub scheme: Scheme,
    /// `host:port`.
    pub authority: Authority,
    /// The configured health path, starting with `/`.
    pub path: Arc<str>,
    /// The configured probe timeout; the pool also enforces it around the
    /// probe future, so honouring it inside the probe is optional.
    pub timeout: Duration,
}

/// The injected probe: resolves to `true` when the target answered healthy
/// (e.g. a 2xx status). It must not panic; a probe that hangs is cut off by
/// the timeout and counted as a failure.
pub type ProbeFn = Arc<dyn Fn(ProbeTarget) -> BoxFuture<'static, bool> + Send + Sync>;

impl Pool {
    /// Start the pool's active health checks on the current runtime; `None`
    /// when the upstream has none configured. Call once per newly built pool
    /// (see [`Pool::reuse_or_build`]). The task ends on `cancel` or when the
    /// pool is dropped.
    pub fn spawn_health_checks(
        self: &Arc<Self>,
        probe: ProbeFn,
        cancel: CancellationToken,
    ) -> Option<JoinHandle<()>> {
        self.health_check_task(probe, cancel).map(tokio::spawn)
    }

    /// The health-check loop as a future, for callers that spawn on a
    /// tracked task set (`TaskTracker::spawn`) so shutdown can drain it.
    /// `None` when the upstream has no active checks.
    pub fn health_check_task(
        self: &Arc<Self>,
        probe: ProbeFn,
        cancel: CancellationToken,
    ) -> Option<impl Future<Output = ()> + Send + 'static> {
        let spec = self.spec.health_check.active.clone()?;
        let weak = Arc::downgrade(self);
        Some(async move {
            tokio::select! {
                () = cancel.cancelled() => {}
                () = run(weak, spec, probe) => {}
            }
        })
    }
}

/// Probe rounds until the pool is gone.
async fn run(pool: Weak<Pool>, spec: ActiveHealthSpec, probe: ProbeFn) {
    let interval = spec.interval.get().max(Duration::from_millis(1));
    let timeout = spec.timeout.get();
    let path: Arc<str> = spec.path.as_str().into();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        // Hold the targets, not the pool, while probes are out.
        let Some(targets) = pool.upgrade().map(|p| p.targets.clone()) else {
            return;
        };
        let rounds = targets.iter().map(|t| {
            let request = ProbeTarget {
                index: t.index(),
                scheme: t.scheme().clone(),
                authority: t.authority().clone(),
                path: Arc::clone(&path),
                timeout,
            };
            let fut = probe(request);
            async move {
                if timeout.is_zero() {
                    fut.await
                } else {
                    tokio::time::timeout(timeout, fut).await.unwrap_or(false)
                }
            }
        });
        let results = join_all(rounds).await;
        for (target, ok) in targets.iter().zip(results) {
            target.record_probe(ok, spec.healthy_threshold, spec.unhealthy_threshold);
        }
    }
}
