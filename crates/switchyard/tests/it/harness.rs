//! Starts a real gateway in-process on ephemeral loopback ports, with its
//! configuration in a temp file (so reload tests can rewrite it) and its
//! access log captured for assertions.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchyard::Gateway;
use sy_telemetry::AccessLog;
use tokio::io::AsyncBufReadExt;

/// A gateway under test.
pub struct TestGateway {
    pub gw: Option<Gateway>,
    /// `http://127.0.0.1:PORT` of the first listener.
    pub base: String,
    pub addr: SocketAddr,
    pub admin: String,
    pub config_path: PathBuf,
    lines: Arc<Mutex<Vec<serde_json::Value>>>,
    _dir: tempfile::TempDir,
}

/// Prepend a minimal preamble (ephemeral ports, fast shutdown) to `body`
/// unless it declares its own listeners.
pub fn with_defaults(body: &str) -> String {
    let mut out = String::new();
    if !body.contains("listeners:") {
        out.push_str("listeners:\n  - name: main\n    bind: 127.0.0.1:0\n");
    }
    if !body.contains("admin:") {
        out.push_str("admin:\n  bind: 127.0.0.1:0\n");
    }
    if !body.contains("server:") {
        out.push_str("server:\n  shutdown_grace: 5s\n");
    }
    out.push_str(body);
    out
}

impl TestGateway {
    pub async fn start(yaml: &str) -> TestGateway {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("switchyard.yaml");
        let mut text = with_defaults(yaml);
        if !yaml.contains("store:") {
            // Every test runs on a store of its own, as `serve` does.
            text.push_str(&format!(
                "store: sqlite://{}/store.db\n",
                dir.path().display()
            ));
        }
        std::fs::write(&path, text).unwrap();
        let spec = sy_config::load_file(&path).unwrap_or_else(|e| panic!("config invalid:\n{e}"));
        let (client, server) = tokio::io::duplex(1 << 20);
        let (log, task) = AccessLog::to_writer(client);
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        tokio::spawn(async move {
            let mut reader = tokio::io::BufReader::new(server).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                sink.lock()
                    .unwrap()
                    .push(serde_json::from_str(&line).unwrap());
            }
        });
        let gw = Gateway::start(spec, Some(path.clone()), log, Some(task))
            .await
            .unwrap();
        let addr = gw.addrs[0];
        let admin = format!("http://{}", gw.admin_addr.unwrap());
        TestGateway {
            base: format!("http://{addr}"),
            addr,
            admin,
            gw: Some(gw),
            config_path: path,
            lines,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The admin listener's `/metrics` text.
    pub async fn metrics(&self) -> String {
        client()
            .get(format!("{}/metrics", self.admin))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Rewrite the config file (with the same preamble) and reload now.
    pub fn rewrite(&self, yaml: &str) -> Result<u64, String> {
        std::fs::write(&self.config_path, with_defaults(yaml)).unwrap();
        self.gw.as_ref().unwrap().reload("test")
    }

    /// Access log lines written so far, waiting until at least `n` arrived.
    pub async fn log_lines(&self, n: usize) -> Vec<serde_json::Value> {
        for _ in 0..500 {
            {
                let l = self.lines.lock().unwrap();
                if l.len() >= n {
                    return l.clone();
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.lines.lock().unwrap().clone()
    }

    /// `GET path` with `key` as a Bearer token: status and body.
    pub async fn get_with_key(&self, path: &str, key: &str) -> (u16, String) {
        let res = client()
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.text().await.unwrap())
    }

    /// Once the data plane serves every store change so far, `GET path`
    /// with `key` must answer `status` with `needle` in its body. Returns
    /// how long applying the changes took (checked against the one
    /// second by the callers that measure propagation).
    pub async fn after_sync_expect(
        &self,
        path: &str,
        key: &str,
        status: u16,
        needle: &str,
    ) -> (Duration, String) {
        let took = self.synced().await;
        let (got, body) = self.get_with_key(path, key).await;
        assert_eq!(got, status, "{path}: {body}");
        assert!(body.contains(needle), "{path}: `{needle}` not in {body}");
        (took, body)
    }

    /// Wait until the data plane serves every change in the store so far
    /// (a condition, not a guess: the control plane publishes the change
    /// feed position it has applied). Returns how long that took.
    pub async fn synced(&self) -> Duration {
        let control = self
            .gw
            .as_ref()
            .unwrap()
            .control
            .as_ref()
            .expect("a gateway with a store");
        let started = tokio::time::Instant::now();
        let head = control.store().head().await.unwrap();
        tokio::time::timeout(Duration::from_secs(5), control.applied(head))
            .await
            .expect("store changes reach the data plane");
        started.elapsed()
    }

    pub async fn shutdown(mut self) {
        if let Some(gw) = self.gw.take() {
            gw.shutdown().await;
        }
    }
}

/// A client that keeps connections alive and never retries by itself.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap()
}

/// Read a JSON error body and check the shape every error shares.
pub async fn error_json(res: reqwest::Response) -> serde_json::Value {
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(ct.as_deref(), Some("application/json"));
    let v: serde_json::Value = res.json().await.unwrap();
    assert!(v["error"]["message"].is_string(), "{v}");
    assert!(v["error"]["code"].is_string(), "{v}");
    v
}

/// A fresh PostgreSQL schema for one test, when `SY_TEST_POSTGRES_URL`
/// names a server (else `None`: the test runs on SQLite only).
pub struct PgSchema {
    /// `store: "<url scoped to the schema>"`, a line to add to a config.
    pub store_line: String,
    name: String,
    pool: sqlx::PgPool,
}

impl PgSchema {
    pub async fn create() -> Option<PgSchema> {
        let base = std::env::var("SY_TEST_POSTGRES_URL").ok()?;
        let pool = sqlx::PgPool::connect(&base).await.unwrap();
        let name = format!("sy_it_{}", uuid::Uuid::now_v7().simple());
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&pool)
            .await
            .unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        Some(PgSchema {
            store_line: format!("store: \"{base}{sep}options[search_path]={name}\"\n"),
            name,
            pool,
        })
    }

    pub async fn drop(self) {
        let _ = sqlx::query(&format!("DROP SCHEMA {} CASCADE", self.name))
            .execute(&self.pool)
            .await;
    }
}

/// Run `case` on SQLite (the harness default) and, when PostgreSQL is
/// configured, on a fresh PostgreSQL schema: `case` gets the config line to
/// prepend (empty for SQLite).
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident => $case:path;)+) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    $case("").await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(pg) = $crate::harness::PgSchema::create().await else {
                        eprintln!("skipped: set SY_TEST_POSTGRES_URL to run on PostgreSQL");
                        return;
                    };
                    $case(&pg.store_line).await;
                    pg.drop().await;
                }
            )+
        }
    };
}
