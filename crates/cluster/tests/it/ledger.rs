//! `RedisLedger` against LocalLedger's behaviour, plus what only a shared
//! ledger has: several nodes on one budget, leases of concurrency slots.

use std::time::Duration;

use sy_cluster::{LedgerOptions, RedisLedger};
use sy_state::quota::{format_duration, unix_ms, window_bounds};
use sy_state::{Actual, Charge, Measure, QuotaFuture, QuotaLedger, Refusal, Reservation, Scope};

use crate::common::{TestRedis, charge, id, wait_for};
use crate::redis_or_skip;

async fn reserve(l: &RedisLedger, charges: &[Charge]) -> Result<Reservation, Refusal> {
    match l.reserve(charges) {
        QuotaFuture::Pending(f) => f.await,
        QuotaFuture::Ready(_) => panic!("a reservation must go to Redis"),
    }
}

/// A ledger whose clock reads `at` (Unix ms) now.
async fn ledger_at(r: &TestRedis, at: u64, options: LedgerOptions) -> RedisLedger {
    let shift = i64::try_from(at).unwrap() - i64::try_from(r.server_ms().await).unwrap();
    r.node().ledger(LedgerOptions {
        clock_shift_ms: shift,
        ..options
    })
}

#[tokio::test]
async fn all_or_none_leaves_every_counter_unchanged() {
    let r = redis_or_skip!("all-or-none");
    // 20:48:00.250 on the server's clock: the minute ends 59.75 s later.
    let l = ledger_at(
        &r,
        unix_ms(2026, 11, 23, 20, 48, 0) + 250,
        LedgerOptions::default(),
    )
    .await;
    let tokens = charge(Scope::Key, "k", Measure::TokensPerMinute, 1000, 600);
    let spend = |amount| {
        charge(
            Scope::Tenant,
            "acme",
            Measure::SpendPerDay,
            5_000_000,
            amount,
        )
    };
    let first = reserve(&l, &[tokens.clone(), spend(3_000_000)])
        .await
        .unwrap();
    assert_eq!(first.held().len(), 2);
    assert_eq!(first.held()[0].remaining(), 400);
    assert_eq!(
        first.held()[0].resets_at,
        Some(unix_ms(2026, 11, 23, 20, 49, 0))
    );
    assert_eq!(
        first.held()[1].resets_at,
        Some(unix_ms(2026, 11, 24, 0, 0, 0))
    );
    // The spend fits, the tokens do not: neither is taken.
    let refused = reserve(&l, &[spend(1_000_000), tokens.clone()])
        .await
        .unwrap_err();
    assert_eq!(refused.counter, tokens.counter);
    assert_eq!(
        (refused.limit, refused.used, refused.requested),
        (1000, 600, 600)
    );
    assert_eq!(refused.resets_at, Some(unix_ms(2026, 11, 23, 20, 49, 0)));
    assert!(
        refused.retry_after <= Duration::from_millis(59_750)
            && refused.retry_after >= Duration::from_millis(58_000),
        "{:?}",
        refused.retry_after
    );
    assert!(!refused.unavailable);
    assert_eq!(l.current(&spend(0).counter), 3_000_000, "spend untouched");
    assert_eq!(l.current(&tokens.counter), 600, "tokens untouched");
    // The other way round: the spend is over, the tokens stay.
    let small = charge(Scope::Key, "k", Measure::TokensPerMinute, 1000, 400);
    let refused = reserve(&l, &[small.clone(), spend(2_000_001)])
        .await
        .unwrap_err();
    assert_eq!(refused.counter, spend(0).counter);
    assert_eq!(
        refused.to_string(),
        format!(
            "tenant \"acme\" spend per day limit of $5.00 would be passed: $3.00 used, this \
             request needs up to $2.000001; resets at 2026-11-24T00:00:00Z (in {})",
            format_duration(refused.retry_after)
        )
    );
    assert!(refused.retry_after > Duration::from_secs(3 * 3600 + 11 * 60));
    assert_eq!(l.current(&tokens.counter), 600);
    // A counter charged twice in one reservation counts both amounts.
    let twice = charge(Scope::Route, "r", Measure::RequestsPerMinute, 3, 2);
    let refused = reserve(&l, &[twice.clone(), twice.clone()])
        .await
        .unwrap_err();
    assert_eq!((refused.used, refused.requested), (2, 2));
    assert_eq!(l.current(&twice.counter), 0);
    // What fits both gets through, up to the limits exactly.
    let ok = reserve(&l, &[small, spend(2_000_000)]).await.unwrap();
    assert_eq!(ok.held()[0].remaining(), 0);
    assert_eq!(ok.held()[1].remaining(), 0);
    // A request alone over its limit can never fit.
    let never = reserve(
        &l,
        &[charge(Scope::Key, "k", Measure::TokensPerDay, 10, 11)],
    )
    .await
    .unwrap_err();
    assert!(never.never_fits());
    assert_eq!(never.retry_after, Duration::MAX);
    assert_eq!(never.used, 0);
}

#[tokio::test]
async fn settle_replaces_the_estimate_up_or_down() {
    let r = redis_or_skip!("settle");
    let l = r.node().ledger(LedgerOptions::default());
    let c = || {
        [
            charge(Scope::Consumer, "web", Measure::TokensPerDay, 1000, 300),
            charge(Scope::Consumer, "web", Measure::SpendPerMonth, 1000, 300),
            charge(Scope::Consumer, "web", Measure::RequestsPerMinute, 10, 1),
        ]
    };
    let counters: Vec<_> = c().into_iter().map(|c| c.counter).collect();
    let first = reserve(&l, &c()).await.unwrap();
    assert_eq!(l.current(&counters[0]), 300);
    first.settle(Actual {
        tokens: 120,
        spend: 90,
    });
    first.settle(Actual {
        tokens: 999,
        spend: 999,
    });
    l.flush().await;
    assert_eq!(
        l.current(&counters[0]),
        120,
        "settled down; only the first counts"
    );
    assert_eq!(l.current(&counters[1]), 90);
    assert_eq!(l.current(&counters[2]), 1, "a request stays counted");
    // Above the estimate is recorded, even past the limit.
    let second = reserve(&l, &c()).await.unwrap();
    second.settle(Actual {
        tokens: 950,
        spend: 10,
    });
    l.flush().await;
    assert_eq!(l.current(&counters[0]), 1070);
    let refused = reserve(&l, &c()).await.unwrap_err();
    assert_eq!(refused.counter, counters[0]);
    assert_eq!(refused.used, 1070);
    assert_eq!(
        l.current(&counters[2]),
        2,
        "the refused request took nothing"
    );
    // A counter lost meanwhile (evicted, or Redis restarted empty) and made
    // again by a newer call is never settled below zero.
    let lost = charge(Scope::Consumer, "lost", Measure::TokensPerDay, 1000, 300);
    let third = reserve(&l, std::slice::from_ref(&lost)).await.unwrap();
    let key = l.key(&lost.counter, third.held()[0].window_start);
    let _: () = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut r.conn().await)
        .await
        .unwrap();
    let newer = Charge {
        amount: 100,
        ..lost.clone()
    };
    let _newer = reserve(&l, &[newer]).await.unwrap();
    third.settle(Actual::default());
    l.flush().await;
    assert_eq!(l.current(&lost.counter), 0);
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut r.conn().await)
        .await
        .unwrap();
    assert!(ttl > 0, "the counter keeps its expiry: {ttl}");
    // A counter gone for good is not made again by a late settlement.
    let gone = charge(Scope::Consumer, "gone", Measure::TokensPerDay, 1000, 300);
    let fourth = reserve(&l, std::slice::from_ref(&gone)).await.unwrap();
    let key = l.key(&gone.counter, fourth.held()[0].window_start);
    let _: () = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut r.conn().await)
        .await
        .unwrap();
    fourth.settle(Actual {
        tokens: 500,
        spend: 0,
    });
    l.flush().await;
    assert!(
        r.keys().await.iter().all(|k| *k != key),
        "{key} was made again"
    );
}

#[tokio::test]
async fn settlement_lands_on_the_window_the_call_started_in() {
    let r = redis_or_skip!("late-settle");
    // Half a second before the minute ends.
    let minute_end = unix_ms(2026, 11, 23, 20, 49, 0);
    let l = ledger_at(&r, minute_end - 500, LedgerOptions::default()).await;
    let tpm = charge(Scope::Key, "k", Measure::TokensPerMinute, 1000, 100);
    let held = reserve(&l, std::slice::from_ref(&tpm)).await.unwrap();
    let start = held.held()[0].window_start;
    assert_eq!(
        held.held()[0].resets_at,
        Some(minute_end),
        "reserved in the old minute"
    );
    // A node whose clock is already in the next minute: the call settles
    // after its window ended, without the test waiting for it to end.
    let after = ledger_at(&r, minute_end + 100, LedgerOptions::default()).await;
    assert_eq!(after.current(&tpm.counter), 0, "the next minute is empty");
    held.settle(Actual {
        tokens: 40,
        spend: 0,
    });
    l.flush().await;
    assert_eq!(
        r.get(&l.key(&tpm.counter, start)).await,
        40,
        "the ended window was corrected"
    );
    assert_eq!(
        after.current(&tpm.counter),
        0,
        "the new window is not touched"
    );
    let next = reserve(&after, std::slice::from_ref(&tpm)).await.unwrap();
    assert_eq!(next.held()[0].used, 100, "a new minute starts empty");
    assert_eq!(next.held()[0].window_start, minute_end);
    // The old window's key expires the grace after the window ends (which
    // was 500 ms after the reservation).
    let ttl: i64 = redis::cmd("PTTL")
        .arg(l.key(&tpm.counter, start))
        .query_async(&mut r.conn().await)
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 600_500, "{ttl}");
}

#[tokio::test]
async fn windows_follow_the_utc_calendar_of_the_server() {
    let r = redis_or_skip!("calendar");
    let measures = [
        Measure::TokensPerMinute,
        Measure::SpendPerDay,
        Measure::SpendPerMonth,
    ];
    // The last day of a month, the last of a year, February in leap years
    // and not.
    for at in [
        unix_ms(2026, 11, 30, 23, 58, 30),
        unix_ms(2026, 12, 31, 12, 0, 0),
        unix_ms(2028, 2, 29, 0, 0, 30),
        unix_ms(2027, 2, 28, 23, 58, 0),
        // 2100 is not a leap year.
        unix_ms(2100, 2, 28, 12, 0, 0),
    ] {
        let l = ledger_at(&r, at, LedgerOptions::default()).await;
        let charges: Vec<Charge> = measures
            .iter()
            .map(|&m| charge(Scope::Tenant, "t", m, 100, 1))
            .collect();
        let held = reserve(&l, &charges).await.unwrap();
        for (h, m) in held.held().iter().zip(measures) {
            let (start, end) = window_bounds(m.window(), at);
            assert_eq!(
                (h.window_start, h.resets_at),
                (start, Some(end)),
                "{m:?} at {at}"
            );
        }
    }
}

#[tokio::test]
async fn releasing_frees_concurrency_and_keeps_usage() {
    let r = redis_or_skip!("release");
    let l = r.node().ledger(LedgerOptions::default());
    let c = || {
        [
            charge(Scope::Route, "api", Measure::Concurrent, 2, 1),
            charge(Scope::Route, "api", Measure::TokensPerMinute, 1000, 100),
        ]
    };
    let (gauge, tokens) = (c()[0].counter.clone(), c()[1].counter.clone());
    let a = reserve(&l, &c()).await.unwrap();
    let b = reserve(&l, &c()).await.unwrap();
    assert_eq!(b.held()[0].used, 2);
    assert_eq!(b.held()[0].resets_at, None);
    let refused = reserve(&l, &c()).await.unwrap_err();
    assert_eq!(refused.counter, gauge);
    assert_eq!(refused.retry_after, Duration::from_secs(1));
    assert_eq!(
        refused.to_string(),
        "route \"api\" concurrent requests limit of 2 reached: 2 in flight; a slot frees \
         when one of them ends"
    );
    assert_eq!(l.current(&tokens), 200);
    drop(a);
    l.flush().await;
    assert_eq!(l.current(&gauge), 1, "dropping frees the slot");
    assert_eq!(l.current(&tokens), 200, "and keeps the reserved tokens");
    b.settle(Actual::default());
    l.flush().await;
    assert_eq!(
        l.current(&gauge),
        1,
        "a settled call holds its slot until dropped"
    );
    assert_eq!(l.current(&tokens), 100);
    drop(b);
    l.flush().await;
    assert_eq!(l.current(&gauge), 0);
    let zset: u64 = redis::cmd("ZCARD")
        .arg(l.key(&gauge, 0))
        .query_async(&mut r.conn().await)
        .await
        .unwrap();
    assert_eq!(zset, 0, "no slot left behind");
}

#[tokio::test]
async fn a_dead_nodes_slots_expire_with_their_lease() {
    let r = redis_or_skip!("dead-node");
    // A's lease is short, B's long; a third view of the same gauge, on a
    // clock moved past A's lease but not B's, sees what every node will see
    // then. No test waits for a lease to run out.
    // Leases far apart from the moves of the clock, so a stall of the
    // machine between steps cannot change what the test sees.
    let short = Duration::from_secs(10);
    let long = LedgerOptions {
        lease: Duration::from_secs(60),
        ..LedgerOptions::default()
    };
    let gauge = charge(Scope::Consumer, "c", Measure::Concurrent, 2, 1);
    // Node B, alive, holds one slot; node A takes the other, then dies: its
    // runtime (and with it the task renewing leases) is gone, and the
    // reservation never releases.
    let b = r.node().ledger(long.clone());
    let _b_holds = reserve(&b, std::slice::from_ref(&gauge)).await.unwrap();
    let t0 = r.server_ms().await;
    let node_a = r.options();
    let a_gauge = gauge.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let held = rt.block_on(async {
            let l = sy_cluster::Cluster::new(node_a)
                .unwrap()
                .ledger(LedgerOptions {
                    lease: short,
                    ..LedgerOptions::default()
                });
            reserve(&l, &[a_gauge]).await.unwrap()
        });
        drop(rt);
        std::mem::forget(held);
    })
    .join()
    .unwrap();
    assert_eq!(b.current(&gauge.counter), 2, "the dead node's slot counts");
    assert!(reserve(&b, std::slice::from_ref(&gauge)).await.is_err());
    // Halfway through A's lease (taken after `t0`), its slot still counts.
    let before = ledger_at(&r, t0 + 5_000, long.clone()).await;
    assert!(
        reserve(&before, std::slice::from_ref(&gauge))
            .await
            .is_err(),
        "freed before the lease ended"
    );
    // Past it, the next reservation prunes A's slot and takes it; B's stays.
    let after = ledger_at(&r, r.server_ms().await + 11_000, long).await;
    let _taken = reserve(&after, std::slice::from_ref(&gauge)).await.unwrap();
    assert_eq!(
        b.current(&gauge.counter),
        2,
        "B's slot and the new one; A's was pruned"
    );
}

#[tokio::test]
async fn a_live_nodes_slots_outlive_the_lease() {
    let r = redis_or_skip!("renewal");
    let lease = Duration::from_millis(300);
    let l = r.node().ledger(LedgerOptions {
        lease,
        ..LedgerOptions::default()
    });
    let gauge = charge(Scope::Consumer, "c", Measure::Concurrent, 1, 1);
    let held = reserve(&l, std::slice::from_ref(&gauge)).await.unwrap();
    let key = l.key(&gauge.counter, 0);
    let score = || async {
        let scores: Vec<(String, f64)> = redis::cmd("ZRANGE")
            .arg(&key)
            .arg(0)
            .arg(-1)
            .arg("WITHSCORES")
            .query_async(&mut r.conn().await)
            .await
            .unwrap();
        assert_eq!(scores.len(), 1, "one slot: {scores:?}");
        scores[0].1
    };
    // The first renewal (a third of a lease in) moves the slot's expiry on.
    let first = score().await;
    wait_for("the lease's renewal", || async { score().await > first }).await;
    // Seen from a clock past the lease the slot was taken with, it is still
    // held: without renewal that reservation would prune it and succeed.
    let later = ledger_at(&r, first as u64 + 1, LedgerOptions::default()).await;
    assert!(
        reserve(&later, std::slice::from_ref(&gauge)).await.is_err(),
        "the renewed slot outlives its first lease"
    );
    assert_eq!(l.current(&gauge.counter), 1);
    assert!(
        reserve(&l, std::slice::from_ref(&gauge)).await.is_err(),
        "the slot is still held"
    );
    drop(held);
    l.flush().await;
    assert_eq!(l.current(&gauge.counter), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_calls_from_two_nodes_never_pass_the_budget() {
    let r = redis_or_skip!("budget");
    let nodes = [
        r.node().ledger(LedgerOptions::default()),
        r.node().ledger(LedgerOptions::default()),
    ];
    let limit = 500u64;
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..200u64 {
        let l = nodes[usize::try_from(t % 2).unwrap()].clone();
        tasks.spawn(async move {
            let amount = 1 + t * 7 % 13;
            let charges = [
                charge(
                    Scope::Key,
                    &format!("k{}", t % 3),
                    Measure::Concurrent,
                    1000,
                    1,
                ),
                charge(Scope::Tenant, "acme", Measure::SpendPerDay, limit, amount),
            ];
            match reserve(&l, &charges).await {
                Ok(held) => {
                    held.settle(Actual {
                        tokens: 0,
                        spend: amount,
                    });
                    amount
                }
                Err(refusal) => {
                    assert_eq!(refusal.counter.measure, Measure::SpendPerDay);
                    0
                }
            }
        });
    }
    let mut total = 0;
    while let Some(granted) = tasks.join_next().await {
        total += granted.unwrap();
    }
    for l in &nodes {
        l.flush().await;
    }
    let spend = id(Scope::Tenant, "acme", Measure::SpendPerDay);
    assert_eq!(nodes[0].current(&spend), total);
    assert_eq!(
        nodes[1].current(&spend),
        total,
        "both nodes see one counter"
    );
    assert!(total <= limit, "{total} granted of {limit}");
    assert!(
        total > limit - 13,
        "the budget is used up to the last call: {total}"
    );
    for k in 0..3 {
        let gauge = id(Scope::Key, &format!("k{k}"), Measure::Concurrent);
        assert_eq!(nodes[0].current(&gauge), 0, "k{k} slots released");
    }
}

#[tokio::test]
async fn a_pending_reserve_does_nothing_until_polled() {
    let r = redis_or_skip!("lazy-ledger");
    let l = r.node().ledger(LedgerOptions::default());
    let charges = [charge(Scope::Key, "k", Measure::RequestsPerMinute, 5, 1)];
    let unpolled = l.reserve(&charges);
    assert!(matches!(unpolled, QuotaFuture::Pending(_)));
    drop(unpolled);
    assert!(r.keys().await.is_empty(), "a dropped future touched Redis");
    assert!(matches!(l.reserve(&[]), QuotaFuture::Ready(Ok(_))));
    let _held = reserve(&l, &charges).await.unwrap();
    assert_eq!(l.current(&charges[0].counter), 1);
}
