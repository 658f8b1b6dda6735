//! Fresh, migrated stores for each test.

use sqlx::Executor;
use sy_store::{Actor, NewConsumer, NewTenant, SecretBox, Store};
use tempfile::TempDir;

/// The key every test store encrypts with.
pub fn test_box() -> SecretBox {
    SecretBox::from_key_bytes([42; 32])
}

/// A migrated store on a new SQLite file (in a folder that does not exist
/// yet, to prove `open` creates it).
pub async fn sqlite() -> (Store, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/nested/store.db", dir.path().display());
    let store = Store::open(&url).await.unwrap().with_secrets(test_box());
    store.migrate().await.unwrap();
    (store, dir)
}

/// A store in its own PostgreSQL schema.
pub struct Pg {
    pub store: Store,
    admin: Store,
    schema: String,
}

impl Pg {
    /// Drops the schema (left behind if the test failed, for inspection).
    pub async fn cleanup(self) {
        self.store.close().await;
        let sql = format!("DROP SCHEMA {} CASCADE", self.schema);
        self.admin.pool().execute(sql.as_str()).await.unwrap();
        self.admin.close().await;
    }
}

/// A migrated store in a fresh schema, or `None` (with a note) when
/// `SY_TEST_POSTGRES_URL` is unset.
pub async fn postgres() -> Option<Pg> {
    let Ok(url) = std::env::var("SY_TEST_POSTGRES_URL") else {
        eprintln!("skipped: set SY_TEST_POSTGRES_URL to run the PostgreSQL tests");
        return None;
    };
    let schema = format!("sy_t_{}", uuid::Uuid::now_v7().simple());
    let admin = Store::open(&url).await.unwrap();
    admin
        .pool()
        .execute(format!("CREATE SCHEMA {schema}").as_str())
        .await
        .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let scoped = format!("{url}{sep}options[search_path]={schema}");
    let store = Store::open(&scoped).await.unwrap().with_secrets(test_box());
    store.migrate().await.unwrap();
    Some(Pg {
        store,
        admin,
        schema,
    })
}

/// A platform admin acting through the API.
pub fn admin() -> Actor {
    Actor::user("admin-1", None)
}

/// Creates a tenant named `name`.
pub async fn tenant(store: &Store, name: &str) -> sy_store::Tenant {
    let new = NewTenant {
        name: name.into(),
        ..NewTenant::default()
    };
    store.create_tenant(&admin(), new).await.unwrap()
}

/// Creates a consumer named `name` in the tenant.
pub async fn consumer(store: &Store, tenant_id: &str, name: &str) -> sy_store::Consumer {
    let new = NewConsumer {
        tenant_id: tenant_id.into(),
        name: name.into(),
        ..Default::default()
    };
    store.create_consumer(&admin(), new).await.unwrap()
}
