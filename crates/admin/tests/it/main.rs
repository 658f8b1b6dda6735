//! Integration tests of the admin API over a real loopback socket, against
//! a fresh SQLite store in a temp dir (and PostgreSQL too when
//! `SY_TEST_POSTGRES_URL` is set: see [`backends`]).

// Helpers outside `#[test]` functions are not covered by clippy.toml's
// allow-*-in-tests; a failing helper should fail the test loudly.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

mod crud;
mod errors;
mod fuzz_regressions;
mod openapi;
mod roles;
mod workflow;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sy_admin::AdminState;
use sy_store::{SecretBox, Store};

/// The bootstrap token every test server accepts.
pub const BOOT: &str = "boot-token-for-tests";

/// One running admin API.
pub struct Env {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The store behind it.
    pub store: Store,
    /// How often `on_change` was called.
    pub changes: Arc<AtomicUsize>,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// An answer: status, headers, JSON body (`null` when empty).
pub struct Resp {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// JSON body.
    pub body: Value,
}

impl Resp {
    /// The ETag header.
    pub fn etag(&self) -> String {
        self.headers
            .get("etag")
            .expect("etag")
            .to_str()
            .unwrap()
            .to_owned()
    }

    /// `body.error.type`.
    pub fn error_type(&self) -> &str {
        self.body["error"]["type"].as_str().unwrap_or_default()
    }
}

/// The store URLs to run a test on.
pub fn backends() -> Vec<Option<String>> {
    let mut v = vec![None];
    if let Ok(url) = std::env::var("SY_TEST_POSTGRES_URL") {
        v.push(Some(url));
    }
    v
}

/// Starts an admin API on a fresh SQLite store.
pub async fn env() -> Env {
    env_on(None).await
}

/// Starts an admin API on a fresh store: SQLite in a temp dir, or a fresh
/// schema of the PostgreSQL at `postgres`.
pub async fn env_on(postgres: Option<String>) -> Env {
    env_with(postgres, true).await
}

/// Starts an admin API on a fresh SQLite store without a secret key (so
/// literal provider credentials cannot be stored).
pub async fn env_without_secrets() -> Env {
    env_with(None, false).await
}

async fn env_with(postgres: Option<String>, secrets: bool) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let url = match postgres {
        None => format!("sqlite://{}/admin.db", dir.path().display()),
        Some(base) => fresh_pg_schema(&base).await,
    };
    let mut store = Store::open(&url).await.unwrap();
    if secrets {
        store = store.with_secrets(SecretBox::from_key_bytes([7; 32]));
    }
    store.migrate().await.unwrap();
    let changes = Arc::new(AtomicUsize::new(0));
    let counter = changes.clone();
    let state = AdminState::new(store.clone())
        .with_bootstrap_token(BOOT)
        .with_on_change(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, sy_admin::router(state))
            .await
            .unwrap();
    });
    Env {
        base: format!("http://{addr}"),
        store,
        changes,
        client: reqwest::Client::new(),
        _dir: dir,
    }
}

/// A new schema in the PostgreSQL at `base`, and a URL whose connections
/// use it.
async fn fresh_pg_schema(base: &str) -> String {
    use sqlx::Connection;
    let schema = format!("sy_admin_{}", uuid_like());
    let mut conn = sqlx::PgConnection::connect(base).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options[search_path]={schema}")
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{nanos:x}")
}

impl Env {
    /// Sends `method path` with `token` and an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        self.send(method, path, token, body, &[]).await
    }

    /// Like [`Env::call`] with extra headers.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        if status.is_client_error() || status.is_server_error() {
            assert!(
                body["error"]["type"].is_string(),
                "{status} without error shape: {body}"
            );
            assert!(
                body["error"]["message"].is_string(),
                "{status} without message: {body}"
            );
        }
        assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{path}: {body}");
        Resp {
            status,
            headers,
            body,
        }
    }

    /// Raw bytes with a content type.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        ctype: Option<&str>,
        body: Vec<u8>,
    ) -> Resp {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(BOOT);
        if let Some(c) = ctype {
            req = req.header("content-type", c);
        }
        let resp = req.body(body).send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.json().await.unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
        }
    }

    /// POST as the bootstrap admin, asserting 201; the created body.
    pub async fn create(&self, path: &str, body: Value) -> Value {
        let r = self.call(Method::POST, path, Some(BOOT), Some(body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{path}: {}", r.body);
        r.body
    }

    /// Creates a tenant; its id.
    pub async fn tenant(&self, name: &str) -> String {
        self.create("/admin/v1/tenants", json!({"name": name}))
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Creates a user and logs in; the session token.
    pub async fn login_as(&self, username: &str, role: &str, tenant: Option<&str>) -> String {
        let mut body = json!({"username": username, "password": "correct-horse", "role": role});
        if let Some(t) = tenant {
            body["tenant_id"] = json!(t);
        }
        self.create("/admin/v1/users", body).await;
        let r = self
            .call(
                Method::POST,
                "/admin/v1/login",
                None,
                Some(json!({"username": username, "password": "correct-horse"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body["token"].as_str().unwrap().to_owned()
    }

    /// Creates a consumer in `tenant`; its id.
    pub async fn consumer(&self, tenant: &str, name: &str) -> String {
        self.create(
            "/admin/v1/consumers",
            json!({"tenant_id": tenant, "name": name}),
        )
        .await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// How often `on_change` ran.
    pub fn change_count(&self) -> usize {
        self.changes.load(Ordering::SeqCst)
    }
}
