//! The quota policy against the in-memory ledger, in paused time.

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use sy_config::{LimitsSpec, Usd};
use sy_state::{LocalLedger, quota::unix_ms};

use super::*;
use crate::consumer::{Consumer, Grants, ScopedLimits};
use crate::test_util::{ctx_from, parts, response};

fn ledger() -> Arc<LocalLedger> {
    Arc::new(LocalLedger::with_origin(
        unix_ms(2026, 11, 23, 20, 48, 0),
        1000,
    ))
}

fn consumer(limits: Vec<(LimitScope, &str, LimitsSpec)>) -> Consumer {
    let mut c = Consumer::unrestricted("web", "web", Some("acme"));
    c.grants = Arc::new(Grants {
        limits: limits
            .into_iter()
            .map(|(scope, id, limits)| ScopedLimits {
                scope,
                id: Arc::from(id),
                limits,
            })
            .collect(),
        ..Grants::default()
    });
    c
}

async fn run(p: &QuotaPolicy, ctx: &mut RequestContext) -> Result<Flow, PolicyError> {
    let mut req = parts("POST", "/", &[]);
    p.on_request(&mut req, ctx).await
}

fn rpm(n: u64) -> LimitsSpec {
    LimitsSpec {
        requests_per_minute: Some(n),
        ..LimitsSpec::default()
    }
}

fn concurrent(n: u64) -> LimitsSpec {
    LimitsSpec {
        concurrent_requests: Some(n),
        ..LimitsSpec::default()
    }
}

#[tokio::test(start_paused = true)]
async fn route_requests_per_minute_apply_to_everyone_with_openai_headers() {
    let p = QuotaPolicy::new("api", &rpm(2), ledger());
    let mut first = ctx_from("10.0.0.1");
    assert!(matches!(run(&p, &mut first).await, Ok(Flow::Continue)));
    let mut res = response(&[]);
    p.on_response(&mut res, &first);
    assert_eq!(res.headers["x-ratelimit-limit-requests"], "2");
    assert_eq!(res.headers["x-ratelimit-remaining-requests"], "1");
    assert_eq!(res.headers["x-ratelimit-reset-requests"], "1m0s");
    assert!(!res.headers.contains_key("x-ratelimit-limit-tokens"));
    assert!(run(&p, &mut ctx_from("10.0.0.2")).await.is_ok());
    let err = run(&p, &mut ctx_from("10.0.0.3")).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(err.code(), "rate_limit_exceeded");
    assert_eq!(
        err.to_string(),
        "route \"api\" requests per minute limit of 2 reached: 2 used; resets at \
         2026-11-23T20:49:00Z (in 1m0s)"
    );
    let h = err.headers();
    assert_eq!(h["retry-after"], "60");
    assert_eq!(h["x-ratelimit-remaining-requests"], "0");
    assert_eq!(h["x-ratelimit-limit-requests"], "2");
    tokio::time::advance(Duration::from_secs(60)).await;
    assert!(run(&p, &mut ctx_from("10.0.0.3")).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn caller_limits_count_per_key_consumer_and_tenant_all_or_nothing() {
    let l = ledger();
    let p = QuotaPolicy::new("api", &LimitsSpec::default(), l.clone());
    let web = consumer(vec![
        (LimitScope::Key, "key-1", rpm(5)),
        (LimitScope::Consumer, "web", rpm(3)),
        (LimitScope::Tenant, "acme", rpm(10)),
    ]);
    let mut tightest = None;
    for _ in 0..3 {
        let mut ctx = ctx_from("10.0.0.1");
        ctx.consumer = Some(web.clone());
        run(&p, &mut ctx).await.unwrap();
        tightest = ctx.extensions.get::<RateLimitHeaders>().copied();
    }
    // The consumer's 3 per minute is the tightest after three requests.
    let g = tightest.unwrap().requests.unwrap();
    assert_eq!((g.limit, g.remaining), (3, 0));
    let mut ctx = ctx_from("10.0.0.1");
    ctx.consumer = Some(web.clone());
    let err = run(&p, &mut ctx).await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("consumer \"web\" requests per minute limit of 3"),
        "{err}"
    );
    // Refused: the key and tenant counters took nothing.
    let key = CounterId {
        scope: Scope::Key,
        entity: Arc::from("key-1"),
        measure: Measure::RequestsPerMinute,
    };
    assert_eq!(l.current(&key), 3);
    // Another consumer of no limits is not affected; without a consumer
    // and without route limits the policy takes nothing.
    let mut anon = ctx_from("10.0.0.9");
    assert!(run(&p, &mut anon).await.is_ok());
    assert!(anon.extensions.get::<RateLimitHeaders>().is_none());
}

#[tokio::test(start_paused = true)]
async fn concurrency_is_held_as_long_as_the_context_extensions_live() {
    let l = ledger();
    let p = QuotaPolicy::new("api", &concurrent(1), l.clone());
    let mut first = ctx_from("10.0.0.1");
    run(&p, &mut first).await.unwrap();
    let err = run(&p, &mut ctx_from("10.0.0.2")).await.unwrap_err();
    assert!(err.to_string().contains("1 in flight"), "{err}");
    assert_eq!(err.headers()["retry-after"], "1");
    // The proxy keeps the extensions until the body ends; then they drop.
    let held = std::mem::take(&mut first.extensions);
    drop(first);
    assert!(
        run(&p, &mut ctx_from("10.0.0.3")).await.is_err(),
        "still held"
    );
    drop(held);
    let mut next = ctx_from("10.0.0.3");
    assert!(
        run(&p, &mut next).await.is_ok(),
        "freed with the extensions"
    );
}

#[tokio::test(start_paused = true)]
async fn headers_written_by_the_endpoint_are_kept() {
    let p = QuotaPolicy::new("api", &rpm(10), ledger());
    let mut ctx = ctx_from("10.0.0.1");
    run(&p, &mut ctx).await.unwrap();
    let mut res = response(&[("x-ratelimit-limit-requests", "4")]);
    p.on_response(&mut res, &ctx);
    assert_eq!(res.headers["x-ratelimit-limit-requests"], "4");
}

#[test]
fn limits_map_to_charges_and_spend_to_micro_dollars() {
    let limits = LimitsSpec {
        requests_per_minute: Some(1),
        tokens_per_minute: Some(2),
        tokens_per_day: Some(3),
        concurrent_requests: Some(4),
        spend_per_day: Some(Usd(5_000_000)),
        spend_per_month: Some(Usd(-1)),
    };
    let mut out = Vec::new();
    push_charges(&mut out, Scope::Tenant, &Arc::from("acme"), &limits, |m| {
        (m.metric() == Metric::Spend).then_some(7)
    });
    let got: Vec<_> = out
        .iter()
        .map(|c| (c.counter.measure, c.limit, c.amount))
        .collect();
    assert_eq!(
        got,
        [
            (Measure::SpendPerDay, 5_000_000, 7),
            (Measure::SpendPerMonth, 0, 7)
        ]
    );
    assert_eq!(Scope::from(LimitScope::Model), Scope::Model);
}

#[tokio::test(start_paused = true)]
async fn a_spent_budget_is_insufficient_quota() {
    let l = ledger();
    let limits = LimitsSpec {
        spend_per_day: Some(Usd(1)),
        ..LimitsSpec::default()
    };
    let mut charges = Vec::new();
    push_charges(
        &mut charges,
        Scope::Tenant,
        &Arc::from("acme"),
        &limits,
        |_| Some(2),
    );
    let refusal = match l.reserve(&charges) {
        QuotaFuture::Ready(Err(r)) => r,
        _ => panic!("expected a refusal"),
    };
    let err = refusal_error(refusal, RateLimitHeaders::default());
    assert_eq!(err.code(), "insufficient_quota");
    assert!(
        err.headers().get("retry-after").is_none(),
        "a request over the whole budget never fits"
    );
}
