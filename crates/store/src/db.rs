//! The `Store` handle: opening SQLite or PostgreSQL behind one `AnyPool`,
//! migrations, the write transaction that records audit and change rows,
//! and the small SQL helpers every entity module shares.

use std::sync::{Arc, Once};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::any::{AnyArguments, AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::query::Query;
use sqlx::{Any, AnyPool, Executor, Row, Transaction};
use tokio::sync::{Mutex, MutexGuard};

use crate::crypto::SecretBox;
use crate::error::{Result, StoreError};
use crate::model::{Actor, Page, Paged};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database is behind the pool. Queries are the same text on both;
/// only migrations and the change-feed lock differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite: a file (WAL) or `sqlite::memory:`.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// The control plane's persistent store. Cheap to clone (one pool inside).
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
    /// SQLite allows one writer; a deferred transaction that reads and then
    /// writes can fail with `SQLITE_BUSY` instead of waiting. Writers in this
    /// process therefore queue here first (PostgreSQL does not need it).
    write_gate: Arc<Mutex<()>>,
    pub(crate) secrets: Option<Arc<SecretBox>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .field("secrets", &self.secrets)
            .finish_non_exhaustive()
    }
}

static DRIVERS: Once = Once::new();

impl Store {
    /// Opens `sqlite://path/to/file.db` (parent folders and the file are
    /// created; WAL, `foreign_keys=ON`, 5 s busy timeout,
    /// `synchronous=NORMAL`), `sqlite::memory:` (one connection, for tests)
    /// or `postgres://…`. Does not migrate: call [`Store::migrate`].
    pub async fn open(url: &str) -> Result<Store> {
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let (backend, options) = if let Some(rest) = url.strip_prefix("sqlite:") {
            let memory = rest.contains(":memory:") || rest.contains("mode=memory");
            if !memory {
                create_sqlite_file(rest)?;
            }
            let options = AnyPoolOptions::new()
                .max_connections(if memory { 1 } else { 4 })
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        if !memory {
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                        }
                        Ok(())
                    })
                });
            // An in-memory database lives as long as its one connection.
            let options = if memory {
                options
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .min_connections(1)
            } else {
                options
            };
            (Backend::Sqlite, options)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, AnyPoolOptions::new().max_connections(10))
        } else {
            return Err(StoreError::Invalid(
                "store url must start with sqlite: or postgres://".into(),
            ));
        };
        let pool = options
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await?;
        Ok(Store {
            pool,
            backend,
            write_gate: Arc::new(Mutex::new(())),
            secrets: None,
        })
    }

    /// Uses `secrets` to encrypt and decrypt provider credentials.
    pub fn with_secrets(mut self, secrets: SecretBox) -> Store {
        self.secrets = Some(Arc::new(secrets));
        self
    }

    /// The same store (same pool) without a secret box.
    pub fn without_secrets(mut self) -> Store {
        self.secrets = None;
        self
    }

    /// Applies the embedded migrations not applied yet; safe to call on
    /// every start.
    pub async fn migrate(&self) -> Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Database(e.into()))
    }

    /// The database behind this store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for tests and tools that need raw SQL.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes every connection; waits for those in use.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a write transaction (after the SQLite write gate).
    pub(crate) async fn write(&self) -> Result<WriteTx<'_>> {
        let gate = match self.backend {
            Backend::Sqlite => Some(self.write_gate.lock().await),
            Backend::Postgres => None,
        };
        // SQLite: take the write lock at BEGIN. A deferred transaction
        // starts as a reader and fails at once with SQLITE_BUSY ("database
        // is locked", no busy wait) when another process — a second gateway
        // on the same file — wrote in between; IMMEDIATE waits its turn
        // under the busy timeout instead.
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTx {
            tx,
            backend: self.backend,
            change_locked: false,
            _gate: gate,
        })
    }

    /// Runs a list query: `select` (ending in its `FROM`) filtered by `w`,
    /// ordered by id, one page.
    pub(crate) async fn list<T>(
        &self,
        select: &str,
        mut w: Where,
        page: &Page,
        decode: fn(&AnyRow) -> Result<T>,
        id_of: fn(&T) -> &str,
    ) -> Result<Paged<T>> {
        let limit = page.clamped();
        if let Some(after) = &page.after {
            w.cmp("id", ">", Arg::Text(after.clone()));
        }
        let n = w.next_placeholder();
        let sql = format!("{select}{} ORDER BY id LIMIT ${n}", w.clause());
        let mut args = std::mem::take(&mut w.args);
        args.push(Arg::Int(limit + 1));
        let rows = bind_all(sqlx::query(&sql), args)
            .fetch_all(&self.pool)
            .await?;
        let mut items = rows.iter().map(decode).collect::<Result<Vec<T>>>()?;
        let next = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(|t| id_of(t).to_owned())
        } else {
            None
        };
        Ok(Paged { items, next })
    }
}

fn create_sqlite_file(rest: &str) -> Result<()> {
    let path = rest.strip_prefix("//").unwrap_or(rest);
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() {
        return Err(StoreError::Invalid("sqlite url has no file path".into()));
    }
    let path = std::path::Path::new(path);
    let io = |e: std::io::Error| StoreError::Database(sqlx::Error::Io(e));
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    Ok(())
}

/// One audit record to write beside a change.
pub(crate) struct Audit<'a> {
    pub action: &'a str,
    pub kind: &'a str,
    pub entity_id: &'a str,
    pub tenant_id: Option<&'a str>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// A write transaction. Every mutation goes through one, and calls
/// [`WriteTx::record`] before [`WriteTx::commit`], so the row, its audit
/// entry and its change-feed row commit or roll back together.
pub(crate) struct WriteTx<'a> {
    pub tx: Transaction<'static, Any>,
    backend: Backend,
    change_locked: bool,
    _gate: Option<MutexGuard<'a, ()>>,
}

impl WriteTx<'_> {
    /// Writes the audit entry and appends the change-feed row.
    pub async fn record(&mut self, actor: &Actor, a: Audit<'_>) -> Result<()> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO audit (id, at, actor, tenant_id, action, kind, entity_id, before_json, \
             after_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(new_id())
        .bind(now)
        .bind(actor.id.as_str())
        .bind(a.tenant_id)
        .bind(a.action)
        .bind(a.kind)
        .bind(a.entity_id)
        .bind(a.before.map(|v| v.to_string()))
        .bind(a.after.map(|v| v.to_string()))
        .execute(&mut *self.tx)
        .await?;
        if self.backend == Backend::Postgres && !self.change_locked {
            // Sequence values are taken at insert time but become visible at
            // commit, so without this a poller could read seq 8 before seq 7
            // commits and skip 7 for ever. The lock (held to commit, taken
            // last so nothing else waits under it) makes seq order commit
            // order; readers are not blocked.
            sqlx::query("LOCK TABLE changes IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *self.tx)
                .await?;
            self.change_locked = true;
        }
        sqlx::query("INSERT INTO changes (kind, entity_id, at) VALUES ($1, $2, $3)")
            .bind(a.kind)
            .bind(a.entity_id)
            .bind(now)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// Unix milliseconds now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A new time-ordered id.
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A bind value of a dynamically built query.
pub(crate) enum Arg {
    Text(String),
    Int(i64),
}

/// Binds `args` in order.
pub(crate) fn bind_all<'q>(
    mut q: Query<'q, Any, AnyArguments<'q>>,
    args: Vec<Arg>,
) -> Query<'q, Any, AnyArguments<'q>> {
    for a in args {
        q = match a {
            Arg::Text(s) => q.bind(s),
            Arg::Int(i) => q.bind(i),
        };
    }
    q
}

/// A `WHERE` clause built from optional filters, with `$N` placeholders.
#[derive(Default)]
pub(crate) struct Where {
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Where {
    pub fn next_placeholder(&self) -> usize {
        self.args.len() + 1
    }

    /// `col op $n`.
    pub fn cmp(&mut self, col: &str, op: &str, arg: Arg) {
        let n = self.next_placeholder();
        self.clauses.push(format!("{col} {op} ${n}"));
        self.args.push(arg);
    }

    /// `col = $n` when `value` is set.
    pub fn eq_opt(&mut self, col: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.cmp(col, "=", Arg::Text(v.to_owned()));
        }
    }

    /// `col` starts with `prefix` (case-sensitive on both databases, and no
    /// LIKE wildcards to escape).
    pub fn prefix(&mut self, col: &str, prefix: Option<&str>) {
        if let Some(p) = prefix.filter(|p| !p.is_empty()) {
            let n = self.next_placeholder();
            self.clauses
                .push(format!("substr({col}, 1, length(${n})) = ${n}"));
            self.args.push(Arg::Text(p.to_owned()));
        }
    }

    /// A fixed condition without binds.
    pub fn raw(&mut self, clause: &str) {
        self.clauses.push(clause.to_owned());
    }

    fn clause(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }
}

/// Reads column `col`.
pub(crate) fn col<'r, T>(row: &'r AnyRow, col: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    Ok(row.try_get(col)?)
}

/// Reads a 0/1 flag. Flags are BIGINT because the Any driver cannot decode
/// SQLite's BOOLEAN.
pub(crate) fn flag(row: &AnyRow, name: &str) -> Result<bool> {
    Ok(col::<i64>(row, name)? != 0)
}

/// Reads a JSON text column.
pub(crate) fn json_col<T: DeserializeOwned>(row: &AnyRow, name: &str) -> Result<T> {
    let text: String = col(row, name)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("column {name}: {e}")))
}

/// JSON text for a column.
pub(crate) fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// An entity's JSON for the audit log.
pub(crate) fn audit_json<T: Serialize>(v: &T) -> Result<Option<Value>> {
    serde_json::to_value(v)
        .map(Some)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Refuses a stale `expected_version`.
pub(crate) fn check_version(expected: Option<i64>, current: i64) -> Result<()> {
    match expected {
        Some(v) if v != current => Err(StoreError::VersionMismatch { current }),
        _ => Ok(()),
    }
}
