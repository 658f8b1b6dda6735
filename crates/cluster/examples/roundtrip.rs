//! Time one rate-limit decision and one quota reservation against a Redis
//! (`SY_TEST_REDIS_URL`, default 127.0.0.1:6379), one at a time and 64 at
//! once. Keys go under a prefix of their own and are deleted at the end.
//!
//! `cargo run --profile bench-build -p sy-cluster --example roundtrip`

#![expect(clippy::print_stdout, clippy::unwrap_used, reason = "a measuring tool")]

use std::sync::Arc;
use std::time::Duration;

use sy_cluster::{Cluster, ClusterOptions, LedgerOptions};
use sy_state::{Actual, Charge, CounterId, Measure, Quota, QuotaLedger, RateLimiter, Scope};
use tokio::time::Instant;

const N: usize = 5000;

fn charges() -> Vec<Charge> {
    let c = |measure, limit, amount| Charge {
        counter: CounterId {
            scope: Scope::Consumer,
            entity: Arc::from("bench"),
            measure,
        },
        limit,
        amount,
    };
    vec![
        c(Measure::Concurrent, 1_000_000, 1),
        c(Measure::RequestsPerMinute, u64::MAX, 1),
        c(Measure::TokensPerDay, u64::MAX, 500),
        c(Measure::SpendPerMonth, u64::MAX, 2_000),
    ]
}

fn report(what: &str, mut took: Vec<Duration>) {
    took.sort();
    let at = |q: f64| took[((took.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e6;
    println!(
        "{what}: median {:.0} µs, p90 {:.0} µs, p99 {:.0} µs ({} calls)",
        at(0.5),
        at(0.9),
        at(0.99),
        took.len()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let url = std::env::var("SY_TEST_REDIS_URL").unwrap_or("redis://127.0.0.1:6379/0".into());
    let prefix = format!("sybench:{}", std::process::id());
    let cluster = Cluster::new(ClusterOptions {
        prefix: prefix.clone(),
        timeout: Duration::from_secs(2),
        ..ClusterOptions::new(url.clone())
    })
    .unwrap();
    let limiter = Arc::new(cluster.limiter());
    let ledger = cluster.ledger(LedgerOptions::default());
    let quota = Quota {
        rate: 1_000_000,
        period: Duration::from_secs(1),
        burst: 1_000_000,
    };
    let charges = charges();
    // Warm up: connect, load the scripts.
    for _ in 0..100 {
        limiter.acquire("warm", quota, 1).await;
        drop(ledger.reserve(&charges).await.unwrap());
    }
    let mut took = Vec::with_capacity(N);
    for _ in 0..N {
        let t = Instant::now();
        assert!(limiter.acquire("k", quota, 1).await.allowed);
        took.push(t.elapsed());
    }
    report("rate limit (1 bucket)", took);
    let mut took = Vec::with_capacity(N);
    for _ in 0..N {
        let t = Instant::now();
        let held = ledger.reserve(&charges).await.unwrap();
        took.push(t.elapsed());
        held.settle(Actual {
            tokens: 300,
            spend: 1_000,
        });
    }
    report("reserve (4 counters, one a gauge)", took);
    ledger.flush().await;

    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let (ledger, charges) = (ledger.clone(), charges.clone());
        tasks.spawn(async move {
            let mut took = Vec::with_capacity(N / 64);
            for _ in 0..N / 64 {
                let t = Instant::now();
                let held = ledger.reserve(&charges).await.unwrap();
                took.push(t.elapsed());
                drop(held);
            }
            took
        });
    }
    let mut took = Vec::new();
    while let Some(t) = tasks.join_next().await {
        took.extend(t.unwrap());
    }
    let rate = took.len() as f64 / started.elapsed().as_secs_f64();
    report("reserve, 64 at once", took);
    println!("  {rate:.0} reservations/s on one connection");
    ledger.flush().await;

    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    if !keys.is_empty() {
        let _: u64 = redis::cmd("DEL")
            .arg(&keys)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
}
