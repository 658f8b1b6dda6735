//! Paused-time tests for the GCRA limiter: every duration below is exact
//! because the clock only moves when a test advances it.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::advance;

use super::*;

fn quota(rate: u32, period_ms: u64, burst: u32) -> Quota {
    Quota {
        rate,
        period: Duration::from_millis(period_ms),
        burst,
    }
}

fn take(l: &LocalLimiter, key: &str, q: Quota) -> LimitDecision {
    match l.acquire(key, q, 1) {
        LimitFuture::Ready(d) => d,
        LimitFuture::Pending(_) => panic!("the local limiter must decide synchronously"),
    }
}

fn take_n(l: &LocalLimiter, key: &str, q: Quota, cost: u32) -> LimitDecision {
    match l.acquire(key, q, cost) {
        LimitFuture::Ready(d) => d,
        LimitFuture::Pending(_) => panic!("the local limiter must decide synchronously"),
    }
}

#[tokio::test(start_paused = true)]
async fn burst_then_refused_with_exact_retry_after() {
    let l = LocalLimiter::new();
    let q = quota(10, 1000, 10);
    for i in 0..10 {
        let d = take(&l, "k", q);
        assert!(d.allowed, "request {i} should pass");
        assert_eq!(d.remaining, 9 - i);
        assert_eq!(d.retry_after, Duration::ZERO);
    }
    let d = take(&l, "k", q);
    assert!(!d.allowed);
    assert_eq!(d.remaining, 0);
    // One token every 100 ms; the bucket is full again after a second.
    assert_eq!(d.retry_after, Duration::from_millis(100));
    assert_eq!(d.reset_after, Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_accurate_to_the_nanosecond() {
    let l = LocalLimiter::new();
    let q = quota(10, 1000, 1);
    assert!(take(&l, "k", q).allowed);
    let d = take(&l, "k", q);
    assert_eq!(d.retry_after, Duration::from_millis(100));
    advance(d.retry_after - Duration::from_nanos(1)).await;
    assert!(
        !take(&l, "k", q).allowed,
        "one nanosecond early is still refused"
    );
    advance(Duration::from_nanos(1)).await;
    assert!(take(&l, "k", q).allowed);
}

#[tokio::test(start_paused = true)]
async fn steady_rate_is_sustained() {
    // 3 per second (an interval of 333.33… ms, which no whole number of
    // nanoseconds matches) with a bucket of 2, polled every 10 ms for 30 s.
    // The n-th request (from 0) passes once t >= (n - 1) / 3 s, so the last
    // poll at 29.99 s admits n = 90: 91 in all.
    let l = LocalLimiter::new();
    let q = quota(3, 1000, 2);
    let mut allowed = 0;
    for _ in 0..3000 {
        if take(&l, "k", q).allowed {
            allowed += 1;
        }
        advance(Duration::from_millis(10)).await;
    }
    assert_eq!(allowed, 91);
}

#[tokio::test(start_paused = true)]
async fn lateness_is_not_forgiven_with_a_bucket_of_one() {
    // With room for one token, a client that comes back late loses the time
    // it was late by: GCRA never banks more than `burst`.
    let l = LocalLimiter::new();
    let q = quota(1, 1000, 1);
    assert!(take(&l, "k", q).allowed);
    advance(Duration::from_millis(1500)).await;
    assert!(take(&l, "k", q).allowed);
    advance(Duration::from_millis(999)).await;
    assert!(!take(&l, "k", q).allowed);
}

#[tokio::test(start_paused = true)]
async fn refill_restores_tokens_and_reset_after_shrinks() {
    let l = LocalLimiter::new();
    let q = quota(4, 1000, 4);
    for _ in 0..4 {
        assert!(take(&l, "k", q).allowed);
    }
    advance(Duration::from_millis(500)).await;
    let d = take(&l, "k", q);
    assert!(d.allowed);
    // Two tokens came back, one was spent.
    assert_eq!(d.remaining, 1);
    assert_eq!(d.reset_after, Duration::from_millis(750));
    advance(Duration::from_secs(10)).await;
    let d = take(&l, "k", q);
    assert_eq!(d.remaining, 3, "refill stops at the bucket size");
}

#[tokio::test(start_paused = true)]
async fn refused_requests_take_nothing() {
    let l = LocalLimiter::new();
    let q = quota(1, 1000, 1);
    assert!(take(&l, "k", q).allowed);
    for _ in 0..50 {
        assert!(!take(&l, "k", q).allowed);
    }
    advance(Duration::from_secs(1)).await;
    assert!(
        take(&l, "k", q).allowed,
        "hammering while refused must not push the limit back"
    );
}

#[tokio::test(start_paused = true)]
async fn keys_are_isolated() {
    let l = LocalLimiter::new();
    let q = quota(1, 60_000, 2);
    assert!(take(&l, "a", q).allowed);
    assert!(take(&l, "a", q).allowed);
    assert!(!take(&l, "a", q).allowed);
    let b = take(&l, "b", q);
    assert!(b.allowed);
    assert_eq!(b.remaining, 1);
}

#[tokio::test(start_paused = true)]
async fn cost_larger_than_burst_never_fits() {
    let l = LocalLimiter::new();
    let q = quota(100, 1000, 5);
    let d = take_n(&l, "k", q, 6);
    assert!(!d.allowed);
    assert_eq!(d.retry_after, Duration::MAX);
    assert_eq!(d.remaining, 5, "nothing was taken");
    let d = take_n(&l, "k", q, 5);
    assert!(d.allowed);
    assert_eq!(d.remaining, 0);
}

#[tokio::test(start_paused = true)]
async fn weighted_cost_waits_for_enough_tokens() {
    let l = LocalLimiter::new();
    let q = quota(10, 1000, 10);
    assert!(take_n(&l, "k", q, 8).allowed);
    let d = take_n(&l, "k", q, 5);
    assert!(!d.allowed);
    assert_eq!(d.remaining, 2);
    // Three more tokens at 100 ms each.
    assert_eq!(d.retry_after, Duration::from_millis(300));
}

#[tokio::test(start_paused = true)]
async fn degenerate_quotas() {
    let l = LocalLimiter::new();
    let d = take(&l, "k", quota(0, 1000, 5));
    assert!(!d.allowed);
    assert_eq!(d.retry_after, Duration::MAX);
    let d = take(&l, "k", quota(5, 0, 5));
    assert!(d.allowed);
    assert!(l.is_empty(), "an unlimited quota keeps no state");
}

#[tokio::test(start_paused = true)]
async fn a_quota_change_keeps_the_time_to_full() {
    let l = LocalLimiter::new();
    assert!(take_n(&l, "k", quota(10, 1000, 10), 10).allowed);
    // Reloaded as 20 per second: the bucket is still a full second from
    // refilled, so it is empty under the new quota too.
    let d = take(&l, "k", quota(20, 1000, 20));
    assert!(!d.allowed);
    assert_eq!(d.retry_after, Duration::from_millis(50));
    advance(Duration::from_millis(500)).await;
    let d = take(&l, "k", quota(20, 1000, 20));
    assert!(d.allowed);
    assert_eq!(d.remaining, 9);
}

#[tokio::test(start_paused = true)]
async fn sweep_drops_only_full_buckets() {
    let l = LocalLimiter::new();
    let q = quota(1, 1000, 2);
    take(&l, "short", q);
    take_n(&l, "long", q, 2);
    assert_eq!(l.len(), 2);
    advance(Duration::from_secs(1)).await;
    assert_eq!(l.sweep(), 1);
    assert_eq!(l.len(), 1);
    advance(Duration::from_secs(1)).await;
    assert_eq!(l.sweep(), 1);
    assert!(l.is_empty());
    // A swept key starts again from a full bucket.
    assert_eq!(take(&l, "long", q).remaining, 1);
}

#[tokio::test(start_paused = true)]
async fn key_cap_bounds_memory_and_fails_open() {
    let l = LocalLimiter::with_max_keys(2);
    let q = quota(1, 60_000, 1);
    assert!(take(&l, "a", q).allowed);
    assert!(take(&l, "b", q).allowed);
    // No bucket is full, so a forced sweep frees nothing.
    assert!(take(&l, "c", q).allowed);
    assert!(
        take(&l, "c", q).allowed,
        "an overflowed key is not remembered"
    );
    assert_eq!(l.len(), 2);
    assert_eq!(l.overflows(), 2);
    // Once a bucket refills, the forced sweep makes room.
    advance(Duration::from_secs(60)).await;
    assert!(take(&l, "d", q).allowed);
    assert!(!take(&l, "d", q).allowed, "d is tracked now");
    assert_eq!(l.overflows(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_acquires_allow_exactly_the_burst() {
    // Real time here, so the rate is tiny: no token comes back mid-test.
    let l = Arc::new(LocalLimiter::new());
    let q = Quota {
        rate: 1,
        period: Duration::from_secs(3600),
        burst: 100,
    };
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let l = Arc::clone(&l);
        tasks.spawn(async move {
            let mut allowed = 0u32;
            for _ in 0..50 {
                if take(&l, "shared", q).allowed {
                    allowed += 1;
                }
                tokio::task::yield_now().await;
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
