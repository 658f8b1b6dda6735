//! Routes, upstreams, providers and models stored as their spec JSON. A
//! provider's credential is kept apart from the spec, encrypted with the
//! store's [`SecretBox`], and read back only by [`Store::provider_secret`].

use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor};

use crate::crypto::SecretBox;
use crate::db::{Store, Where, WriteTx, col, flag, json_col, new_id, now_ms, to_json};
use crate::entity::{self, AnyQuery, Entity};
use crate::error::{Result, StoreError};
use crate::model::{Actor, Page, Paged, Resource, ResourceKind, Tenant};

/// Input of [`Store::create_resource`]. Debug hides the secret.
#[derive(Clone, PartialEq)]
pub struct NewResource {
    /// What the spec is.
    pub kind: ResourceKind,
    /// Unique per kind; must equal the spec's `name`.
    pub name: String,
    /// Owning tenant; `None` = platform-wide.
    pub tenant_id: Option<String>,
    /// The `*Spec` as JSON (checked against the spec type of `kind`).
    pub spec: Value,
    /// A provider's credential in clear; stored encrypted.
    pub secret: Option<String>,
}

impl std::fmt::Debug for NewResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewResource")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("tenant_id", &self.tenant_id)
            .field("spec", &self.spec)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Changes for [`Store::update_resource`]; `None` keeps the field. Debug
/// hides the secret.
#[derive(Clone, Default, PartialEq)]
pub struct ResourcePatch {
    /// New spec.
    pub spec: Option<Value>,
    /// New credential (`Some(None)` removes it).
    pub secret: Option<Option<String>>,
}

impl std::fmt::Debug for ResourcePatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourcePatch")
            .field("spec", &self.spec)
            .field(
                "secret",
                &self
                    .secret
                    .as_ref()
                    .map(|s| s.as_ref().map(|_| "<redacted>")),
            )
            .finish()
    }
}

/// Filters of [`Store::list_resources`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceFilter {
    /// Only this kind.
    pub kind: Option<ResourceKind>,
    /// Only this tenant's.
    pub tenant_id: Option<String>,
    /// Only names starting with this.
    pub name_prefix: Option<String>,
}

impl Entity for Resource {
    /// Lookups by id name no kind of resource.
    const KIND: &'static str = "resource";
    const TABLE: &'static str = "resources";
    const SELECT: &'static str = "SELECT id, kind, name, tenant_id, spec, secret, file_managed, \
                                  version, created_at, updated_at FROM resources";

    entity::entity_fields!(file_managed);

    fn decode(row: &AnyRow) -> Result<Resource> {
        Ok(Resource {
            id: col(row, "id")?,
            kind: ResourceKind::parse(&col::<String>(row, "kind")?)?,
            name: col(row, "name")?,
            tenant_id: col(row, "tenant_id")?,
            spec: json_col(row, "spec")?,
            has_secret: col::<Option<String>>(row, "secret")?.is_some(),
            file_managed: flag(row, "file_managed")?,
            version: col(row, "version")?,
            created_at: col(row, "created_at")?,
            updated_at: col(row, "updated_at")?,
        })
    }

    fn tenant_id(&self) -> Option<&str> {
        self.tenant_id.as_deref()
    }

    fn unique(&self) -> (&'static str, &str) {
        ("name", &self.name)
    }

    /// Keeps the secret.
    fn update_query(&self, prev: i64) -> Result<AnyQuery<'_>> {
        update_query(self, prev, SecretChange::Keep)
    }

    /// `route`, `upstream`, `provider` or `model`.
    fn kind(&self) -> &'static str {
        self.kind.as_str()
    }
}

/// The resource of `kind` named `name`.
pub(crate) async fn fetch_by_name<'e>(
    ex: impl Executor<'e, Database = Any>,
    kind: ResourceKind,
    name: &str,
) -> Result<Option<Resource>> {
    entity::fetch(ex, "kind = $1 AND name = $2", &[kind.as_str(), name]).await
}

/// Checks `spec` against the spec type of `kind`, its name, and that a
/// provider's credential is not written into the spec in clear.
pub(crate) fn check_spec(kind: ResourceKind, name: &str, spec: &Value) -> Result<()> {
    let invalid = |e: serde_json::Error| StoreError::Invalid(format!("{kind} spec: {e}"));
    let v = spec.clone();
    match kind {
        ResourceKind::Route => serde_json::from_value::<sy_config::RouteSpec>(v).map(drop),
        ResourceKind::Upstream => serde_json::from_value::<sy_config::UpstreamSpec>(v).map(drop),
        ResourceKind::Provider => serde_json::from_value::<sy_config::ProviderSpec>(v).map(drop),
        ResourceKind::Model => serde_json::from_value::<sy_config::ModelSpec>(v).map(drop),
    }
    .map_err(invalid)?;
    if spec.get("name").and_then(Value::as_str) != Some(name) {
        return Err(StoreError::Invalid(format!(
            "{kind} spec name must be {name:?}"
        )));
    }
    if let Some(key) = spec.get("api_key").and_then(Value::as_str)
        && !(key.starts_with("${") && key.ends_with('}'))
    {
        return Err(StoreError::Invalid(
            "a provider credential goes in `secret` (stored encrypted), not in the spec".into(),
        ));
    }
    Ok(())
}

impl Store {
    fn secret_box(&self) -> Result<&SecretBox> {
        self.secrets.as_deref().ok_or_else(|| {
            StoreError::Crypto(
                "no secret key configured: set SWITCHYARD_SECRET_KEY (base64 of 32 bytes) or \
                 SWITCHYARD_SECRET_KEY_FILE"
                    .into(),
            )
        })
    }

    fn seal(&self, kind: ResourceKind, secret: Option<&str>) -> Result<Option<String>> {
        match secret {
            None => Ok(None),
            Some(_) if kind != ResourceKind::Provider => Err(StoreError::Invalid(format!(
                "a {kind} cannot carry a secret"
            ))),
            Some(s) => self.secret_box()?.encrypt(s).map(Some),
        }
    }

    /// Creates a resource. `Conflict` when the kind/name pair is taken.
    pub async fn create_resource(&self, actor: &Actor, new: NewResource) -> Result<Resource> {
        check_spec(new.kind, &new.name, &new.spec)?;
        let sealed = self.seal(new.kind, new.secret.as_deref())?;
        let mut tx = self.write().await?;
        let r = create_in(&mut tx, actor, new, sealed, false).await?;
        tx.commit().await?;
        Ok(r)
    }

    /// The resource with this id.
    pub async fn get_resource(&self, id: &str) -> Result<Resource> {
        entity::get(&self.pool, "id", id).await
    }

    /// The resource of `kind` named `name`.
    pub async fn resource_by_name(&self, kind: ResourceKind, name: &str) -> Result<Resource> {
        fetch_by_name(&self.pool, kind, name)
            .await?
            .ok_or_else(|| StoreError::not_found(kind.as_str(), name))
    }

    /// Resources in creation order.
    pub async fn list_resources(
        &self,
        filter: &ResourceFilter,
        page: &Page,
    ) -> Result<Paged<Resource>> {
        let mut w = Where::default();
        w.eq_opt("kind", filter.kind.map(|k| k.as_str()));
        w.eq_opt("tenant_id", filter.tenant_id.as_deref());
        w.prefix("name", filter.name_prefix.as_deref());
        self.list_of(w, page).await
    }

    /// Applies `patch`. Refused for file-managed resources and stale versions.
    pub async fn update_resource(
        &self,
        actor: &Actor,
        id: &str,
        patch: ResourcePatch,
        expected_version: Option<i64>,
    ) -> Result<Resource> {
        let mut tx = self.write().await?;
        let before: Resource = entity::for_change(&mut tx, id, expected_version).await?;
        let mut after = before.clone();
        if let Some(spec) = patch.spec {
            check_spec(after.kind, &after.name, &spec)?;
            after.spec = spec;
        }
        let secret = match patch.secret {
            None => SecretChange::Keep,
            Some(None) => SecretChange::Set(None),
            Some(Some(s)) => SecretChange::Set(self.seal(after.kind, Some(&s))?),
        };
        if let SecretChange::Set(s) = &secret {
            after.has_secret = s.is_some();
        }
        after.touch(now_ms());
        let update = update_query(&after, before.version, secret)?;
        entity::update_with(&mut tx, actor, "update", &before, &after, update).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes the resource.
    pub async fn delete_resource(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: Option<i64>,
    ) -> Result<()> {
        self.delete_row::<Resource>(actor, id, expected_version)
            .await
    }

    /// The provider's credential, decrypted; `None` when it has none.
    pub async fn provider_secret(&self, name: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT secret FROM resources WHERE kind = $1 AND name = $2")
            .bind(ResourceKind::Provider.as_str())
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(ResourceKind::Provider.as_str(), name))?;
        let sealed: Option<String> = col(&row, "secret")?;
        sealed.map(|s| self.secret_box()?.decrypt(&s)).transpose()
    }

    /// Re-encrypts every stored secret from `old` to `new` in one
    /// transaction (each audited as `rotate`). Secrets already under `new`
    /// are left alone, so a rotation interrupted before commit can simply
    /// be run again. Returns how many were re-encrypted. Reopen the store
    /// with `new` afterwards.
    pub async fn rotate_secrets(
        &self,
        actor: &Actor,
        old: &SecretBox,
        new: &SecretBox,
    ) -> Result<u64> {
        let mut tx = self.write().await?;
        let sql = format!("{} WHERE secret IS NOT NULL ORDER BY id", Resource::SELECT);
        let rows = sqlx::query(&sql).fetch_all(&mut *tx.tx).await?;
        let mut count = 0;
        for row in &rows {
            let sealed: String = col(row, "secret")?;
            if new.owns(&sealed) {
                continue;
            }
            let resealed = new.encrypt(&old.decrypt(&sealed)?)?;
            let before = Resource::decode(row)?;
            let mut after = before.clone();
            after.touch(now_ms());
            let update = update_query(&after, before.version, SecretChange::Set(Some(resealed)))?;
            entity::update_with(&mut tx, actor, "rotate", &before, &after, update).await?;
            count += 1;
        }
        tx.commit().await?;
        Ok(count)
    }
}

/// What an update does to the `secret` column.
enum SecretChange {
    Keep,
    Set(Option<String>),
}

/// Inserts a resource (into its tenant, which must exist, if it has one)
/// with the `sealed` credential and records its creation.
pub(crate) async fn create_in(
    tx: &mut WriteTx<'_>,
    actor: &Actor,
    new: NewResource,
    sealed: Option<String>,
    file_managed: bool,
) -> Result<Resource> {
    if let Some(t) = &new.tenant_id {
        entity::get::<Tenant>(&mut *tx.tx, "id", t).await?;
    }
    let now = now_ms();
    let r = Resource {
        id: new_id(),
        kind: new.kind,
        name: new.name,
        tenant_id: new.tenant_id,
        spec: new.spec,
        has_secret: sealed.is_some(),
        file_managed,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let insert = sqlx::query(
        "INSERT INTO resources (id, kind, name, tenant_id, spec, secret, file_managed, version, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&r.id)
    .bind(r.kind.as_str())
    .bind(&r.name)
    .bind(r.tenant_id.as_deref())
    .bind(to_json(&r.spec)?)
    .bind(sealed)
    .bind(i64::from(r.file_managed))
    .bind(r.version)
    .bind(r.created_at)
    .bind(r.updated_at);
    entity::insert(tx, actor, &r, insert).await?;
    Ok(r)
}

/// The `UPDATE` of `r` at version `prev`, doing `secret` to the credential.
fn update_query(r: &Resource, prev: i64, secret: SecretChange) -> Result<AnyQuery<'_>> {
    let (set_secret, sealed) = match secret {
        SecretChange::Keep => (0_i64, None),
        SecretChange::Set(s) => (1, s),
    };
    Ok(sqlx::query(
        "UPDATE resources SET tenant_id = $1, spec = $2, \
         secret = CASE WHEN $3 = 1 THEN $4 ELSE secret END, file_managed = $5, version = $6, \
         updated_at = $7 WHERE id = $8 AND version = $9",
    )
    .bind(r.tenant_id.as_deref())
    .bind(to_json(&r.spec)?)
    .bind(set_secret)
    .bind(sealed)
    .bind(i64::from(r.file_managed))
    .bind(r.version)
    .bind(r.updated_at)
    .bind(&r.id)
    .bind(prev))
}
