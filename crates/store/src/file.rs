//! Applying the configuration file: the tenants, consumers, keys (by hash),
//! products and resources it declares are upserted as `file_managed` rows,
//! and file-managed rows it no longer declares are deleted, all in one
//! transaction audited as actor `file`. Unchanged rows are not written, so
//! their versions stay and the change feed stays quiet.

use serde_json::{Map, Value};
use sy_config::LimitsSpec;

use crate::db::{Store, WriteTx, col, now_ms};
use crate::entity::{self, Entity};
use crate::error::{Result, StoreError};
use crate::keys::normalize_hash;
use crate::model::{
    Actor, ApiKey, Consumer, Product, Resource, ResourceKind, Scopes, Tenant, Visibility,
};
use crate::resources::{NewResource, check_spec};
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
    let t: Tenant = entity::get(&mut *tx.tx, "name", name).await?;
    Ok(t.id)
}

async fn opt_tenant_id(tx: &mut WriteTx<'_>, name: Option<&str>) -> Result<Option<String>> {
    match name {
        Some(n) => tenant_id(tx, n).await.map(Some),
        None => Ok(None),
    }
}

/// One run of [`Store::apply_file`]: its transaction, its clock and what it
/// has done so far.
struct Apply<'a, 't> {
    tx: &'a mut WriteTx<'t>,
    actor: Actor,
    now: i64,
    report: ApplyReport,
}

impl Apply<'_, '_> {
    /// Counts a row just created from the file; returns its id.
    fn created(&mut self, id: String) -> String {
        self.report.created += 1;
        id
    }

    /// Takes the stored row `before` over: `declare` sets the fields the
    /// file declares (and `file_managed`). Nothing is written when that
    /// changes nothing; otherwise `check` vets the new row, which is then
    /// versioned and written. Returns the row's id.
    async fn take_over<T: Entity>(
        &mut self,
        before: T,
        declare: impl FnOnce(&mut T),
        check: impl FnOnce(&T) -> Result<()>,
    ) -> Result<String> {
        let mut after = before.clone();
        declare(&mut after);
        if after == before {
            self.report.unchanged += 1;
            return Ok(before.id().to_owned());
        }
        check(&after)?;
        after.touch(self.now);
        entity::update(self.tx, &self.actor, "update", &before, &after).await?;
        self.report.updated += 1;
        Ok(after.id().to_owned())
    }

    /// Deletes the file-managed rows of `T` whose ids are not in `keep`.
    async fn remove_stale<T: Entity>(&mut self, keep: &[String]) -> Result<()> {
        let rows = sqlx::query(&format!(
            "SELECT id FROM {} WHERE file_managed = 1 ORDER BY id",
            T::TABLE
        ))
        .fetch_all(&mut *self.tx.tx)
        .await?;
        for row in &rows {
            let id: String = col(row, "id")?;
            if keep.contains(&id) {
                continue;
            }
            if let Some(stale) = entity::find::<T>(&mut *self.tx.tx, "id", &id).await? {
                entity::remove(self.tx, &self.actor, &stale).await?;
                self.report.deleted += 1;
            }
        }
        Ok(())
    }
}

impl Store {
    /// Makes the stored file-managed rows match `file` (see the module
    /// doc). An API-created row with a declared name is taken over.
    pub async fn apply_file(&self, file: &FileEntities) -> Result<ApplyReport> {
        let mut tx = self.write().await?;
        let mut a = Apply {
            tx: &mut tx,
            actor: Actor::file(),
            now: now_ms(),
            report: ApplyReport::default(),
        };

        let mut seen_tenants = Vec::new();
        for ft in &file.tenants {
            let display_name = if ft.display_name.is_empty() {
                ft.name.clone()
            } else {
                ft.display_name.clone()
            };
            let id = match entity::find::<Tenant>(&mut *a.tx.tx, "name", &ft.name).await? {
                None => {
                    let new = tenants::NewTenant {
                        name: ft.name.clone(),
                        display_name,
                        limits: ft.limits.clone(),
                        metadata: ft.metadata.clone(),
                    };
                    let t = tenants::build(new, true)?;
                    tenants::create_in(a.tx, &a.actor, &t).await?;
                    a.created(t.id)
                }
                Some(before) => {
                    let declare = |t: &mut Tenant| {
                        t.display_name = display_name;
                        t.limits = ft.limits.clone();
                        t.metadata = ft.metadata.clone();
                        t.file_managed = true;
                    };
                    let check = |t: &Tenant| tenants::check_limits(&t.limits);
                    a.take_over(before, declare, check).await?
                }
            };
            seen_tenants.push(id);
        }

        let mut seen_consumers = Vec::new();
        for fc in &file.consumers {
            let tid = tenant_id(a.tx, &fc.tenant).await?;
            let id = match consumers::fetch_by_name(&mut *a.tx.tx, &tid, &fc.name).await? {
                None => {
                    let new = consumers::NewConsumer {
                        tenant_id: tid,
                        name: fc.name.clone(),
                        description: fc.description.clone(),
                        limits: fc.limits.clone(),
                        metadata: fc.metadata.clone(),
                    };
                    let c = consumers::build(new, true)?;
                    consumers::create_in(a.tx, &a.actor, &c).await?;
                    a.created(c.id)
                }
                Some(before) => {
                    let declare = |c: &mut Consumer| {
                        c.description = fc.description.clone();
                        c.limits = fc.limits.clone();
                        c.metadata = fc.metadata.clone();
                        c.file_managed = true;
                    };
                    let check = |c: &Consumer| tenants::check_limits(&c.limits);
                    a.take_over(before, declare, check).await?
                }
            };
            seen_consumers.push(id);
        }

        let mut seen_products = Vec::new();
        for fp in &file.products {
            let tid = opt_tenant_id(a.tx, fp.tenant.as_deref()).await?;
            let id = match entity::find::<Product>(&mut *a.tx.tx, "name", &fp.name).await? {
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
                    products::create_in(a.tx, &a.actor, &p).await?;
                    a.created(p.id)
                }
                Some(before) => {
                    let declare = |p: &mut Product| {
                        p.tenant_id = tid;
                        p.description = fp.description.clone();
                        p.docs = fp.docs.clone();
                        p.visibility = fp.visibility;
                        p.routes = fp.routes.clone();
                        p.models = fp.models.clone();
                        p.requires_approval = fp.requires_approval;
                        p.file_managed = true;
                    };
                    a.take_over(before, declare, |_| Ok(())).await?
                }
            };
            seen_products.push(id);
        }

        let mut seen_resources = Vec::new();
        for fr in &file.resources {
            check_spec(fr.kind, &fr.name, &fr.spec)?;
            let tid = opt_tenant_id(a.tx, fr.tenant.as_deref()).await?;
            let id = match resources::fetch_by_name(&mut *a.tx.tx, fr.kind, &fr.name).await? {
                None => {
                    let new = NewResource {
                        kind: fr.kind,
                        name: fr.name.clone(),
                        tenant_id: tid,
                        spec: fr.spec.clone(),
                        secret: None,
                    };
                    let res = resources::create_in(a.tx, &a.actor, new, None, true).await?;
                    a.created(res.id)
                }
                Some(before) => {
                    let declare = |r: &mut Resource| {
                        r.tenant_id = tid;
                        r.spec = fr.spec.clone();
                        r.file_managed = true;
                    };
                    a.take_over(before, declare, |_| Ok(())).await?
                }
            };
            seen_resources.push(id);
        }

        let mut seen_keys = Vec::new();
        for fk in &file.keys {
            let hash = normalize_hash(&fk.sha256)?;
            let tid = tenant_id(a.tx, &fk.tenant).await?;
            let consumer = consumers::fetch_by_name(&mut *a.tx.tx, &tid, &fk.consumer)
                .await?
                .ok_or_else(|| StoreError::not_found(Consumer::KIND, &fk.consumer))?;
            let id = match entity::find::<ApiKey>(&mut *a.tx.tx, "key_hash", &hash).await? {
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
                    let k = keys::insert_in(a.tx, &a.actor, new, &hash, prefix, true).await?;
                    a.created(k.id)
                }
                Some(before) => {
                    if before.consumer_id != consumer.id {
                        return Err(StoreError::Invalid(format!(
                            "key {:?} already belongs to another consumer",
                            fk.name
                        )));
                    }
                    let declare = |k: &mut ApiKey| {
                        k.name = fk.name.clone();
                        k.scopes = fk.scopes.clone();
                        k.limits = fk.limits.clone();
                        k.metadata = fk.metadata.clone();
                        k.expires_at = fk.expires_at;
                        k.file_managed = true;
                    };
                    let check = |k: &ApiKey| tenants::check_limits(&k.limits);
                    a.take_over(before, declare, check).await?
                }
            };
            seen_keys.push(id);
        }

        // Children first, so each deletion is audited on its own before a
        // tenant's cascade could remove it silently.
        a.remove_stale::<ApiKey>(&seen_keys).await?;
        a.remove_stale::<Consumer>(&seen_consumers).await?;
        a.remove_stale::<Product>(&seen_products).await?;
        a.remove_stale::<Resource>(&seen_resources).await?;
        a.remove_stale::<Tenant>(&seen_tenants).await?;
        let report = a.report;
        tx.commit().await?;
        Ok(report)
    }
}
