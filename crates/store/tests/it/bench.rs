//! Loading 1,000,000 keys for the data plane's key index. Runs only with
//! `SY_STORE_BENCH=1` (and `SY_TEST_POSTGRES_URL` for PostgreSQL):
//! `SY_STORE_BENCH=1 cargo test -p sy-store --release bench -- --nocapture`.

use tokio::time::Instant;

use sy_store::Store;

use crate::support::{consumer, tenant};

const KEYS: usize = 1_000_000;
const BATCH: usize = 500;

fn enabled() -> bool {
    std::env::var("SY_STORE_BENCH").is_ok_and(|v| v == "1")
}

/// Inserts `KEYS` key rows with multi-row INSERTs in one transaction.
async fn fill(store: &Store) -> std::time::Duration {
    let t = tenant(store, "bench").await;
    let c = consumer(store, &t.id, "bench").await;
    let start = Instant::now();
    let mut tx = store.pool().begin().await.unwrap();
    let mut n = 0;
    while n < KEYS {
        let rows = BATCH.min(KEYS - n);
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
        for i in n..n + rows {
            q = q
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(t.id.clone())
                .bind(c.id.clone())
                .bind(sy_store::sha256_hex(&i.to_string()));
        }
        q.execute(&mut *tx).await.unwrap();
        n += rows;
    }
    tx.commit().await.unwrap();
    start.elapsed()
}

async fn run(name: &str, store: &Store) {
    let insert = fill(store).await;
    let start = Instant::now();
    let keys = store.load_active_keys().await.unwrap();
    let load = start.elapsed();
    assert_eq!(keys.len(), KEYS);
    println!("{name}: inserted {KEYS} keys in {insert:?}; all_active_keys loaded them in {load:?}");
}

#[tokio::test]
async fn sqlite_million_keys() {
    if !enabled() {
        eprintln!("skipped: set SY_STORE_BENCH=1 to run the key-load benchmark");
        return;
    }
    let (store, _dir) = crate::support::sqlite().await;
    run("sqlite", &store).await;
}

#[tokio::test]
async fn postgres_million_keys() {
    if !enabled() {
        eprintln!("skipped: set SY_STORE_BENCH=1 to run the key-load benchmark");
        return;
    }
    let Some(pg) = crate::support::postgres().await else {
        return;
    };
    run("postgres", &pg.store).await;
    pg.cleanup().await;
}
