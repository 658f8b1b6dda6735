//! The metric families and the handles the data plane holds.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::histogram::AtomicHistogram;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteStatus {
    route: String,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetLabel {
    upstream: String,
    target: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetOutcome {
    upstream: String,
    target: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabel {
    upstream: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ListenerLabel {
    listener: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

/// Status classes used as the `status` label: exact codes would multiply
/// series per route; the access log has the exact code.
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// Reads a value kept elsewhere (a queue length, a counter another crate
/// owns) into the metrics just before they are rendered.
type Sampler = Box<dyn Fn(&Metrics) + Send + Sync>;

/// Every metric family of the process. One instance lives for the process;
/// snapshots resolve per-route and per-target handles from it when compiled.
#[derive(Default)]
pub struct Metrics {
    requests: Family<RouteStatus, Counter>,
    duration: Family<RouteLabel, AtomicHistogram>,
    upstream_requests: Family<TargetOutcome, Counter>,
    upstream_duration: Family<TargetLabel, AtomicHistogram>,
    upstream_healthy: Family<TargetLabel, Gauge>,
    upstream_circuit_open: Family<TargetLabel, Gauge>,
    retries: Family<UpstreamLabel, Counter>,
    retry_budget_exhausted: Family<UpstreamLabel, Counter>,
    open_connections: Family<ListenerLabel, Gauge>,
    reloads: Family<ResultLabel, Counter>,
    config_generation: Gauge,
    cluster_errors: Counter,
    cluster_unsent: Gauge,
    /// Whether [`Metrics::set_cluster`] was ever called.
    cluster: AtomicBool,
    samplers: Mutex<Vec<Sampler>>,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// A fresh set of families.
    pub fn new() -> Arc<Self> {
        Arc::new(Metrics::default())
    }

    /// Handles for one route, resolved once at compile time.
    pub fn route(&self, route: &str) -> RouteMetrics {
        RouteMetrics {
            by_class: CLASSES.map(|c| {
                self.requests
                    .get_or_create(&RouteStatus {
                        route: route.into(),
                        status: c,
                    })
                    .clone()
            }),
            duration: self
                .duration
                .get_or_create(&RouteLabel {
                    route: route.into(),
                })
                .clone(),
        }
    }

    /// Handles for one upstream target.
    pub fn target(&self, upstream: &str, target: &str) -> UpstreamMetrics {
        let t = TargetLabel {
            upstream: upstream.into(),
            target: target.into(),
        };
        let outcome = |o: &'static str| {
            self.upstream_requests
                .get_or_create(&TargetOutcome {
                    upstream: upstream.into(),
                    target: target.into(),
                    outcome: o,
                })
                .clone()
        };
        UpstreamMetrics {
            success: outcome("success"),
            failure: outcome("failure"),
            duration: self.upstream_duration.get_or_create(&t).clone(),
            healthy: self.upstream_healthy.get_or_create(&t).clone(),
            circuit_open: self.upstream_circuit_open.get_or_create(&t).clone(),
            retries: self
                .retries
                .get_or_create(&UpstreamLabel {
                    upstream: upstream.into(),
                })
                .clone(),
            budget_exhausted: self
                .retry_budget_exhausted
                .get_or_create(&UpstreamLabel {
                    upstream: upstream.into(),
                })
                .clone(),
        }
    }

    /// Set a listener's open-connection gauge (sampled at scrape time).
    pub fn set_open_connections(&self, listener: &str, open: u64) {
        self.open_connections
            .get_or_create(&ListenerLabel {
                listener: listener.into(),
            })
            .set(i64::try_from(open).unwrap_or(i64::MAX));
    }

    /// Count a configuration reload attempt and, on success, its generation.
    pub fn reload(&self, ok: bool, generation: u64) {
        self.reloads
            .get_or_create(&ResultLabel {
                result: if ok { "success" } else { "failure" },
            })
            .inc();
        if ok {
            self.config_generation
                .set(i64::try_from(generation).unwrap_or(i64::MAX));
        }
    }

    /// Run `sample` before every rendering, to copy state kept elsewhere
    /// into these metrics (without a handle on the request path).
    pub fn on_render(&self, sample: impl Fn(&Metrics) + Send + Sync + 'static) {
        self.samplers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Box::new(sample));
    }

    /// Cluster state in Redis: failed calls so far (a running total kept
    /// by the cluster client) and settlements waiting to be resent.
    pub fn set_cluster(&self, errors_total: u64, unsent: usize) {
        self.cluster.store(true, Ordering::Relaxed);
        let seen = self.cluster_errors.get();
        if errors_total > seen {
            self.cluster_errors.inc_by(errors_total - seen);
        }
        self.cluster_unsent
            .set(i64::try_from(unsent).unwrap_or(i64::MAX));
    }

    /// Render the Prometheus text exposition format.
    pub fn encode(&self) -> String {
        for sample in self
            .samplers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            sample(self);
        }
        let mut registry = Registry::with_prefix("switchyard");
        registry.register(
            "requests",
            "Requests answered, by route and status class",
            self.requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time from request head to response head, by route",
            self.duration.clone(),
        );
        registry.register(
            "upstream_requests",
            "Upstream attempts by target and outcome",
            self.upstream_requests.clone(),
        );
        registry.register(
            "upstream_duration_seconds",
            "Upstream time to response head, by target",
            self.upstream_duration.clone(),
        );
        registry.register(
            "upstream_healthy",
            "1 when a target is eligible for traffic",
            self.upstream_healthy.clone(),
        );
        registry.register(
            "upstream_circuit_open",
            "1 when a target's circuit breaker is open or half-open",
            self.upstream_circuit_open.clone(),
        );
        registry.register("retries", "Retries sent, by upstream", self.retries.clone());
        registry.register(
            "retry_budget_exhausted",
            "Retries skipped because the retry budget was spent",
            self.retry_budget_exhausted.clone(),
        );
        registry.register(
            "open_connections",
            "Client connections open, by listener",
            self.open_connections.clone(),
        );
        registry.register(
            "config_reloads",
            "Configuration reloads by result",
            self.reloads.clone(),
        );
        registry.register(
            "config_generation",
            "Generation of the configuration serving now",
            self.config_generation.clone(),
        );
        // Only on nodes in a cluster: elsewhere they would always read 0.
        if self.cluster.load(Ordering::Relaxed) {
            registry.register(
                "cluster_redis_errors",
                "Redis calls for shared limits and budgets that failed or timed out",
                self.cluster_errors.clone(),
            );
            registry.register(
                "cluster_unsent_settlements",
                "Settlements and releases Redis has not confirmed yet, held for resending",
                self.cluster_unsent.clone(),
            );
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }
}

/// A route's metric handles: plain atomics on the request path.
#[derive(Debug, Clone)]
pub struct RouteMetrics {
    by_class: [Counter; 5],
    duration: AtomicHistogram,
}

impl RouteMetrics {
    /// Count one answered request.
    pub fn record(&self, status: u16, elapsed: std::time::Duration) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.by_class[class].inc();
        self.duration.observe(elapsed);
    }
}

/// An upstream target's metric handles.
#[derive(Debug, Clone)]
pub struct UpstreamMetrics {
    /// Attempts that got a response (any status not counted as failure).
    pub success: Counter,
    /// Attempts that failed (connect, timeout, reset, failing status).
    pub failure: Counter,
    /// Time to response head.
    pub duration: AtomicHistogram,
    /// Health gauge.
    pub healthy: Gauge,
    /// Breaker gauge.
    pub circuit_open: Gauge,
    /// Retries of the pool.
    pub retries: Counter,
    /// Retries refused by the budget.
    pub budget_exhausted: Counter,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_counts_render_with_classes_and_histogram() {
        let m = Metrics::new();
        let r = m.route("users");
        r.record(200, std::time::Duration::from_micros(300));
        r.record(503, std::time::Duration::from_millis(2));
        let text = m.encode();
        assert!(
            text.contains(r#"switchyard_requests_total{route="users",status="2xx"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"switchyard_requests_total{route="users",status="5xx"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"switchyard_request_duration_seconds_bucket{le="0.0005",route="users"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"switchyard_request_duration_seconds_bucket{le="+Inf",route="users"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"switchyard_request_duration_seconds_count{route="users"} 2"#),
            "{text}"
        );
    }
}
