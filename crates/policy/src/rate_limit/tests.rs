use std::sync::Mutex;

use http::StatusCode;
use http::header::RETRY_AFTER;
use sy_config::DurationSpec;
use sy_state::LocalLimiter;
use tokio::time::advance;

use super::*;
use crate::consumer::Consumer;
use crate::test_util::{ctx_from, parts};

fn spec(requests: u32, per_secs: u64, burst: Option<u32>, key: RateLimitKeySpec) -> RateLimitSpec {
    RateLimitSpec {
        requests,
        per: DurationSpec::from_secs(per_secs),
        burst,
        key,
    }
}

fn policy(specs: &[RateLimitSpec]) -> RateLimit {
    RateLimit::new(specs, "api", Arc::new(LocalLimiter::new())).unwrap()
}

async fn call(
    p: &RateLimit,
    ip: &str,
    headers: &[(&str, &str)],
) -> (Result<(), PolicyError>, RequestContext) {
    let mut req = parts("GET", "/", headers);
    let mut ctx = ctx_from(ip);
    let r = p.on_request(&mut req, &mut ctx).await.map(|_| ());
    (r, ctx)
}

#[tokio::test(start_paused = true)]
async fn success_carries_ratelimit_headers() {
    let p = policy(&[spec(10, 60, Some(3), RateLimitKeySpec::Route)]);
    let (r, ctx) = call(&p, "10.0.0.1", &[]).await;
    r.unwrap();
    let h = &ctx.response_headers;
    assert_eq!(h[RATELIMIT_LIMIT], "3");
    assert_eq!(h[RATELIMIT_REMAINING], "2");
    // One token back every 6 s.
    assert_eq!(h[RATELIMIT_RESET], "6");
}

#[tokio::test(start_paused = true)]
async fn refusal_is_429_with_retry_after_rounded_up() {
    let p = policy(&[spec(2, 3, None, RateLimitKeySpec::ClientIp)]);
    assert!(call(&p, "10.0.0.1", &[]).await.0.is_ok());
    assert!(call(&p, "10.0.0.1", &[]).await.0.is_ok());
    let err = call(&p, "10.0.0.1", &[]).await.0.unwrap_err();
    assert_eq!(err.status(), StatusCode::TOO_MANY_REQUESTS);
    // 1.5 s until the next token: Retry-After says 2.
    let h = err.headers();
    assert_eq!(h[RETRY_AFTER], "2");
    assert_eq!(h[RATELIMIT_LIMIT], "2");
    assert_eq!(h[RATELIMIT_REMAINING], "0");
    assert_eq!(h[RATELIMIT_RESET], "3");
    assert_eq!(
        err.to_string(),
        "rate limit exceeded: 2 requests per 3s by client_ip; retry after 2s"
    );
    // Another client is unaffected; the first is let in once a token is back.
    assert!(call(&p, "10.0.0.2", &[]).await.0.is_ok());
    advance(Duration::from_millis(1500)).await;
    assert!(call(&p, "10.0.0.1", &[]).await.0.is_ok());
}

#[tokio::test(start_paused = true)]
async fn ipv6_clients_have_their_own_buckets() {
    let p = policy(&[spec(1, 60, None, RateLimitKeySpec::ClientIp)]);
    assert!(call(&p, "2001:db8::1", &[]).await.0.is_ok());
    assert!(call(&p, "2001:db8::1", &[]).await.0.is_err());
    assert!(call(&p, "2001:db8::2", &[]).await.0.is_ok());
    // A mapped IPv4 address is the same client as the IPv4 address.
    assert!(call(&p, "192.0.2.1", &[]).await.0.is_ok());
    assert!(call(&p, "::ffff:192.0.2.1", &[]).await.0.is_err());
}

#[tokio::test(start_paused = true)]
async fn header_key_separates_values_and_shares_missing() {
    let p = policy(&[spec(
        1,
        60,
        None,
        RateLimitKeySpec::Header("x-tenant".into()),
    )]);
    assert!(call(&p, "10.0.0.1", &[("x-tenant", "a")]).await.0.is_ok());
    assert!(call(&p, "10.0.0.2", &[("x-tenant", "a")]).await.0.is_err());
    assert!(call(&p, "10.0.0.1", &[("x-tenant", "b")]).await.0.is_ok());
    assert!(call(&p, "10.0.0.1", &[]).await.0.is_ok());
    assert!(
        call(&p, "10.0.0.2", &[]).await.0.is_err(),
        "requests without the header share one bucket"
    );
}

#[tokio::test(start_paused = true)]
async fn consumer_key_falls_back_to_client_ip() {
    let p = policy(&[spec(1, 60, None, RateLimitKeySpec::Consumer)]);
    let mut req = parts("GET", "/", &[]);
    let web = Consumer::unrestricted("web", "web", None);
    for ip in ["10.0.0.1", "10.0.0.2"] {
        let mut ctx = ctx_from(ip);
        ctx.consumer = Some(web.clone());
        let r = p.on_request(&mut req, &mut ctx).await;
        assert_eq!(
            r.is_ok(),
            ip == "10.0.0.1",
            "one bucket per consumer, whatever the IP"
        );
    }
    assert!(
        call(&p, "10.0.0.1", &[]).await.0.is_ok(),
        "anonymous callers are counted by IP"
    );
    assert!(call(&p, "10.0.0.1", &[]).await.0.is_err());
}

#[tokio::test(start_paused = true)]
async fn the_tightest_limit_is_reported() {
    let p = policy(&[
        spec(100, 60, None, RateLimitKeySpec::Route),
        spec(5, 1, Some(2), RateLimitKeySpec::ClientIp),
    ]);
    let (r, ctx) = call(&p, "10.0.0.1", &[]).await;
    r.unwrap();
    assert_eq!(ctx.response_headers[RATELIMIT_LIMIT], "2");
    assert_eq!(ctx.response_headers[RATELIMIT_REMAINING], "1");
}

#[test]
fn bucket_names_are_namespaced() {
    let p = policy(&[
        spec(1, 1, None, RateLimitKeySpec::Route),
        spec(1, 1, None, RateLimitKeySpec::Header("x-k".into())),
        spec(1, 1, None, RateLimitKeySpec::Consumer),
    ]);
    let long = "v".repeat(100);
    let req = parts("GET", "/", &[("x-k", &long)]);
    let ctx = ctx_from("::ffff:10.1.2.3");
    let names: Vec<_> = p.limits.iter().map(|l| l.bucket(&req, &ctx)).collect();
    assert_eq!(names[0], "api#0:route:");
    assert!(names[1].starts_with("api#1:header:sha256="), "{}", names[1]);
    assert_eq!(names[1].len(), "api#1:header:sha256=".len() + 64);
    assert_eq!(names[2], "api#2:ip:10.1.2.3");
}

#[test]
fn bad_specs_are_all_reported() {
    let errors = RateLimit::new(
        &[
            spec(0, 1, None, RateLimitKeySpec::Route),
            spec(1, 0, Some(0), RateLimitKeySpec::Header("bad header".into())),
        ],
        "api",
        Arc::new(LocalLimiter::new()),
    )
    .unwrap_err();
    assert_eq!(
        errors,
        [
            "rate_limits[0]: requests must be at least 1",
            "rate_limits[1]: per must be longer than 0s",
            "rate_limits[1]: burst must be at least 1",
            "rate_limits[1]: `bad header` is not a header name",
        ]
    );
}

/// A limiter that answers through a future, like a remote store, and
/// records the buckets it was asked about.
#[derive(Debug, Default)]
struct RemoteLike {
    asked: Mutex<Vec<String>>,
}

impl RateLimiter for RemoteLike {
    fn acquire<'a>(&'a self, key: &'a str, quota: Quota, _cost: u32) -> LimitFuture<'a> {
        LimitFuture::Pending(Box::pin(async move {
            self.asked.lock().unwrap().push(key.to_owned());
            LimitDecision {
                allowed: !key.contains("#1"),
                remaining: u64::from(quota.burst) - 1,
                reset_after: Duration::from_secs(1),
                retry_after: Duration::from_millis(250),
            }
        }))
    }
}

#[tokio::test]
async fn pending_limiters_are_awaited_once_per_limit() {
    let remote = Arc::new(RemoteLike::default());
    let p = RateLimit::new(
        &[
            spec(5, 1, None, RateLimitKeySpec::Route),
            spec(5, 1, None, RateLimitKeySpec::ClientIp),
        ],
        "api",
        remote.clone(),
    )
    .unwrap();
    let mut req = parts("GET", "/", &[]);
    let mut ctx = ctx_from("10.0.0.1");
    let step = p.on_request(&mut req, &mut ctx);
    assert!(matches!(step, Step::Pending(_)));
    let err = step.await.unwrap_err();
    assert_eq!(err.headers()[RETRY_AFTER], "1");
    assert_eq!(
        *remote.asked.lock().unwrap(),
        ["api#0:route:", "api#1:ip:10.0.0.1"]
    );
}
