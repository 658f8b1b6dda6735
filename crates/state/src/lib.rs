//! Shared mutable state behind traits: rate limits and usage quotas now;
//! caches and the change bus later. Each trait has an in-memory
//! implementation here for a single node; Redis-backed ones (`sy-cluster`)
//! replace them for a cluster without callers changing.
//!
//! Invariants: in-memory implementations never block or allocate a future on
//! the request path ([`LimitFuture::Ready`], [`QuotaFuture::Ready`]), and
//! read time only through `tokio::time` so paused-time tests control it.

mod limiter;
mod local;
pub mod quota;

pub use limiter::{LimitDecision, LimitFuture, Quota, RateLimiter};
pub use local::{DEFAULT_MAX_KEYS, LocalLimiter};
pub use quota::{
    Actual, Charge, CounterId, Held, LocalLedger, Measure, Metric, QuotaFuture, QuotaLedger,
    Refusal, Reservation, SavedCounter, Scope, Settlement, Window,
};
