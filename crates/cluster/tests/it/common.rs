//! A prefix of keys of one test's own in the test Redis, and helpers.

use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

use sy_cluster::{Cluster, ClusterOptions};
use sy_state::{Charge, CounterId, Measure, Scope};

/// The Redis the tests use.
pub fn redis_url() -> String {
    std::env::var("SY_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".to_owned())
}

/// One test's view of the test Redis: a fresh prefix, deleted on drop (on
/// failure too).
pub struct TestRedis {
    pub prefix: String,
    client: redis::Client,
}

impl TestRedis {
    /// `None` when `SY_SKIP_REDIS=1`; panics with what to do when Redis is
    /// not reachable.
    pub fn new(test: &str) -> Option<TestRedis> {
        if std::env::var("SY_SKIP_REDIS").is_ok_and(|v| v == "1") {
            return None;
        }
        let url = redis_url();
        let client = redis::Client::open(url.as_str()).unwrap();
        let reachable = client
            .get_connection_with_timeout(Duration::from_secs(2))
            .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c));
        if let Err(e) = reachable {
            panic!(
                "Redis is not reachable at {url} ({e}). These tests need a real Redis: \
                 scripts/test starts one (or install redis-server and run \
                 `redis-server --daemonize yes`), SY_TEST_REDIS_URL names another, \
                 and SY_SKIP_REDIS=1 skips them."
            );
        }
        Some(TestRedis {
            prefix: format!("sytest:{test}:{:016x}", random()),
            client,
        })
    }

    /// The cluster options of this test's prefix, with a timeout generous
    /// enough for a loaded machine.
    pub fn options(&self) -> ClusterOptions {
        ClusterOptions {
            prefix: self.prefix.clone(),
            timeout: Duration::from_secs(2),
            ..ClusterOptions::new(redis_url())
        }
    }

    /// A new connection to Redis, as a second gateway node would have.
    pub fn node(&self) -> Cluster {
        Cluster::new(self.options()).unwrap()
    }

    pub async fn conn(&self) -> redis::aio::MultiplexedConnection {
        self.client
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    /// The server's clock, Unix milliseconds.
    pub async fn server_ms(&self) -> u64 {
        let (s, us): (u64, u64) = redis::cmd("TIME")
            .query_async(&mut self.conn().await)
            .await
            .unwrap();
        s * 1000 + us / 1000
    }

    /// The keys under this test's prefix.
    pub async fn keys(&self) -> Vec<String> {
        let mut conn = self.conn().await;
        let mut keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.prefix))
            .query_async(&mut conn)
            .await
            .unwrap();
        keys.sort();
        keys
    }

    /// `GET key` as a number (0 when absent).
    pub async fn get(&self, key: &str) -> u64 {
        let v: Option<u64> = redis::cmd("GET")
            .arg(key)
            .query_async(&mut self.conn().await)
            .await
            .unwrap();
        v.unwrap_or(0)
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        let Ok(mut conn) = self
            .client
            .get_connection_with_timeout(Duration::from_secs(2))
        else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.prefix))
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: Result<u64, _> = redis::cmd("DEL").arg(&keys).query(&mut conn);
        }
    }
}

/// Skip the test (return) when `SY_SKIP_REDIS=1`.
#[macro_export]
macro_rules! redis_or_skip {
    ($name:expr) => {
        match $crate::common::TestRedis::new($name) {
            Some(r) => r,
            None => return,
        }
    };
}

pub fn random() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    h.finish()
}

pub fn id(scope: Scope, entity: &str, measure: Measure) -> CounterId {
    CounterId {
        scope,
        entity: Arc::from(entity),
        measure,
    }
}

pub fn charge(scope: Scope, entity: &str, measure: Measure, limit: u64, amount: u64) -> Charge {
    Charge {
        counter: id(scope, entity, measure),
        limit,
        amount,
    }
}

/// A loopback port nothing listens on.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Waits for `done`, checking every 20 ms; a hang guard of 20 s, not a
/// timing assertion (what the tests wait for comes within about a second).
pub async fn wait_for<F: Future<Output = bool>>(what: &str, mut done: impl FnMut() -> F) {
    for _ in 0..1000 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("gave up waiting: {what}");
}
