//! Applying the configuration file: the tenants, consumers, keys (by hash),
//! products and resources it declares are upserted as `file_managed` rows,
//! and file-managed rows it no longer declares are deleted, all in one
//! transaction audited as actor `file`. Unchanged rows are not written, so
//! their versions stay and the change feed stays quiet.

use serde_json::{Map, Value};
use sy_config::LimitsSpec;

use crate::db::{Store, WriteTx, col, now_ms};
use crate::error::{Result, StoreError};
use crate::keys::normalize_hash;
use crate::model::{Actor, ResourceKind, Scopes, Visibility};
use crate::resources::{NewResource, SecretChange, check_spec};
use crate::{consumers, keys, products, resources, tenants};

/// A tenant declared in the file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileTenant {
    /// Slug.
    pub name: String,
    /// Human-readable name; the slug when empty.
    pub display_name: String,
    /// Limits.
    pub limits: LimitsSpec,
    /// Labels.
    pub metadata: Map<String, Value>,
}

/// A consumer declared in the file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileConsumer {
    /// Name of its tenant (declared in the file or already stored).
    pub tenant: String,
    /// Unique within the tenant.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Limits.
    pub limits: LimitsSpec,
    /// Labels.
    pub metadata: Map<String, Value>,
}

/// A key declared in the file by its SHA-256 (the file never holds a key).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileKey {
    /// Tenant name.
    pub tenant: String,
    /// Consumer name within the tenant.
    pub consumer: String,
    /// Label.
    pub name: String,
    /// Hex SHA-256 of the key.
    pub sha256: String,
    /// What the key may reach.
    pub scopes: Scopes,
    /// Limits.
    pub limits: LimitsSpec,
    /// Labels.
    pub metadata: Map<String, Value>,
    /// Unix milliseconds.
    pub expires_at: Option<i64>,
}

/// A product declared in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileProduct {
    /// Tenant name; `None` = platform-wide.
    pub tenant: Option<String>,
    /// Unique name.
    pub name: String,
    /// Summary.
    pub description: String,
    /// Markdown.
    pub docs: String,
    /// Who sees it.
    pub visibility: Visibility,
    /// Route names.
    pub routes: Vec<String>,
    /// Model names.
    pub models: Vec<String>,
    /// Subscriptions need approval.
    pub requires_approval: bool,
}

/// A route, upstream, provider or model declared in the file. Credentials
/// stay `${VAR}` references inside the spec.
#[derive(Debug, Clone, PartialEq)]
pub struct FileResource {
    /// What the spec is.
    pub kind: ResourceKind,
    /// Unique per kind.
    pub name: String,
    /// Tenant name; `None` = platform-wide.
    pub tenant: Option<String>,
    /// The spec JSON.
    pub spec: Value,
}

/// Everything the file declares that the store keeps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileEntities {
    /// Tenants.
    pub tenants: Vec<FileTenant>,
    /// Consumers.
    pub consumers: Vec<FileConsumer>,
    /// Keys by hash.
    pub keys: Vec<FileKey>,
    /// Products.
    pub products: Vec<FileProduct>,
    /// Resources.
    pub resources: Vec<FileResource>,
}

/// What [`Store::apply_file`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Rows inserted.
    pub created: usize,
    /// Rows changed (including API rows the file took over).
    pub updated: usize,
    /// File-managed rows no longer in the file, deleted.
    pub deleted: usize,
    /// Rows already as declared.
    pub unchanged: usize,
}

async fn tenant_id(tx: &mut WriteTx<'_>, name: &str) -> Result<String> {
    tenants::fetch(&mut *tx.tx, "name", name)
        .await?
        .map(|t| t.id)
        .ok_or_else(|| StoreError::not_found(tenants::KIND, name))
}

async fn opt_tenant_id(tx: &mut WriteTx<'_>, name: Option<&str>) -> Result<Option<String>> {
    match name {
        Some(n) => tenant_id(tx, n).await.map(Some),
        None => Ok(None),
    }
}

/// Ids of file-managed rows of `table` not in `keep`.
async fn stale(tx: &mut WriteTx<'_>, table: &str, keep: &[String]) -> Result<Vec<String>> {
    let rows = sqlx::query(&format!(
        "SELECT id FROM {table} WHERE file_managed = 1 ORDER BY id"
    ))
    .fetch_all(&mut *tx.tx)
    .await?;
    let mut out = Vec::new();
    for row in &rows {
        let id: String = col(row, "id")?;
        if !keep.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

impl Store {
    /// Makes the stored file-managed rows match `file` (see the module
    /// doc). An API-created row with a declared name is taken over.
    pub async fn apply_file(&self, file: &FileEntities) -> Result<ApplyReport> {
        let actor = Actor::file();
        let mut r = ApplyReport::default();
        let mut tx = self.write().await?;
        let now = now_ms();

        let mut seen_tenants = Vec::new();
        for ft in &file.tenants {
            let display_name = if ft.display_name.is_empty() {
                ft.name.clone()
            } else {
                ft.display_name.clone()
            };
            match tenants::fetch(&mut *tx.tx, "name", &ft.name).await? {
                None => {
                    let new = tenants::NewTenant {
                        name: ft.name.clone(),
                        display_name,
                        limits: ft.limits.clone(),
                        metadata: ft.metadata.clone(),
                    };
                    let t = tenants::build(new, true)?;
                    tenants::create_in(&mut tx, &actor, &t).await?;
                    seen_tenants.push(t.id);
                    r.created += 1;
                }
                Some(before) => {
                    let mut after = before.clone();
                    after.display_name = display_name;
                    after.limits = ft.limits.clone();
                    after.metadata = ft.metadata.clone();
                    after.file_managed = true;
                    seen_tenants.push(before.id.clone());
                    if after == before {
                        r.unchanged += 1;
                        continue;
                    }
                    tenants::check_limits(&after.limits)?;
                    after.version += 1;
                    after.updated_at = now;
                    tenants::update_in(&mut tx, &actor, &before, &after).await?;
                    r.updated += 1;
                }
            }
        }

        let mut seen_consumers = Vec::new();
        for fc in &file.consumers {
            let tid = tenant_id(&mut tx, &fc.tenant).await?;
            match consumers::fetch_by_name(&mut *tx.tx, &tid, &fc.name).await? {
                None => {
                    let new = consumers::NewConsumer {
                        tenant_id: tid,
                        name: fc.name.clone(),
                        description: fc.description.clone(),
                        limits: fc.limits.clone(),
                        metadata: fc.metadata.clone(),
                    };
                    let c = consumers::build(new, true)?;
                    consumers::create_in(&mut tx, &actor, &c).await?;
                    seen_consumers.push(c.id);
                    r.created += 1;
                }
                Some(before) => {
                    let mut after = before.clone();
                    after.description = fc.description.clone();
                    after.limits = fc.limits.clone();
                    after.metadata = fc.metadata.clone();
                    after.file_managed = true;
                    seen_consumers.push(before.id.clone());
                    if after == before {
                        r.unchanged += 1;
                        continue;
                    }
                    tenants::check_limits(&after.limits)?;
                    after.version += 1;
                    after.updated_at = now;
                    consumers::update_in(&mut tx, &actor, &before, &after).await?;
                    r.updated += 1;
                }
            }
        }

        let mut seen_products = Vec::new();
        for fp in &file.products {
            let tid = opt_tenant_id(&mut tx, fp.tenant.as_deref()).await?;
            match products::fetch(&mut *tx.tx, "name", &fp.name).await? {
                None => {
                    let new = products::NewProduct {
                        tenant_id: tid,
                        name: fp.name.clone(),
                        description: fp.description.clone(),
                        docs: fp.docs.clone(),
                        visibility: fp.visibility,
                        routes: fp.routes.clone(),
                        models: fp.models.clone(),
                        requires_approval: fp.requires_approval,
                    };
                    let p = products::build(new, true)?;
                    products::create_in(&mut tx, &actor, &p).await?;
                    seen_products.push(p.id);
                    r.created += 1;
                }
                Some(before) => {
                    let mut after = before.clone();
                    after.tenant_id = tid;
                    after.description = fp.description.clone();
                    after.docs = fp.docs.clone();
                    after.visibility = fp.visibility;
                    after.routes = fp.routes.clone();
                    after.models = fp.models.clone();
                    after.requires_approval = fp.requires_approval;
                    after.file_managed = true;
                    seen_products.push(before.id.clone());
                    if after == before {
                        r.unchanged += 1;
                        continue;
                    }
                    after.version += 1;
                    after.updated_at = now;
                    products::update_in(&mut tx, &actor, &before, &after).await?;
                    r.updated += 1;
                }
            }
        }

        let mut seen_resources = Vec::new();
        for fr in &file.resources {
            check_spec(fr.kind, &fr.name, &fr.spec)?;
            let tid = opt_tenant_id(&mut tx, fr.tenant.as_deref()).await?;
            let existing = resources::fetch(
                &mut *tx.tx,
                "kind = $1 AND name = $2",
                fr.kind.as_str(),
                Some(&fr.name),
            )
            .await?;
            match existing {
                None => {
                    let new = NewResource {
                        kind: fr.kind,
                        name: fr.name.clone(),
                        tenant_id: tid,
                        spec: fr.spec.clone(),
                        secret: None,
                    };
                    let res = resources::create_in(&mut tx, &actor, new, None, true).await?;
                    seen_resources.push(res.id);
                    r.created += 1;
                }
                Some(before) => {
                    let mut after = before.clone();
                    after.tenant_id = tid;
                    after.spec = fr.spec.clone();
                    after.file_managed = true;
                    seen_resources.push(before.id.clone());
                    if after == before {
                        r.unchanged += 1;
                        continue;
                    }
                    after.version += 1;
                    after.updated_at = now;
                    resources::update_in(
                        &mut tx,
                        &actor,
                        "update",
                        &before,
                        &after,
                        SecretChange::Keep,
                    )
                    .await?;
                    r.updated += 1;
                }
            }
        }

        let mut seen_keys = Vec::new();
        for fk in &file.keys {
            let hash = normalize_hash(&fk.sha256)?;
            let tid = tenant_id(&mut tx, &fk.tenant).await?;
            let consumer = consumers::fetch_by_name(&mut *tx.tx, &tid, &fk.consumer)
                .await?
                .ok_or_else(|| StoreError::not_found(consumers::KIND, &fk.consumer))?;
            match keys::fetch(&mut *tx.tx, "key_hash", &hash).await? {
                None => {
                    let new = keys::NewKey {
                        consumer_id: consumer.id,
                        name: fk.name.clone(),
                        scopes: fk.scopes.clone(),
                        limits: fk.limits.clone(),
                        metadata: fk.metadata.clone(),
                        expires_at: fk.expires_at,
                    };
                    let prefix = format!("sha256:{}", &hash[..5]);
                    let k = keys::insert_in(&mut tx, &actor, new, &hash, prefix, true).await?;
                    seen_keys.push(k.id);
                    r.created += 1;
                }
                Some(before) => {
                    if before.consumer_id != consumer.id {
                        return Err(StoreError::Invalid(format!(
                            "key {:?} already belongs to another consumer",
                            fk.name
                        )));
                    }
                    let mut after = before.clone();
                    after.name = fk.name.clone();
                    after.scopes = fk.scopes.clone();
                    after.limits = fk.limits.clone();
                    after.metadata = fk.metadata.clone();
                    after.expires_at = fk.expires_at;
                    after.file_managed = true;
                    seen_keys.push(before.id.clone());
                    if after == before {
                        r.unchanged += 1;
                        continue;
                    }
                    tenants::check_limits(&after.limits)?;
                    after.version += 1;
                    after.updated_at = now;
                    keys::update_in(&mut tx, &actor, "update", &before, &after).await?;
                    r.updated += 1;
                }
            }
        }

        // Children first, so each deletion is audited on its own before a
        // tenant's cascade could remove it silently.
        for id in stale(&mut tx, "api_keys", &seen_keys).await? {
            if let Some(k) = keys::fetch(&mut *tx.tx, "id", &id).await? {
                keys::remove(&mut tx, &actor, &k).await?;
                r.deleted += 1;
            }
        }
        for id in stale(&mut tx, "consumers", &seen_consumers).await? {
            if let Some(c) = consumers::fetch(&mut *tx.tx, &id).await? {
                consumers::remove(&mut tx, &actor, &c).await?;
                r.deleted += 1;
            }
        }
        for id in stale(&mut tx, "products", &seen_products).await? {
            if let Some(p) = products::fetch(&mut *tx.tx, "id", &id).await? {
                products::remove(&mut tx, &actor, &p).await?;
                r.deleted += 1;
            }
        }
        for id in stale(&mut tx, "resources", &seen_resources).await? {
            if let Some(res) = resources::fetch(&mut *tx.tx, "id = $1", &id, None).await? {
                resources::remove(&mut tx, &actor, &res).await?;
                r.deleted += 1;
            }
        }
        for id in stale(&mut tx, "tenants", &seen_tenants).await? {
            if let Some(t) = tenants::fetch(&mut *tx.tx, "id", &id).await? {
                tenants::remove(&mut tx, &actor, &t).await?;
                r.deleted += 1;
            }
        }
        tx.commit().await?;
        Ok(r)
    }
}
