//! The admin listener: liveness, readiness and Prometheus metrics. Kept off
//! the data-plane listeners so it can be firewalled separately.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use sy_http::RequestBody;
use sy_http::{Body, ConnInfo, Handler, ListenerStats, full};
use sy_telemetry::Metrics;

use crate::snapshot::SnapshotHolder;
use crate::upstream::BreakerState;

/// Serves `/healthz`, `/readyz` and `/metrics`.
#[derive(Debug)]
pub struct AdminHandler {
    holder: Arc<SnapshotHolder>,
    metrics: Arc<Metrics>,
    listeners: Vec<(String, Arc<ListenerStats>)>,
    ready: Arc<AtomicBool>,
}

impl AdminHandler {
    /// `ready` turns true once every listener is bound, and false when draining.
    pub fn new(
        holder: Arc<SnapshotHolder>,
        metrics: Arc<Metrics>,
        listeners: Vec<(String, Arc<ListenerStats>)>,
        ready: Arc<AtomicBool>,
    ) -> Arc<Self> {
        Arc::new(AdminHandler {
            holder,
            metrics,
            listeners,
            ready,
        })
    }

    fn render_metrics(&self) -> String {
        for (name, stats) in &self.listeners {
            self.metrics.set_open_connections(name, stats.open());
        }
        // Health and breaker gauges are sampled at scrape time from the pools.
        let snap = self.holder.load();
        for rt in snap.pools.values() {
            for (t, m) in rt.pool.targets().iter().zip(&rt.metrics) {
                m.healthy.set(i64::from(t.is_healthy() && !t.is_ejected()));
                m.circuit_open
                    .set(i64::from(t.breaker_state() != BreakerState::Closed));
            }
        }
        self.metrics.encode()
    }
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response<Body> {
    let mut res = Response::new(full(body));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

impl Handler for AdminHandler {
    async fn call(&self, req: Request<RequestBody>, _conn: Arc<ConnInfo>) -> Response<Body> {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return text(
                StatusCode::METHOD_NOT_ALLOWED,
                "application/json",
                r#"{"error":"use GET"}"#.into(),
            );
        }
        match req.uri().path() {
            "/healthz" => text(
                StatusCode::OK,
                "application/json",
                r#"{"status":"ok"}"#.into(),
            ),
            "/readyz" => {
                let generation = self.holder.load().generation;
                if self.ready.load(Ordering::Relaxed) {
                    text(
                        StatusCode::OK,
                        "application/json",
                        format!(r#"{{"status":"ready","config_generation":{generation}}}"#),
                    )
                } else {
                    text(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "application/json",
                        r#"{"status":"not ready"}"#.into(),
                    )
                }
            }
            "/metrics" => text(
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                self.render_metrics(),
            ),
            _ => text(
                StatusCode::NOT_FOUND,
                "application/json",
                r#"{"error":"not found: try /healthz, /readyz or /metrics"}"#.into(),
            ),
        }
    }
}
