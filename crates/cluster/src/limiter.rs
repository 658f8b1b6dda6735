//! [`RedisLimiter`]: the token buckets of [`sy_state::LocalLimiter`], kept
//! in Redis so every node spends from the same bucket.
//!
//! The GCRA step runs as one Lua script (`lua/gcra.lua`) on the server's
//! clock, in microseconds: a bucket is exact (no rounding) while `burst ×
//! period`, in microseconds, stays below 2^53, where Lua's numbers stop
//! being exact integers (a burst of 1,000 per hour is 3.6 × 10^12). The
//! local limiter counts nanoseconds; here, durations are whole
//! microseconds, rounded up.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use redis::Script;
use sy_state::{LimitDecision, LimitFuture, Quota, RateLimiter};

use crate::backend::Backend;
use crate::{ClusterError, OnError};

static GCRA: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/gcra.lua")));

/// A [`RateLimiter`] whose buckets live in Redis, shared by every node
/// using the same Redis and key prefix. Keys are `{prefix}:rl:{bucket}`
/// and expire when their bucket has refilled.
///
/// A decision is a round trip ([`LimitFuture::Pending`]), except for the
/// quotas that need no state (rate 0: nothing passes; period 0: everything
/// does) and while Redis is paused after failures, which are answered at
/// once.
#[derive(Clone)]
pub struct RedisLimiter {
    backend: Arc<Backend>,
}

impl std::fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("prefix", &self.backend.prefix())
            .finish()
    }
}

impl RedisLimiter {
    pub(crate) fn new(backend: Arc<Backend>) -> RedisLimiter {
        RedisLimiter { backend }
    }

    /// The Redis key of `bucket`.
    pub fn key(&self, bucket: &str) -> String {
        format!("{}:rl:{bucket}", self.backend.prefix())
    }

    async fn decide(&self, bucket: &str, quota: Quota, cost: u32) -> LimitDecision {
        let period_us = quota.period.as_nanos().div_ceil(1000);
        let mut call = GCRA.prepare_invoke();
        call.key(self.key(bucket))
            .arg(quota.rate)
            .arg(u64::try_from(period_us).unwrap_or(u64::MAX))
            .arg(quota.burst)
            .arg(cost);
        match self.backend.run::<Vec<i64>>(&call, "rate limit").await {
            Ok(reply) => match decision(&reply) {
                Some(d) => d,
                None => {
                    let e = ClusterError::Reply(format!("{reply:?} from the rate-limit script"));
                    self.backend.failed("rate limit", &e);
                    fallback(self.backend.on_error(), quota)
                }
            },
            Err(_) => fallback(self.backend.on_error(), quota),
        }
    }
}

impl RateLimiter for RedisLimiter {
    fn acquire<'a>(&'a self, key: &'a str, quota: Quota, cost: u32) -> LimitFuture<'a> {
        if let Some(d) = stateless(quota) {
            return LimitFuture::Ready(d);
        }
        if self.backend.paused() {
            return LimitFuture::Ready(fallback(self.backend.on_error(), quota));
        }
        // An async block does nothing until polled, as the trait requires.
        LimitFuture::Pending(Box::pin(async move { self.decide(key, quota, cost).await }))
    }
}

/// The decisions of [`sy_state::LocalLimiter`] for quotas that keep no state.
fn stateless(quota: Quota) -> Option<LimitDecision> {
    if quota.rate == 0 {
        return Some(LimitDecision {
            allowed: false,
            remaining: 0,
            reset_after: Duration::MAX,
            retry_after: Duration::MAX,
        });
    }
    if quota.period.is_zero() {
        return Some(LimitDecision {
            allowed: true,
            remaining: u64::from(quota.burst),
            reset_after: Duration::ZERO,
            retry_after: Duration::ZERO,
        });
    }
    None
}

/// The answer when Redis could not decide.
fn fallback(on_error: OnError, quota: Quota) -> LimitDecision {
    match on_error {
        OnError::Allow => LimitDecision {
            allowed: true,
            remaining: u64::from(quota.burst),
            reset_after: Duration::ZERO,
            retry_after: Duration::ZERO,
        },
        OnError::Deny => LimitDecision {
            allowed: false,
            remaining: 0,
            reset_after: Duration::from_secs(1),
            retry_after: Duration::from_secs(1),
        },
    }
}

/// `{allowed, remaining, reset_after µs, retry_after µs or -1}`.
fn decision(reply: &[i64]) -> Option<LimitDecision> {
    let &[allowed, remaining, reset_us, retry_us] = reply else {
        return None;
    };
    let micros = |us: i64| u64::try_from(us).ok().map(Duration::from_micros);
    Some(LimitDecision {
        allowed: allowed == 1,
        remaining: u64::try_from(remaining).ok()?,
        reset_after: micros(reset_us)?,
        retry_after: if retry_us == -1 {
            Duration::MAX
        } else {
            micros(retry_us)?
        },
    })
}
