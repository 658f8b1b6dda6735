//! Telemetry: Prometheus metrics with lock-free hot-path updates, and the
//! JSON access log written off the request path.
//!
//! Invariants: recording a request costs atomic increments only (metric
//! handles are resolved when a snapshot is compiled, not per request); log
//! lines are handed to a writer task and never lost while the process lives.

mod access_log;
mod histogram;
mod metrics;

pub use access_log::{AccessLog, AccessLogLine, AiLogFields};
pub use histogram::AtomicHistogram;
pub use metrics::{Metrics, RouteMetrics, UpstreamMetrics};
