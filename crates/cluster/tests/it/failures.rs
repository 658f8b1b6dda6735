//! Redis down, or not answering: `on_error` decides, within the timeout,
//! and nothing panics or hangs. These need no Redis.

use std::time::Duration;

use sy_cluster::{Cluster, ClusterOptions, LedgerOptions, OnError};
use sy_state::{LimitFuture, Measure, Quota, QuotaFuture, QuotaLedger, RateLimiter, Scope};
use tokio::time::Instant;

use crate::common::{charge, closed_port};

const TIMEOUT: Duration = Duration::from_millis(200);

fn cluster(port: u16, on_error: OnError) -> Cluster {
    Cluster::new(ClusterOptions {
        prefix: "sytest:down".to_owned(),
        timeout: TIMEOUT,
        on_error,
        ..ClusterOptions::new(format!("redis://127.0.0.1:{port}/0"))
    })
    .unwrap()
}

const QUOTA: Quota = Quota {
    rate: 1,
    period: Duration::from_secs(60),
    burst: 1,
};

#[tokio::test]
async fn redis_down_with_allow_lets_requests_through() {
    let c = cluster(closed_port(), OnError::Allow);
    let (limiter, ledger) = (c.limiter(), c.ledger(LedgerOptions::default()));
    let charges = [
        charge(Scope::Key, "k", Measure::RequestsPerMinute, 1, 1),
        charge(Scope::Key, "k", Measure::Concurrent, 1, 1),
    ];
    // More calls than it takes to pause Redis: the first ones go to the
    // closed port, the later ones are answered at once.
    for i in 0..6 {
        let d = limiter.acquire("k", QUOTA, 1).await;
        assert!(d.allowed, "call {i}: {d:?}");
        let held = ledger.reserve(&charges).await.unwrap();
        assert!(held.is_empty(), "nothing is held without Redis");
        held.settle(sy_state::Actual::default());
    }
    // Paused now: answered without a round trip.
    assert!(matches!(limiter.acquire("k", QUOTA, 1), LimitFuture::Ready(d) if d.allowed));
    assert!(matches!(
        ledger.reserve(&charges),
        QuotaFuture::Ready(Ok(_))
    ));
    assert_eq!(ledger.current(&charges[0].counter), 0, "a failed read is 0");
    // Settlement and release never wait, and flushing ends.
    tokio::time::timeout(Duration::from_secs(5), ledger.flush())
        .await
        .unwrap();
}

#[tokio::test]
async fn redis_down_with_deny_refuses_and_says_why() {
    let c = cluster(closed_port(), OnError::Deny);
    let (limiter, ledger) = (c.limiter(), c.ledger(LedgerOptions::default()));
    let charges = [charge(
        Scope::Tenant,
        "acme",
        Measure::SpendPerDay,
        5_000_000,
        10,
    )];
    for i in 0..6 {
        let d = limiter.acquire("k", QUOTA, 1).await;
        assert!(!d.allowed, "call {i}");
        assert_eq!(d.retry_after, Duration::from_secs(1));
        let refusal = ledger.reserve(&charges).await.unwrap_err();
        assert!(refusal.unavailable);
        assert!(!refusal.never_fits());
        assert_eq!(refusal.retry_after, Duration::from_secs(1));
        assert_eq!(
            refusal.to_string(),
            "tenant \"acme\" spend per day limit of $5.00 could not be checked: the shared \
             quota store is unavailable"
        );
    }
}

/// A server that speaks just enough RESP to complete a client's connection
/// set-up (every command answered `+OK`) and then never answers a script.
async fn stalling_redis() -> u16 {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                // `*N`, then `$len` and the argument N times.
                while let Ok(Some(head)) = lines.next_line().await {
                    let n: usize = head.trim_start_matches('*').parse().unwrap_or(0);
                    let mut args = Vec::new();
                    for _ in 0..n {
                        let _len = lines.next_line().await;
                        args.push(lines.next_line().await.ok().flatten().unwrap_or_default());
                    }
                    let name = args
                        .first()
                        .map(|a| a.to_ascii_uppercase())
                        .unwrap_or_default();
                    if name.starts_with("EVAL") || name == "SCRIPT" {
                        continue;
                    }
                    if write.write_all(b"+OK\r\n").await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

// Two workers: the stalling server answers the connection set-up while
// `current` blocks a thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_never_answers_is_cut_off_by_the_timeout() {
    let port = stalling_redis().await;
    // Shorter and longer than the Redis client's own default (500 ms): the
    // configured timeout is the one that counts.
    for timeout in [TIMEOUT, Duration::from_millis(700)] {
        let c = Cluster::new(ClusterOptions {
            prefix: "sytest:stall".to_owned(),
            timeout,
            ..ClusterOptions::new(format!("redis://127.0.0.1:{port}/0"))
        })
        .unwrap();
        let (limiter, ledger) = (c.limiter(), c.ledger(LedgerOptions::default()));
        // Not before the configured timeout (the 700 ms case proves the
        // client's 500 ms default does not cut it short), and not a hang:
        // the upper bound is a guard, not a speed figure.
        let within = |took: Duration| took >= timeout && took < timeout + Duration::from_secs(10);
        let started = Instant::now();
        assert!(limiter.acquire("k", QUOTA, 1).await.allowed);
        let took = started.elapsed();
        assert!(
            within(took),
            "a rate limit took {took:?} with a timeout of {timeout:?}"
        );
        let charges = [charge(Scope::Key, "k", Measure::RequestsPerMinute, 1, 1)];
        let started = Instant::now();
        assert!(ledger.reserve(&charges).await.unwrap().is_empty());
        let took = started.elapsed();
        assert!(
            within(took),
            "a reservation took {took:?} with a timeout of {timeout:?}"
        );
        let started = Instant::now();
        assert_eq!(ledger.current(&charges[0].counter), 0);
        let took = started.elapsed();
        assert!(
            within(took),
            "a blocking read took {took:?} with a timeout of {timeout:?}"
        );
    }
}

#[test]
fn a_bad_url_is_refused_up_front() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let e = Cluster::new(ClusterOptions::new("http://127.0.0.1:6379")).unwrap_err();
    assert!(
        e.to_string().starts_with("the Redis URL is not valid"),
        "{e}"
    );
    let options = ClusterOptions::new("redis://user:hunter2@127.0.0.1:6379/0");
    assert!(
        !format!("{options:?}").contains("hunter2"),
        "the password stays out of logs"
    );
}
