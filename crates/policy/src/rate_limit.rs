//! Request rate limits: each of a route's `rate_limits` is a token bucket in
//! a shared [`RateLimiter`], and every one must pass.
//!
//! Buckets are named `{route}#{index}:{kind}:{value}`, so two routes, or two
//! limits of one route, never share a bucket. Kinds:
//!
//! - `route` — one bucket (`api#0:route:`);
//! - `ip` — the client IP (`api#1:ip:203.0.113.9`);
//! - `header` — the header's value, long values hashed; a missing or empty
//!   header shares one bucket (`api#2:header:`);
//! - `consumer` — the authenticated consumer id. With no consumer (no
//!   `key_auth` on the route) the client IP is used instead, under the `ip`
//!   kind, so the limit still holds per caller.
//!
//! Limits are taken in order and the chain stops at the first refusal, so a
//! refused request may already have spent tokens of earlier limits; that
//! errs towards refusing, never towards letting more through.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;
use http::header::HeaderName;
use sha2::{Digest, Sha256};
use sy_config::{RateLimitKeySpec, RateLimitSpec};
use sy_state::{LimitDecision, LimitFuture, Quota, RateLimiter};

use crate::context::RequestContext;
use crate::error::{PolicyError, RATELIMIT_LIMIT, RATELIMIT_REMAINING, RATELIMIT_RESET, ceil_secs};
use crate::policy::{Flow, Order, Policy, Step};

/// Header values longer than this are hashed into the bucket name, so a
/// client cannot make the limiter keep kilobyte-long keys.
const MAX_RAW_HEADER_KEY: usize = 64;

/// What one limit counts by, compiled.
#[derive(Debug, Clone)]
enum KeyBy {
    Route,
    ClientIp,
    Header(HeaderName),
    Consumer,
}

/// One compiled limit.
#[derive(Debug, Clone)]
struct Limit {
    /// `{route}#{index}`.
    prefix: String,
    quota: Quota,
    key: KeyBy,
    /// For error messages: `10 requests per 1s by client_ip`.
    describe: String,
}

impl Limit {
    /// The bucket name for this request.
    fn bucket(&self, req: &http::request::Parts, ctx: &RequestContext) -> String {
        let mut k = String::with_capacity(self.prefix.len() + 48);
        k.push_str(&self.prefix);
        match &self.key {
            KeyBy::Route => k.push_str(":route:"),
            KeyBy::ClientIp => ip_key(&mut k, ctx),
            KeyBy::Consumer => match &ctx.consumer {
                Some(c) => {
                    k.push_str(":consumer:");
                    k.push_str(&c.id);
                }
                None => ip_key(&mut k, ctx),
            },
            KeyBy::Header(name) => {
                k.push_str(":header:");
                let v = req
                    .headers
                    .get(name)
                    .map(HeaderValue::as_bytes)
                    .unwrap_or_default();
                match std::str::from_utf8(v) {
                    Ok(s) if s.len() <= MAX_RAW_HEADER_KEY => k.push_str(s),
                    _ => {
                        k.push_str("sha256=");
                        for b in Sha256::digest(v) {
                            let _ = write!(k, "{b:02x}");
                        }
                    }
                }
            }
        }
        k
    }
}

fn ip_key(k: &mut String, ctx: &RequestContext) {
    let _ = write!(k, ":ip:{}", ctx.client_ip.to_canonical());
}

/// A route's request rate limits.
#[derive(Debug, Clone)]
pub struct RateLimit {
    limits: Arc<[Limit]>,
    limiter: Arc<dyn RateLimiter>,
}

impl RateLimit {
    /// Compile `specs` for `route`; every problem is reported, naming the
    /// limit by index.
    pub fn new(
        specs: &[RateLimitSpec],
        route: &str,
        limiter: Arc<dyn RateLimiter>,
    ) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        let mut limits = Vec::with_capacity(specs.len());
        for (i, s) in specs.iter().enumerate() {
            let at = format!("rate_limits[{i}]");
            if s.requests == 0 {
                errors.push(format!("{at}: requests must be at least 1"));
            }
            if s.per.get().is_zero() {
                errors.push(format!("{at}: per must be longer than 0s"));
            }
            let burst = s.burst.unwrap_or(s.requests);
            if s.burst == Some(0) {
                errors.push(format!("{at}: burst must be at least 1"));
            }
            let (key, kind) = match &s.key {
                RateLimitKeySpec::Route => (KeyBy::Route, "route".to_string()),
                RateLimitKeySpec::ClientIp => (KeyBy::ClientIp, "client_ip".to_string()),
                RateLimitKeySpec::Consumer => (KeyBy::Consumer, "consumer".to_string()),
                RateLimitKeySpec::Header(h) => match HeaderName::from_bytes(h.as_bytes()) {
                    Ok(name) => (KeyBy::Header(name), format!("header {h}")),
                    Err(_) => {
                        errors.push(format!("{at}: `{h}` is not a header name"));
                        continue;
                    }
                },
            };
            limits.push(Limit {
                prefix: format!("{route}#{i}"),
                quota: Quota {
                    rate: s.requests,
                    period: s.per.get(),
                    burst,
                },
                key,
                describe: format!("{} requests per {} by {kind}", s.requests, s.per),
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(RateLimit {
            limits: limits.into(),
            limiter,
        })
    }
}

/// The tightest decision so far: fewest requests remaining, then the
/// longest wait to refill. Its numbers become the `RateLimit-*` headers.
#[derive(Debug, Default)]
struct Tightest(Option<(u64, LimitDecision)>);

impl Tightest {
    /// Fold in `limit`'s decision; a refusal becomes the error.
    fn record(&mut self, limit: &Limit, d: LimitDecision) -> Result<(), PolicyError> {
        let capacity = u64::from(limit.quota.burst);
        if !d.allowed {
            return Err(PolicyError::RateLimited {
                limit: limit.describe.clone(),
                retry_after: d.retry_after,
                capacity,
                reset_after: d.reset_after,
            });
        }
        let tighter = match &self.0 {
            None => true,
            Some((_, t)) => {
                (d.remaining, std::cmp::Reverse(d.reset_after))
                    < (t.remaining, std::cmp::Reverse(t.reset_after))
            }
        };
        if tighter {
            self.0 = Some((capacity, d));
        }
        Ok(())
    }

    /// Write `RateLimit-Limit`, `-Remaining` and `-Reset` for the client.
    fn write(self, ctx: &mut RequestContext) -> Flow {
        if let Some((capacity, d)) = self.0 {
            let h = &mut ctx.response_headers;
            h.insert(RATELIMIT_LIMIT, HeaderValue::from(capacity));
            h.insert(RATELIMIT_REMAINING, HeaderValue::from(d.remaining));
            h.insert(
                RATELIMIT_RESET,
                HeaderValue::from(ceil_secs(cap(d.reset_after))),
            );
        }
        Flow::Continue
    }
}

/// `Duration::MAX` ("never") shown as a day rather than 584 billion years.
fn cap(d: Duration) -> Duration {
    d.min(Duration::from_secs(86_400))
}

impl Policy for RateLimit {
    fn name(&self) -> &'static str {
        "rate_limit"
    }

    fn order(&self) -> Order {
        Order::Limits
    }

    /// No response phase.
    fn reads_response(&self) -> bool {
        false
    }

    fn on_request<'a>(
        &'a self,
        req: &'a mut http::request::Parts,
        ctx: &'a mut RequestContext,
    ) -> Step<'a> {
        let mut tightest = Tightest::default();
        // Synchronous path: in-memory limiters answer at once, so no future
        // is allocated. The first pending answer switches to the async path
        // from that limit on (the unpolled future is dropped; see the
        // `RateLimiter::acquire` contract).
        for (i, limit) in self.limits.iter().enumerate() {
            let bucket = limit.bucket(req, ctx);
            match self.limiter.acquire(&bucket, limit.quota, 1) {
                LimitFuture::Ready(d) => {
                    if let Err(e) = tightest.record(limit, d) {
                        return Step::Ready(Err(e));
                    }
                }
                LimitFuture::Pending(_) => {
                    return Step::Pending(Box::pin(async move {
                        for limit in &self.limits[i..] {
                            let bucket = limit.bucket(req, ctx);
                            let d = self.limiter.acquire(&bucket, limit.quota, 1).await;
                            tightest.record(limit, d)?;
                        }
                        Ok(tightest.write(ctx))
                    }));
                }
            }
        }
        Step::Ready(Ok(tightest.write(ctx)))
    }
}

#[cfg(test)]
mod tests;
