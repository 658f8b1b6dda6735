//! Token-bucket rate limiting.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// A token bucket: `capacity` tokens, refilled at `capacity_per` … see fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quota {
    /// Tokens added per `period` (the steady rate).
    pub rate: u32,
    /// The period `rate` is expressed in.
    pub period: Duration,
    /// Bucket size: the most tokens that can be spent at once.
    pub burst: u32,
}

/// The answer to one acquire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitDecision {
    /// Whether the tokens were taken.
    pub allowed: bool,
    /// Tokens left in the bucket after this decision.
    pub remaining: u64,
    /// Time until the bucket is full again (for `RateLimit-Reset`).
    pub reset_after: Duration,
    /// When refused: time until the request would be allowed (`Retry-After`).
    pub retry_after: Duration,
}

/// The result of [`RateLimiter::acquire`]: ready at once for in-memory state,
/// a future for a remote store.
pub enum LimitFuture<'a> {
    /// Decided synchronously.
    Ready(LimitDecision),
    /// Decided later (e.g. a Redis round trip).
    Pending(Pin<Box<dyn Future<Output = LimitDecision> + Send + 'a>>),
}

impl Future for LimitFuture<'_> {
    type Output = LimitDecision;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<LimitDecision> {
        match self.get_mut() {
            LimitFuture::Ready(d) => Poll::Ready(*d),
            LimitFuture::Pending(f) => f.as_mut().poll(cx),
        }
    }
}

/// Rate-limit state shared by all requests of a node (or a cluster).
pub trait RateLimiter: Send + Sync + std::fmt::Debug {
    /// Take `cost` tokens from the bucket named `key` under `quota`.
    /// Keys are opaque; callers namespace them (`route:limit#:client`).
    fn acquire<'a>(&'a self, key: &'a str, quota: Quota, cost: u32) -> LimitFuture<'a>;
}

pub use local::LocalLimiter;

mod local {
    //! Placeholder module replaced by the in-memory GCRA implementation.
    use super::*;

    /// In-memory limiter for one node.
    #[derive(Debug, Default)]
    pub struct LocalLimiter;

    impl RateLimiter for LocalLimiter {
        fn acquire<'a>(&'a self, _key: &'a str, quota: Quota, _cost: u32) -> LimitFuture<'a> {
            LimitFuture::Ready(LimitDecision {
                allowed: true,
                remaining: u64::from(quota.burst),
                reset_after: Duration::ZERO,
                retry_after: Duration::ZERO,
            })
        }
    }
}
