//! Benchmark: the control plane with 1,000,000 API keys in the store.
//!
//! Measures what the issue asks for: how long a gateway takes to start
//! (open, migrate, apply the file, load the key index) with a million keys
//! stored, the memory the index takes, and the cost of one key lookup with
//! a million keys against the same lookup with a thousand (a ratio, so the
//! machine's speed cancels out). Also the time for one revocation to be
//! applied by a sync.
//!
//! ```sh
//! cargo run --profile bench-build -p switchyard --example million_keys
//! SY_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo run --profile bench-build -p switchyard --example million_keys
//! ```
//! `SY_BENCH_KEYS` changes the count (default 1,000,000).

#![expect(
    clippy::print_stdout,
    clippy::unwrap_used,
    reason = "a benchmark program reports on stdout and stops on any failure"
)]

use std::hint::black_box;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use switchyard::control::ControlPlane;
use sy_policy::{Consumer, ConsumerDirectory, IndexedKey, KeyIndex};
use sy_store::{Actor, NewConsumer, NewTenant, Store};
use tokio::time::Instant;

const BATCH: usize = 500;

fn hash(i: usize) -> [u8; 32] {
    Sha256::digest(format!("bench-key-{i}").as_bytes()).into()
}

fn hex(h: &[u8; 32]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Insert `n` keys with multi-row INSERTs in one transaction.
async fn fill(store: &Store, n: usize) -> (String, std::time::Duration) {
    let actor = Actor::bootstrap();
    let tenant = store
        .create_tenant(
            &actor,
            NewTenant {
                name: "bench".into(),
                display_name: String::new(),
                limits: Default::default(),
                metadata: Default::default(),
            },
        )
        .await
        .unwrap();
    let consumer = store
        .create_consumer(
            &actor,
            NewConsumer {
                tenant_id: tenant.id.clone(),
                name: "bench".into(),
                description: String::new(),
                limits: Default::default(),
                metadata: Default::default(),
            },
        )
        .await
        .unwrap();
    let started = Instant::now();
    let mut tx = store.pool().begin().await.unwrap();
    let mut done = 0;
    while done < n {
        let rows = BATCH.min(n - done);
        let mut sql = String::from(
            "INSERT INTO api_keys (id, tenant_id, consumer_id, name, prefix, key_hash, scopes, \
             limits, metadata, file_managed, version, created_at, updated_at) VALUES ",
        );
        for r in 0..rows {
            if r > 0 {
                sql.push(',');
            }
            let b = r * 4;
            sql.push_str(&format!(
                "(${}, ${}, ${}, 'k', 'sk-sy-xxxxxx', ${}, '{{\"routes\":[],\"models\":[]}}', \
                 '{{}}', '{{}}', 0, 1, 0, 0)",
                b + 1,
                b + 2,
                b + 3,
                b + 4
            ));
        }
        let mut q = sqlx::query(&sql);
        for i in done..done + rows {
            q = q
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(tenant.id.clone())
                .bind(consumer.id.clone())
                .bind(hex(&hash(i)));
        }
        q.execute(&mut *tx).await.unwrap();
        done += rows;
    }
    tx.commit().await.unwrap();
    (consumer.id, started.elapsed())
}

/// Nanoseconds per lookup over `rounds` lookups of keys `0..n` in order of
/// a fixed stride (so consecutive lookups touch unrelated memory).
fn lookups(dir: &dyn ConsumerDirectory, n: usize, rounds: usize) -> f64 {
    let hashes: Vec<[u8; 32]> = (0..n.min(100_000)).map(hash).collect();
    let started = std::time::SystemTime::now();
    let mut found = 0usize;
    for i in 0..rounds {
        let h = &hashes[(i * 7919) % hashes.len()];
        if black_box(dir.lookup_key(black_box(h))).is_some() {
            found += 1;
        }
    }
    assert_eq!(found, rounds, "every key must be found");
    started.elapsed().unwrap().as_nanos() as f64 / rounds as f64
}

async fn run(label: &str, url: &str, keys: usize) {
    let spec_yaml = format!("store: \"{url}\"\nconsumers: []\n");
    let spec = sy_config::load_str(&spec_yaml, "bench", &|_| None).unwrap();
    let store = switchyard::control::open(url).await.unwrap();
    let (consumer_id, insert) = fill(&store, keys).await;
    drop(store);

    let rss_before = rss_kib();
    let started = Instant::now();
    let plane = ControlPlane::start(&spec).await.unwrap().unwrap();
    let startup = started.elapsed();
    let rss_after = rss_kib();
    let dir = plane.directory();

    // The same lookups against an index of 1,000 keys of the same consumer.
    let small = Arc::new(KeyIndex::new());
    small.replace_consumers([dir
        .lookup_key(&hash(0))
        .map(|c| Consumer { key_id: None, ..c })
        .unwrap()]);
    for i in 0..1_000 {
        small.insert(
            hash(i),
            IndexedKey {
                key_id: Arc::from(format!("k{i}")),
                consumer_id: Arc::from(consumer_id.as_str()),
                expires_at_ms: None,
                grants: None,
            },
        );
    }
    let rounds = 2_000_000;
    let _ = lookups(small.as_ref(), 1_000, rounds / 10); // warm up
    let small_ns = lookups(small.as_ref(), 1_000, rounds);
    let big_ns = lookups(dir.as_ref(), keys, rounds);

    // One revocation, applied by a sync.
    let victim = plane
        .store()
        .key_by_hash(&hex(&hash(42)))
        .await
        .unwrap()
        .unwrap();
    plane
        .store()
        .revoke_key(&Actor::bootstrap(), &victim.id)
        .await
        .unwrap();
    let started = Instant::now();
    plane.sync().await.unwrap();
    let revoke = started.elapsed();
    assert!(dir.lookup_key(&hash(42)).is_none());

    println!("{label}: {keys} keys");
    println!("  insert (bulk, one transaction): {insert:.2?}");
    println!("  gateway control-plane start (migrate, apply, load index): {startup:.2?}");
    println!(
        "  index memory (RSS growth): {:.1} MiB ({:.0} bytes/key)",
        (rss_after.saturating_sub(rss_before)) as f64 / 1024.0,
        (rss_after.saturating_sub(rss_before)) as f64 * 1024.0 / keys as f64
    );
    println!(
        "  lookup: {big_ns:.0} ns with {keys} keys, {small_ns:.0} ns with 1,000 ({:.2}x)",
        big_ns / small_ns
    );
    println!("  revoke → applied by one sync: {revoke:.2?}");
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let keys: usize = std::env::var("SY_BENCH_KEYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/store.db", dir.path().display());
    run("sqlite", &url, keys).await;
    if let Ok(pg) = std::env::var("SY_BENCH_POSTGRES_URL") {
        let schema = format!("sy_bench_{}", std::process::id());
        let admin = sqlx::PgPool::connect(&pg).await.unwrap();
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
            .unwrap();
        let sep = if pg.contains('?') { '&' } else { '?' };
        let scoped = format!("{pg}{sep}options[search_path]={schema}");
        run("postgres", &scoped, keys).await;
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&admin)
            .await
            .unwrap();
    }
}
