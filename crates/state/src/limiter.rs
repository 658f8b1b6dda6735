//! Token-bucket rate limiting: the types every limiter shares and the
//! [`RateLimiter`] trait. The single-node implementation is
//! [`crate::LocalLimiter`]; a cluster one lives in `sy-cluster`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// A token bucket: it holds at most `burst` tokens and gains `rate` tokens
/// every `period`, one at a time (`period / rate` apart). A request spends
/// tokens; a full bucket lets `burst` requests through at once, after which
/// the steady rate applies.
///
/// Edge cases: `rate == 0` allows nothing (the bucket never refills);
/// `period == 0` allows everything.
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
    /// Time until the bucket is full again (for `RateLimit-Reset`); zero for
    /// a full bucket.
    pub reset_after: Duration,
    /// When refused: time until the same request would be allowed
    /// (`Retry-After`). [`Duration::MAX`] means never: the cost exceeds the
    /// bucket size, or the quota allows nothing. Zero when allowed.
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
    /// Take `cost` tokens from the bucket named `key` under `quota`; when
    /// refused, nothing is taken. Keys are opaque; callers namespace them
    /// (`{route}#{index}:{kind}:{value}`).
    ///
    /// Contract: a [`LimitFuture::Pending`] does no work until first polled,
    /// so a caller may drop it unpolled and call again later (the policy
    /// chain does this to move from its synchronous path to an async one).
    fn acquire<'a>(&'a self, key: &'a str, quota: Quota, cost: u32) -> LimitFuture<'a>;
}
