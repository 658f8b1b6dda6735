//! `RedisLimiter` against LocalLimiter's behaviour. Redis's clock cannot be
//! paused, so quotas are either slow (no token comes back during the test,
//! and durations are checked within the few milliseconds the test itself
//! takes) or fast, with refills awaited in bounded loops.

use std::sync::Arc;
use std::time::Duration;

use sy_state::{LimitDecision, LimitFuture, Quota, RateLimiter};
use tokio::time::Instant;

use crate::redis_or_skip;

fn quota(rate: u32, period: Duration, burst: u32) -> Quota {
    Quota {
        rate,
        period,
        burst,
    }
}

async fn take(l: &dyn RateLimiter, key: &str, q: Quota, cost: u32) -> LimitDecision {
    match l.acquire(key, q, cost) {
        LimitFuture::Pending(f) => f.await,
        LimitFuture::Ready(_) => panic!("a stateful quota must go to Redis"),
    }
}

/// `d` is at most `full` and at least `full - slack`: a duration that
/// started at `full` and ran down while the test ran.
fn about(d: Duration, full: Duration, slack: Duration) -> bool {
    d <= full && d + slack >= full
}

const SLACK: Duration = Duration::from_secs(1);

#[tokio::test]
async fn burst_then_refused_with_retry_after() {
    let r = redis_or_skip!("burst");
    let l = r.node().limiter();
    // One token every 10 s: none comes back while the test runs.
    let q = quota(10, Duration::from_secs(100), 10);
    for i in 0..10 {
        let d = take(&l, "k", q, 1).await;
        assert!(d.allowed, "request {i} should pass");
        assert_eq!(d.remaining, 9 - i);
        assert_eq!(d.retry_after, Duration::ZERO);
    }
    let d = take(&l, "k", q, 1).await;
    assert!(!d.allowed);
    assert_eq!(d.remaining, 0);
    assert!(
        about(d.retry_after, Duration::from_secs(10), SLACK),
        "{d:?}"
    );
    assert!(
        about(d.reset_after, Duration::from_secs(100), SLACK),
        "{d:?}"
    );
    assert_eq!(r.keys().await, [l.key("k")], "one key per bucket");
}

#[tokio::test]
async fn tokens_come_back_when_retry_after_says() {
    let r = redis_or_skip!("refill");
    let l = r.node().limiter();
    // One token every 50 ms, a bucket of two.
    let q = quota(20, Duration::from_secs(1), 2);
    assert!(take(&l, "k", q, 1).await.allowed);
    assert!(take(&l, "k", q, 1).await.allowed);
    let sent = Instant::now();
    let refused = take(&l, "k", q, 1).await;
    assert!(!refused.allowed);
    assert!(
        refused.retry_after <= Duration::from_millis(50),
        "{refused:?}"
    );
    let allowed = loop {
        assert!(
            sent.elapsed() < Duration::from_secs(5),
            "no token came back"
        );
        let d = take(&l, "k", q, 1).await;
        if d.allowed {
            break Instant::now();
        }
    };
    // The server decided the refusal after `sent` and the grant before
    // now, so at least `retry_after` passed in between (to the µs).
    assert!(
        allowed - sent + Duration::from_micros(1) >= refused.retry_after,
        "allowed after {:?}, retry_after was {:?}",
        allowed - sent,
        refused.retry_after
    );
    // Refill stops at the bucket size: once full, probes (cost 0) keep
    // seeing two tokens however long they go on.
    while take(&l, "k", q, 0).await.reset_after > Duration::ZERO {
        assert!(
            sent.elapsed() < Duration::from_secs(5),
            "the bucket never filled"
        );
    }
    for _ in 0..50 {
        let d = take(&l, "k", q, 0).await;
        assert_eq!((d.remaining, d.reset_after), (2, Duration::ZERO));
    }
}

#[tokio::test]
async fn refused_requests_take_nothing() {
    let r = redis_or_skip!("refused");
    let l = r.node().limiter();
    // A minute per token: nothing refills while the test runs.
    let q = quota(1, Duration::from_secs(60), 1);
    assert!(take(&l, "k", q, 1).await.allowed);
    let first = take(&l, "k", q, 0).await.reset_after;
    for _ in 0..20 {
        assert!(!take(&l, "k", q, 1).await.allowed);
    }
    // Had the refusals taken tokens, the bucket would be full 20 minutes
    // later instead of within the one minute of the first grant.
    let d = take(&l, "k", q, 0).await;
    assert!(
        d.reset_after <= first,
        "{d:?} after refusals, {first:?} before"
    );
    assert!(d.reset_after > Duration::from_secs(50), "{d:?}");
}

#[tokio::test]
async fn weighted_costs_and_cost_over_burst() {
    let r = redis_or_skip!("weighted");
    let l = r.node().limiter();
    let q = quota(10, Duration::from_secs(100), 10);
    assert!(take(&l, "k", q, 8).await.allowed);
    let d = take(&l, "k", q, 5).await;
    assert!(!d.allowed);
    assert_eq!(d.remaining, 2);
    // Three more tokens at 10 s each.
    assert!(
        about(d.retry_after, Duration::from_secs(30), SLACK),
        "{d:?}"
    );
    // A cost larger than the bucket never fits, and takes nothing.
    let q = quota(100, Duration::from_secs(1000), 5);
    let d = take(&l, "big", q, 6).await;
    assert!(!d.allowed);
    assert_eq!(d.retry_after, Duration::MAX);
    assert_eq!(d.remaining, 5, "nothing was taken");
    let d = take(&l, "big", q, 5).await;
    assert!(d.allowed);
    assert_eq!(d.remaining, 0);
}

#[tokio::test]
async fn degenerate_quotas_are_decided_without_redis() {
    let r = redis_or_skip!("degenerate");
    let l = r.node().limiter();
    let LimitFuture::Ready(d) = l.acquire("k", quota(0, Duration::from_secs(1), 5), 1) else {
        panic!("rate 0 needs no state");
    };
    assert!(!d.allowed);
    assert_eq!(d.retry_after, Duration::MAX);
    let LimitFuture::Ready(d) = l.acquire("k", quota(5, Duration::ZERO, 5), 1) else {
        panic!("period 0 needs no state");
    };
    assert!(d.allowed);
    assert_eq!(d.remaining, 5);
    assert!(r.keys().await.is_empty(), "no state kept");
}

#[tokio::test]
async fn a_quota_change_keeps_the_time_to_full() {
    let r = redis_or_skip!("reload");
    let l = r.node().limiter();
    let before = quota(10, Duration::from_secs(100), 10);
    assert!(take(&l, "k", before, 10).await.allowed);
    // Twice the rate and the bucket: still 100 s from full, so empty, with
    // the next token 5 s away.
    let after = quota(20, Duration::from_secs(100), 20);
    let d = take(&l, "k", after, 1).await;
    assert!(!d.allowed);
    assert!(about(d.retry_after, Duration::from_secs(5), SLACK), "{d:?}");
}

#[tokio::test]
async fn a_pending_acquire_does_nothing_until_polled() {
    let r = redis_or_skip!("lazy");
    let l = r.node().limiter();
    let q = quota(1, Duration::from_secs(100), 3);
    let unpolled = l.acquire("k", q, 1);
    assert!(matches!(unpolled, LimitFuture::Pending(_)));
    drop(unpolled);
    assert!(r.keys().await.is_empty(), "a dropped future touched Redis");
    assert_eq!(take(&l, "k", q, 1).await.remaining, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_share_one_bucket() {
    let r = redis_or_skip!("nodes");
    let (a, b) = (Arc::new(r.node().limiter()), Arc::new(r.node().limiter()));
    let q = quota(1, Duration::from_secs(3600), 10);
    // Alternating: the second node sees what the first took.
    for i in 0..10u64 {
        let node = if i % 2 == 0 { &a } else { &b };
        let d = take(node.as_ref(), "shared", q, 1).await;
        assert!(d.allowed);
        assert_eq!(d.remaining, 9 - i);
    }
    assert!(!take(a.as_ref(), "shared", q, 1).await.allowed);
    assert!(!take(b.as_ref(), "shared", q, 1).await.allowed);
    // Keys stay apart.
    assert!(take(b.as_ref(), "other", q, 1).await.allowed);

    // Concurrently: 16 tasks on each node, 50 attempts each, one bucket of
    // 100: exactly 100 pass.
    let q = quota(1, Duration::from_secs(3600), 100);
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..32 {
        let node = Arc::clone(if t % 2 == 0 { &a } else { &b });
        tasks.spawn(async move {
            let mut allowed = 0u32;
            for _ in 0..50 {
                if take(node.as_ref(), "race", q, 1).await.allowed {
                    allowed += 1;
                }
            }
            allowed
        });
    }
    let mut total = 0;
    while let Some(n) = tasks.join_next().await {
        total += n.unwrap();
    }
    assert_eq!(total, 100);
}
