//! Settlements Redis did not confirm are sent again, and never counted
//! twice. Through a relay the tests cut, to the real Redis.

use std::time::Duration;

use sy_cluster::{Cluster, ClusterOptions, LedgerOptions, RedisLedger};
use sy_state::{Actual, Measure, QuotaFuture, QuotaLedger, Reservation, Scope};

use crate::common::{TestRedis, charge, redis_url, wait_for};
use crate::redis_or_skip;
use crate::relay::{Mode, Relay};

/// A ledger reaching the test's Redis through `relay`, with a timeout short
/// enough that a lost reply is noticed quickly.
fn ledger_through(r: &TestRedis, relay: &Relay) -> RedisLedger {
    Cluster::new(ClusterOptions {
        url: relay.url(),
        timeout: Duration::from_millis(500),
        ..r.options()
    })
    .unwrap()
    .ledger(LedgerOptions::default())
}

async fn reserve(l: &RedisLedger) -> (Reservation, String) {
    let c = [charge(
        Scope::Tenant,
        "acme",
        Measure::SpendPerDay,
        1_000_000,
        10,
    )];
    let QuotaFuture::Pending(f) = l.reserve(&c) else {
        panic!("a reservation must go to Redis");
    };
    let held = f.await.unwrap();
    assert_eq!(held.held().len(), 1, "Redis must have held the charge");
    let key = l.key(&c[0].counter, held.held()[0].window_start);
    (held, key)
}

fn spend(spend: u64) -> Actual {
    Actual { tokens: 0, spend }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settlements_made_while_redis_is_unreachable_arrive_when_it_returns() {
    let r = redis_or_skip!("resend-outage");
    let relay = Relay::start(&redis_url()).await;
    let l = ledger_through(&r, &relay);
    let (held, key) = reserve(&l).await;
    assert_eq!(r.get(&key).await, 10, "the estimate");

    relay.set(Mode::Refuse);
    held.settle(spend(25));
    l.flush().await;
    assert_eq!(r.get(&key).await, 10, "Redis was unreachable");
    assert_eq!(l.unsent(), 1, "the settlement is kept");

    // Nothing else happens on this node: the retry comes by itself.
    relay.set(Mode::Pass);
    wait_for("the kept settlement to arrive", || async {
        r.get(&key).await == 25
    })
    .await;
    wait_for("the ledger to see it confirmed", || async {
        l.unsent() == 0
    })
    .await;
    l.flush().await;
    assert_eq!(r.get(&key).await, 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settlement_whose_reply_was_lost_is_not_counted_twice() {
    let r = redis_or_skip!("resend-lost-reply");
    let relay = Relay::start(&redis_url()).await;
    let l = ledger_through(&r, &relay);
    // One settlement end to end first, so Redis has the script loaded and
    // the one below runs on its first send.
    let (first, key) = reserve(&l).await;
    first.settle(spend(12));
    l.flush().await;
    assert_eq!(r.get(&key).await, 12);

    let (second, again) = reserve(&l).await;
    assert_eq!(again, key, "same counter, same window");
    assert_eq!(r.get(&key).await, 22);
    relay.set(Mode::LoseReplies);
    second.settle(spend(25));
    l.flush().await;
    // Redis applied it (+15), but the connection broke before the answer.
    wait_for("Redis to apply the settlement", || async {
        r.get(&key).await == 37
    })
    .await;
    assert_eq!(l.unsent(), 1, "the node cannot know it was applied");

    relay.set(Mode::Pass);
    wait_for("the resend to be confirmed", || async { l.unsent() == 0 }).await;
    l.flush().await;
    assert_eq!(r.get(&key).await, 37, "applied once, not twice");
}
