//! Consumers: the applications or teams of a tenant that hold keys and
//! subscriptions. Deleting one cascades to its keys and subscriptions.

use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor};
use sy_config::LimitsSpec;

use crate::db::{Store, Where, WriteTx, col, flag, json_col, new_id, now_ms, to_json};
use crate::entity::{self, AnyQuery, Entity};
use crate::error::{Result, StoreError};
use crate::model::{Actor, Consumer, Page, Paged, Tenant};
use crate::tenants::check_limits;

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

impl Entity for Consumer {
    const KIND: &'static str = "consumer";
    const TABLE: &'static str = "consumers";
    const SELECT: &'static str = "SELECT id, tenant_id, name, description, limits, metadata, \
                                  file_managed, version, created_at, updated_at FROM consumers";

    entity::entity_fields!(file_managed);

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

    fn tenant_id(&self) -> Option<&str> {
        Some(&self.tenant_id)
    }

    fn unique(&self) -> (&'static str, &str) {
        ("name", &self.name)
    }

    fn update_query(&self, prev: i64) -> Result<AnyQuery<'_>> {
        Ok(sqlx::query(
            "UPDATE consumers SET description = $1, limits = $2, metadata = $3, \
             file_managed = $4, version = $5, updated_at = $6 WHERE id = $7 AND version = $8",
        )
        .bind(&self.description)
        .bind(to_json(&self.limits)?)
        .bind(to_json(&self.metadata)?)
        .bind(i64::from(self.file_managed))
        .bind(self.version)
        .bind(self.updated_at)
        .bind(&self.id)
        .bind(prev))
    }
}

/// The consumer named `name` in the tenant.
pub(crate) async fn fetch_by_name<'e>(
    ex: impl Executor<'e, Database = Any>,
    tenant_id: &str,
    name: &str,
) -> Result<Option<Consumer>> {
    entity::fetch(ex, "tenant_id = $1 AND name = $2", &[tenant_id, name]).await
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

/// Inserts `c` into its (existing) tenant and records its creation.
pub(crate) async fn create_in(tx: &mut WriteTx<'_>, actor: &Actor, c: &Consumer) -> Result<()> {
    entity::get::<Tenant>(&mut *tx.tx, "id", &c.tenant_id).await?;
    let insert = sqlx::query(
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
    .bind(c.updated_at);
    entity::insert(tx, actor, c, insert).await
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
        entity::get(&self.pool, "id", id).await
    }

    /// The consumer named `name` in the tenant.
    pub async fn consumer_by_name(&self, tenant_id: &str, name: &str) -> Result<Consumer> {
        fetch_by_name(&self.pool, tenant_id, name)
            .await?
            .ok_or_else(|| StoreError::not_found(Consumer::KIND, name))
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
        self.list_of(w, page).await
    }

    /// Applies `patch`. Refused for file-managed consumers and stale versions.
    pub async fn update_consumer(
        &self,
        actor: &Actor,
        id: &str,
        patch: ConsumerPatch,
        expected_version: Option<i64>,
    ) -> Result<Consumer> {
        self.modify(actor, id, expected_version, |c: &mut Consumer| {
            if let Some(d) = patch.description {
                c.description = d;
            }
            if let Some(l) = patch.limits {
                check_limits(&l)?;
                c.limits = l;
            }
            if let Some(m) = patch.metadata {
                c.metadata = m;
            }
            Ok(())
        })
        .await
    }

    /// Deletes the consumer and, by cascade, its keys and subscriptions.
    pub async fn delete_consumer(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: Option<i64>,
    ) -> Result<()> {
        self.delete_row::<Consumer>(actor, id, expected_version)
            .await
    }
}
