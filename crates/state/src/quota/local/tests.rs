//! Ledger tests in paused time: windows roll over only when a test
//! advances the clock, and calendar boundaries sit where the test puts the
//! clock's origin.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::advance;

use super::super::unix_ms;
use super::*;
use crate::quota::{Measure, Scope};

fn id(scope: Scope, entity: &str, measure: Measure) -> CounterId {
    CounterId {
        scope,
        entity: Arc::from(entity),
        measure,
    }
}

fn charge(scope: Scope, entity: &str, measure: Measure, limit: u64, amount: u64) -> Charge {
    Charge {
        counter: id(scope, entity, measure),
        limit,
        amount,
    }
}

fn reserve(l: &LocalLedger, charges: &[Charge]) -> Result<Reservation, Refusal> {
    match l.reserve(charges) {
        QuotaFuture::Ready(r) => r,
        QuotaFuture::Pending(_) => panic!("the local ledger must decide synchronously"),
    }
}

/// 2026-11-23 20:48:00 UTC.
fn evening() -> u64 {
    unix_ms(2026, 11, 23, 20, 48, 0)
}

#[tokio::test(start_paused = true)]
async fn all_or_nothing_names_the_first_counter_over() {
    let l = LocalLedger::with_origin(evening(), 100);
    let tokens = charge(Scope::Key, "k", Measure::TokensPerMinute, 1000, 600);
    let spend = charge(
        Scope::Tenant,
        "acme",
        Measure::SpendPerDay,
        5_000_000,
        3_000_000,
    );
    let first = reserve(&l, &[tokens.clone(), spend.clone()]).unwrap();
    assert_eq!(first.held().len(), 2);
    assert_eq!(first.held()[0].remaining(), 400);
    // The second does not fit the tokens: nothing is taken from either.
    let spend_1 = charge(
        Scope::Tenant,
        "acme",
        Measure::SpendPerDay,
        5_000_000,
        1_000_000,
    );
    let refused = reserve(&l, &[spend_1, tokens.clone()]).unwrap_err();
    assert_eq!(refused.counter, tokens.counter);
    assert_eq!(
        (refused.limit, refused.used, refused.requested),
        (1000, 600, 600)
    );
    assert_eq!(refused.retry_after, Duration::from_secs(60));
    assert_eq!(l.current(&spend.counter), 3_000_000, "spend was given back");
    assert_eq!(l.current(&tokens.counter), 600);
    // A request that fits both still gets through.
    let small = charge(Scope::Key, "k", Measure::TokensPerMinute, 1000, 400);
    assert!(
        reserve(&l, &[small, spend.clone()]).is_err(),
        "spend is over"
    );
    assert_eq!(l.current(&tokens.counter), 600, "tokens were given back");
    let spend_small = charge(
        Scope::Tenant,
        "acme",
        Measure::SpendPerDay,
        5_000_000,
        2_000_000,
    );
    let ok = reserve(
        &l,
        &[
            charge(Scope::Key, "k", Measure::TokensPerMinute, 1000, 400),
            spend_small,
        ],
    )
    .unwrap();
    assert_eq!(ok.held()[0].remaining(), 0);
    assert_eq!(ok.held()[1].remaining(), 0);
    drop((first, ok));
}

#[tokio::test(start_paused = true)]
async fn refusal_message_names_scope_entity_metric_usage_and_reset() {
    let l = LocalLedger::with_origin(evening(), 100);
    let spend = |amount| {
        charge(
            Scope::Tenant,
            "acme",
            Measure::SpendPerDay,
            5_000_000,
            amount,
        )
    };
    let held = reserve(&l, &[spend(4_980_000)]).unwrap();
    held.settle(Actual {
        tokens: 0,
        spend: 4_980_000,
    });
    let refused = reserve(&l, &[spend(50_000)]).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "tenant \"acme\" spend per day limit of $5.00 would be passed: $4.98 used, this \
         request needs up to $0.05; resets at 2026-11-24T00:00:00Z (in 3h12m0s)"
    );
    let _over = reserve(&l, &[spend(20_000)]).unwrap();
    assert!(
        reserve(&l, &[spend(0)]).is_ok(),
        "a zero charge fits a full budget"
    );
    let refused = reserve(&l, &[spend(1)]).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "tenant \"acme\" spend per day limit of $5.00 reached: $5.00 used; resets at \
         2026-11-24T00:00:00Z (in 3h12m0s)"
    );
    let too_big = reserve(
        &l,
        &[charge(Scope::Key, "k", Measure::TokensPerDay, 10, 11)],
    );
    let too_big = too_big.unwrap_err();
    assert!(too_big.never_fits());
    assert_eq!(too_big.retry_after, Duration::MAX);
    assert_eq!(
        too_big.to_string(),
        "key \"k\" tokens per day limit of 10 is smaller than this request's estimate of 11"
    );
}

#[tokio::test(start_paused = true)]
async fn settle_replaces_the_estimate_up_or_down() {
    let l = LocalLedger::with_origin(evening(), 100);
    let c = || {
        [
            charge(Scope::Consumer, "web", Measure::TokensPerDay, 1000, 300),
            charge(Scope::Consumer, "web", Measure::SpendPerMonth, 1000, 300),
            charge(Scope::Consumer, "web", Measure::RequestsPerMinute, 10, 1),
        ]
    };
    let counters: Vec<CounterId> = c().into_iter().map(|c| c.counter).collect();
    let r = reserve(&l, &c()).unwrap();
    r.settle(Actual {
        tokens: 120,
        spend: 90,
    });
    r.settle(Actual {
        tokens: 999,
        spend: 999,
    });
    assert_eq!(
        l.current(&counters[0]),
        120,
        "only the first settlement counts"
    );
    assert_eq!(l.current(&counters[1]), 90);
    assert_eq!(l.current(&counters[2]), 1, "a request stays counted");
    // Usage above the estimate is recorded, even past the limit: the
    // only way a limit is passed.
    let r = reserve(&l, &c()).unwrap();
    r.settle(Actual {
        tokens: 950,
        spend: 10,
    });
    assert_eq!(l.current(&counters[0]), 1070);
    let refused = reserve(&l, &c()).unwrap_err();
    assert_eq!(refused.used, 1070);
    assert_eq!(
        l.current(&counters[2]),
        2,
        "the refused request took nothing"
    );
}

#[tokio::test(start_paused = true)]
async fn dropped_reservations_keep_usage_and_free_concurrency() {
    let l = LocalLedger::with_origin(evening(), 100);
    let c = || {
        [
            charge(Scope::Route, "api", Measure::Concurrent, 2, 1),
            charge(Scope::Route, "api", Measure::TokensPerMinute, 1000, 100),
        ]
    };
    let gauge = c()[0].counter.clone();
    let tokens = c()[1].counter.clone();
    let a = reserve(&l, &c()).unwrap();
    let b = reserve(&l, &c()).unwrap();
    let refused = reserve(&l, &c()).unwrap_err();
    assert_eq!(refused.counter, gauge);
    assert_eq!(refused.retry_after, Duration::from_secs(1));
    assert_eq!(
        refused.to_string(),
        "route \"api\" concurrent requests limit of 2 reached: 2 in flight; a slot frees \
         when one of them ends"
    );
    assert_eq!(l.current(&tokens), 200);
    drop(a);
    assert_eq!(l.current(&gauge), 1, "dropping frees the slot");
    assert_eq!(l.current(&tokens), 200, "and keeps the reserved tokens");
    b.settle(Actual::default());
    assert_eq!(
        l.current(&gauge),
        1,
        "a settled call holds its slot until dropped"
    );
    assert_eq!(l.current(&tokens), 100);
    drop(b);
    assert_eq!(l.current(&gauge), 0);
    assert_eq!(l.current(&tokens), 100);
}

#[tokio::test(start_paused = true)]
async fn minute_windows_roll_over_in_paused_time() {
    let l = LocalLedger::with_origin(evening() + 30_000, 100);
    let rpm = || [charge(Scope::Key, "k", Measure::RequestsPerMinute, 2, 1)];
    let first = reserve(&l, &rpm()).unwrap();
    assert_eq!(first.held()[0].reset_after, Duration::from_secs(30));
    assert_eq!(first.held()[0].resets_at, Some(evening() + 60_000));
    let _second = reserve(&l, &rpm()).unwrap();
    let refused = reserve(&l, &rpm()).unwrap_err();
    assert_eq!(refused.retry_after, Duration::from_secs(30));
    advance(Duration::from_millis(29_999)).await;
    assert!(reserve(&l, &rpm()).is_err());
    advance(Duration::from_millis(1)).await;
    let next = reserve(&l, &rpm()).unwrap();
    assert_eq!(next.held()[0].used, 1, "a new minute starts empty");
    first.settle(Actual::default());
    assert_eq!(
        l.current(&rpm()[0].counter),
        1,
        "the old window is not the new one"
    );
}

#[tokio::test(start_paused = true)]
async fn day_and_month_windows_follow_the_utc_calendar() {
    let l = LocalLedger::with_origin(unix_ms(2026, 11, 30, 23, 59, 0), 100);
    let day = || [charge(Scope::Tenant, "t", Measure::SpendPerDay, 100, 100)];
    let month = || [charge(Scope::Tenant, "t", Measure::SpendPerMonth, 150, 100)];
    let _d = reserve(&l, &day()).unwrap();
    let _m = reserve(&l, &month()).unwrap();
    let refused = reserve(&l, &day()).unwrap_err();
    assert_eq!(refused.resets_at, Some(unix_ms(2026, 12, 1, 0, 0, 0)));
    assert_eq!(refused.retry_after, Duration::from_secs(60));
    let refused = reserve(&l, &month()).unwrap_err();
    assert_eq!(refused.resets_at, Some(unix_ms(2026, 12, 1, 0, 0, 0)));
    advance(Duration::from_secs(60)).await;
    let _d = reserve(&l, &day()).unwrap();
    let _m = reserve(&l, &month()).unwrap();
    // The new month runs to January 1st.
    let refused = reserve(&l, &month()).unwrap_err();
    assert_eq!(refused.resets_at, Some(unix_ms(2027, 1, 1, 0, 0, 0)));
    // A day later the day resets, the month does not.
    advance(Duration::from_secs(86_400)).await;
    let _d = reserve(&l, &day()).unwrap();
    assert!(reserve(&l, &month()).is_err());
}

#[tokio::test(start_paused = true)]
async fn sweep_evicts_ended_windows_and_idle_gauges() {
    let l = LocalLedger::with_origin(evening(), 100);
    let r = reserve(
        &l,
        &[
            charge(Scope::Key, "k", Measure::RequestsPerMinute, 10, 1),
            charge(Scope::Key, "k", Measure::TokensPerDay, 1000, 10),
            charge(Scope::Key, "k", Measure::Concurrent, 10, 1),
        ],
    )
    .unwrap();
    assert_eq!(l.len(), 3);
    assert_eq!(l.sweep(), 0, "everything is live");
    advance(Duration::from_secs(60)).await;
    assert_eq!(l.sweep(), 1, "the minute ended");
    drop(r);
    assert_eq!(l.sweep(), 1, "the gauge is idle");
    assert_eq!(l.len(), 1, "the day is still open");
    advance(Duration::from_secs(86_400)).await;
    assert_eq!(l.sweep(), 1);
    assert!(l.is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_cap_bounds_memory_and_fails_open() {
    let l = LocalLedger::with_origin(evening(), 2);
    let rpm = |k: &str| [charge(Scope::Key, k, Measure::RequestsPerMinute, 1, 1)];
    let _a = reserve(&l, &rpm("a")).unwrap();
    let _b = reserve(&l, &rpm("b")).unwrap();
    // Full, nothing to sweep: allowed, not remembered, counted.
    let _c = reserve(&l, &rpm("c")).unwrap();
    let _c = reserve(&l, &rpm("c")).unwrap();
    assert_eq!(l.len(), 2);
    assert_eq!(l.overflows(), 2);
    advance(Duration::from_secs(60)).await;
    let _c = reserve(&l, &rpm("c")).unwrap();
    assert!(reserve(&l, &rpm("c")).is_err(), "remembered after a sweep");
}

#[tokio::test(start_paused = true)]
async fn a_settlement_touches_only_the_counters_its_reservation_took_from() {
    let l = LocalLedger::with_origin(evening(), 1);
    let slot = [charge(Scope::Key, "a", Measure::Concurrent, 5, 1)];
    let tpm = [charge(Scope::Key, "b", Measure::TokensPerMinute, 1000, 100)];
    let a = reserve(&l, &slot).unwrap();
    // Over the cap: allowed and not remembered.
    let early = reserve(&l, &tpm).unwrap();
    assert_eq!(l.overflows(), 1);
    // a's slot frees; a second later (the next forced sweep), in the same
    // minute, a later call makes b's counter.
    drop(a);
    advance(Duration::from_secs(1)).await;
    let late = reserve(&l, &tpm).unwrap();
    let b = id(Scope::Key, "b", Measure::TokensPerMinute);
    assert_eq!(l.current(&b), 100);
    // The early call held no counter: its usage lands nowhere, not on the
    // counter the later call made.
    early.settle(Actual {
        tokens: 900,
        spend: 0,
    });
    assert_eq!(l.current(&b), 100);
    late.settle(Actual {
        tokens: 40,
        spend: 0,
    });
    assert_eq!(l.current(&b), 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_reservations_never_pass_the_limit() {
    let l = LocalLedger::with_origin(evening(), 1000);
    let limit = 10_000u64;
    let mut tasks = Vec::new();
    for t in 0..8u64 {
        let l = l.clone();
        tasks.push(tokio::spawn(async move {
            let mut granted = 0u64;
            for i in 0..500u64 {
                let amount = 1 + (t * 7 + i) % 13;
                let charges = [
                    charge(
                        Scope::Key,
                        &format!("k{}", i % 3),
                        Measure::Concurrent,
                        1000,
                        1,
                    ),
                    charge(Scope::Tenant, "acme", Measure::SpendPerDay, limit, amount),
                ];
                if let Ok(r) = reserve(&l, &charges) {
                    granted += amount;
                    r.settle(Actual {
                        tokens: 0,
                        spend: amount,
                    });
                }
            }
            granted
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    let spend = id(Scope::Tenant, "acme", Measure::SpendPerDay);
    assert_eq!(l.current(&spend), total);
    assert!(total <= limit);
    assert!(
        total > limit - 13,
        "the budget is used up to the last request"
    );
    for k in 0..3 {
        assert_eq!(
            l.current(&id(Scope::Key, &format!("k{k}"), Measure::Concurrent)),
            0
        );
    }
}

#[tokio::test(start_paused = true)]
async fn day_and_month_counters_survive_a_restart_through_save_and_restore() {
    let before = LocalLedger::with_origin(evening(), 100);
    let r = reserve(
        &before,
        &[
            charge(Scope::Tenant, "acme", Measure::SpendPerDay, 1_000, 300),
            charge(Scope::Tenant, "acme", Measure::SpendPerMonth, 10_000, 300),
            charge(Scope::Tenant, "acme", Measure::TokensPerMinute, 1_000, 50),
        ],
    )
    .unwrap();
    r.settle(Actual {
        tokens: 40,
        spend: 250,
    });
    drop(r);
    let saved = before.saved_counters();
    // Minute windows are not worth saving; day and month are.
    let mut measures: Vec<_> = saved.iter().map(|c| c.counter.measure).collect();
    measures.sort();
    assert_eq!(measures, [Measure::SpendPerDay, Measure::SpendPerMonth]);
    assert!(saved.iter().all(|c| c.used == 250));

    // A restarted node: same day, empty ledger; restoring puts usage back,
    // so the day's budget cannot be spent twice.
    let after = LocalLedger::with_origin(evening() + 60_000, 100);
    assert_eq!(after.restore(saved.clone()), 2);
    assert_eq!(
        after.current(&id(Scope::Tenant, "acme", Measure::SpendPerDay)),
        250
    );
    let refused = reserve(
        &after,
        &[charge(
            Scope::Tenant,
            "acme",
            Measure::SpendPerDay,
            1_000,
            800,
        )],
    );
    assert!(refused.is_err(), "250 + 800 passes the 1,000 limit");
    // Restoring twice never raises usage past the larger value.
    after.restore(saved.clone());
    assert_eq!(
        after.current(&id(Scope::Tenant, "acme", Measure::SpendPerDay)),
        250
    );
    // The next day, the saved day window is over and is skipped.
    let tomorrow = LocalLedger::with_origin(evening() + 24 * 3_600_000, 100);
    let restored = tomorrow.restore(saved);
    assert_eq!(restored, 1, "only the month window is still open");
}
