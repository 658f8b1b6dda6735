//! Consumers: the applications or teams of a tenant that hold keys and
//! subscriptions. Deleting one cascades to its keys and subscriptions.

use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor};
use sy_config::LimitsSpec;

use crate::db::{
    Audit, Store, Where, WriteTx, audit_json, check_version, col, flag, json_col, new_id, now_ms,
    to_json,
};
use crate::error::{Result, StoreError};
use crate::model::{Actor, Consumer, Page, Paged};
use crate::tenants::{self, check_limits};

pub(crate) const KIND: &str = "consumer";
const SELECT: &str = "SELECT id, tenant_id, name, description, limits, metadata, file_managed, \
                      version, created_at, updated_at FROM consumers";

/// Input of [`Store::create_consumer`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewConsumer {
    /// Owning tenant.
    pub tenant_id: String,
    /// Unique within the tenant.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Limits on all of the consumer's keys together.
    pub limits: LimitsSpec,
    /// Free-form labels.
    pub metadata: Map<String, Value>,
}

/// Changes for [`Store::update_consumer`]; `None` keeps the field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConsumerPatch {
    /// New description.
    pub description: Option<String>,
    /// New limits (replaces the whole set).
    pub limits: Option<LimitsSpec>,
    /// New metadata (replaces the whole map).
    pub metadata: Option<Map<String, Value>>,
}

/// Filters of [`Store::list_consumers`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsumerFilter {
    /// Only this tenant's consumers.
    pub tenant_id: Option<String>,
    /// Only names starting with this.
    pub name_prefix: Option<String>,
}

fn decode(row: &AnyRow) -> Result<Consumer> {
    Ok(Consumer {
        id: col(row, "id")?,
        tenant_id: col(row, "tenant_id")?,
        name: col(row, "name")?,
        description: col(row, "description")?,
        limits: json_col(row, "limits")?,
        metadata: json_col(row, "metadata")?,
        file_managed: flag(row, "file_managed")?,
        version: col(row, "version")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
    })
}

pub(crate) async fn fetch<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &str,
) -> Result<Option<Consumer>> {
    let row = sqlx::query(&format!("{SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(ex)
        .await?;
    row.as_ref().map(decode).transpose()
}

pub(crate) async fn fetch_by_name<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    tenant_id: &str,
    name: &str,
) -> Result<Option<Consumer>> {
    let row = sqlx::query(&format!("{SELECT} WHERE tenant_id = $1 AND name = $2"))
        .bind(tenant_id)
        .bind(name)
        .fetch_optional(ex)
        .await?;
    row.as_ref().map(decode).transpose()
}

pub(crate) fn build(new: NewConsumer, file_managed: bool) -> Result<Consumer> {
    if new.name.trim().is_empty() {
        return Err(StoreError::Invalid(
            "consumer name must not be empty".into(),
        ));
    }
    check_limits(&new.limits)?;
    let now = now_ms();
    Ok(Consumer {
        id: new_id(),
        tenant_id: new.tenant_id,
        name: new.name,
        description: new.description,
        limits: new.limits,
        metadata: new.metadata,
        file_managed,
        version: 1,
        created_at: now,
        updated_at: now,
    })
}

pub(crate) async fn create_in(tx: &mut WriteTx<'_>, actor: &Actor, c: &Consumer) -> Result<()> {
    if tenants::fetch(&mut *tx.tx, "id", &c.tenant_id)
        .await?
        .is_none()
    {
        return Err(StoreError::not_found(tenants::KIND, &c.tenant_id));
    }
    sqlx::query(
        "INSERT INTO consumers (id, tenant_id, name, description, limits, metadata, \
         file_managed, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&c.id)
    .bind(&c.tenant_id)
    .bind(&c.name)
    .bind(&c.description)
    .bind(to_json(&c.limits)?)
    .bind(to_json(&c.metadata)?)
    .bind(i64::from(c.file_managed))
    .bind(c.version)
    .bind(c.created_at)
    .bind(c.updated_at)
    .execute(&mut *tx.tx)
    .await
    .map_err(|e| StoreError::from_write(e, KIND, "name", &c.name))?;
    let audit = Audit {
        action: "create",
        kind: KIND,
        entity_id: &c.id,
        tenant_id: Some(&c.tenant_id),
        before: None,
        after: audit_json(c)?,
    };
    tx.record(actor, audit).await
}

pub(crate) async fn update_in(
    tx: &mut WriteTx<'_>,
    actor: &Actor,
    before: &Consumer,
    after: &Consumer,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE consumers SET description = $1, limits = $2, metadata = $3, file_managed = $4, \
         version = $5, updated_at = $6 WHERE id = $7 AND version = $8",
    )
    .bind(&after.description)
    .bind(to_json(&after.limits)?)
    .bind(to_json(&after.metadata)?)
    .bind(i64::from(after.file_managed))
    .bind(after.version)
    .bind(after.updated_at)
    .bind(&after.id)
    .bind(before.version)
    .execute(&mut *tx.tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::VersionMismatch {
            current: before.version,
        });
    }
    let audit = Audit {
        action: "update",
        kind: KIND,
        entity_id: &after.id,
        tenant_id: Some(&after.tenant_id),
        before: audit_json(before)?,
        after: audit_json(after)?,
    };
    tx.record(actor, audit).await
}

pub(crate) async fn remove(tx: &mut WriteTx<'_>, actor: &Actor, c: &Consumer) -> Result<()> {
    sqlx::query("DELETE FROM consumers WHERE id = $1")
        .bind(&c.id)
        .execute(&mut *tx.tx)
        .await?;
    let audit = Audit {
        action: "delete",
        kind: KIND,
        entity_id: &c.id,
        tenant_id: Some(&c.tenant_id),
        before: audit_json(c)?,
        after: None,
    };
    tx.record(actor, audit).await
}

impl Store {
    /// Creates a consumer in an existing tenant. `Conflict` when the name
    /// is taken in that tenant.
    pub async fn create_consumer(&self, actor: &Actor, new: NewConsumer) -> Result<Consumer> {
        let c = build(new, false)?;
        let mut tx = self.write().await?;
        create_in(&mut tx, actor, &c).await?;
        tx.commit().await?;
        Ok(c)
    }

    /// The consumer with this id.
    pub async fn get_consumer(&self, id: &str) -> Result<Consumer> {
        fetch(&self.pool, id)
            .await?
            .ok_or_else(|| StoreError::not_found(KIND, id))
    }

    /// The consumer named `name` in the tenant.
    pub async fn consumer_by_name(&self, tenant_id: &str, name: &str) -> Result<Consumer> {
        fetch_by_name(&self.pool, tenant_id, name)
            .await?
            .ok_or_else(|| StoreError::not_found(KIND, name))
    }

    /// Consumers in creation order.
    pub async fn list_consumers(
        &self,
        filter: &ConsumerFilter,
        page: &Page,
    ) -> Result<Paged<Consumer>> {
        let mut w = Where::default();
        w.eq_opt("tenant_id", filter.tenant_id.as_deref());
        w.prefix("name", filter.name_prefix.as_deref());
        self.list(SELECT, w, page, decode, |c| &c.id).await
    }

    /// Applies `patch`. Refused for file-managed consumers and stale versions.
    pub async fn update_consumer(
        &self,
        actor: &Actor,
        id: &str,
        patch: ConsumerPatch,
        expected_version: Option<i64>,
    ) -> Result<Consumer> {
        let mut tx = self.write().await?;
        let before = fetch(&mut *tx.tx, id)
            .await?
            .ok_or_else(|| StoreError::not_found(KIND, id))?;
        if before.file_managed {
            return Err(StoreError::FileManaged {
                kind: KIND,
                name: before.name,
            });
        }
        check_version(expected_version, before.version)?;
        let mut after = before.clone();
        if let Some(d) = patch.description {
            after.description = d;
        }
        if let Some(l) = patch.limits {
            check_limits(&l)?;
            after.limits = l;
        }
        if let Some(m) = patch.metadata {
            after.metadata = m;
        }
        after.version += 1;
        after.updated_at = now_ms();
        update_in(&mut tx, actor, &before, &after).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes the consumer and, by cascade, its keys and subscriptions.
    pub async fn delete_consumer(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: Option<i64>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let c = fetch(&mut *tx.tx, id)
            .await?
            .ok_or_else(|| StoreError::not_found(KIND, id))?;
        if c.file_managed {
            return Err(StoreError::FileManaged {
                kind: KIND,
                name: c.name,
            });
        }
        check_version(expected_version, c.version)?;
        remove(&mut tx, actor, &c).await?;
        tx.commit().await
    }
}
