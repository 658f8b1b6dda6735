//! Tenants: create, read, list, update, delete (cascading to everything the
//! tenant owns; only the tenant's own delete is audited).

use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor};
use sy_config::LimitsSpec;

use crate::db::{
    Audit, Store, Where, WriteTx, audit_json, check_version, col, flag, json_col, new_id, now_ms,
    to_json,
};
use crate::error::{Result, StoreError};
use crate::model::{Actor, Page, Paged, Tenant};

pub(crate) const KIND: &str = "tenant";
const SELECT: &str = "SELECT id, name, display_name, limits, metadata, file_managed, version, \
                      created_at, updated_at FROM tenants";

/// Input of [`Store::create_tenant`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewTenant {
    /// Slug, `^[a-z0-9][a-z0-9-]{0,62}$`.
    pub name: String,
    /// Human-readable name; the slug when empty.
    pub display_name: String,
    /// Limits on the whole tenant.
    pub limits: LimitsSpec,
    /// Free-form labels.
    pub metadata: Map<String, Value>,
}

/// Changes for [`Store::update_tenant`]; `None` keeps the field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TenantPatch {
    /// New display name.
    pub display_name: Option<String>,
    /// New limits (replaces the whole set).
    pub limits: Option<LimitsSpec>,
    /// New metadata (replaces the whole map).
    pub metadata: Option<Map<String, Value>>,
}

/// Filters of [`Store::list_tenants`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantFilter {
    /// Only names starting with this.
    pub name_prefix: Option<String>,
}

/// Whether `name` is a valid slug: `^[a-z0-9][a-z0-9-]{0,62}$`.
pub fn is_slug(name: &str) -> bool {
    let b = name.as_bytes();
    let ok = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty() && b.len() <= 63 && ok(&b[0]) && b[1..].iter().all(|c| ok(c) || *c == b'-')
}

pub(crate) fn check_limits(limits: &LimitsSpec) -> Result<()> {
    limits.check().map_err(|errors| {
        let msg: Vec<String> = errors
            .iter()
            .map(|(f, m)| format!("limits.{f}: {m}"))
            .collect();
        StoreError::Invalid(msg.join("; "))
    })
}

fn decode(row: &AnyRow) -> Result<Tenant> {
    Ok(Tenant {
        id: col(row, "id")?,
        name: col(row, "name")?,
        display_name: col(row, "display_name")?,
        limits: json_col(row, "limits")?,
        metadata: json_col(row, "metadata")?,
        file_managed: flag(row, "file_managed")?,
        version: col(row, "version")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
    })
}

/// The tenant whose `field` (`id` or `name`) equals `value`.
pub(crate) async fn fetch<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    field: &str,
    value: &str,
) -> Result<Option<Tenant>> {
    let sql = format!("{SELECT} WHERE {field} = $1");
    let row = sqlx::query(&sql).bind(value).fetch_optional(ex).await?;
    row.as_ref().map(decode).transpose()
}

pub(crate) async fn insert(tx: &mut WriteTx<'_>, t: &Tenant) -> Result<()> {
    sqlx::query(
        "INSERT INTO tenants (id, name, display_name, limits, metadata, file_managed, version, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&t.id)
    .bind(&t.name)
    .bind(&t.display_name)
    .bind(to_json(&t.limits)?)
    .bind(to_json(&t.metadata)?)
    .bind(i64::from(t.file_managed))
    .bind(t.version)
    .bind(t.created_at)
    .bind(t.updated_at)
    .execute(&mut *tx.tx)
    .await
    .map_err(|e| StoreError::from_write(e, KIND, "name", &t.name))?;
    Ok(())
}

/// Writes every mutable column of `t` if the row is still at `prev`.
pub(crate) async fn write(tx: &mut WriteTx<'_>, t: &Tenant, prev: i64) -> Result<()> {
    let done = sqlx::query(
        "UPDATE tenants SET display_name = $1, limits = $2, metadata = $3, file_managed = $4, \
         version = $5, updated_at = $6 WHERE id = $7 AND version = $8",
    )
    .bind(&t.display_name)
    .bind(to_json(&t.limits)?)
    .bind(to_json(&t.metadata)?)
    .bind(i64::from(t.file_managed))
    .bind(t.version)
    .bind(t.updated_at)
    .bind(&t.id)
    .bind(prev)
    .execute(&mut *tx.tx)
    .await?;
    if done.rows_affected() == 0 {
        let current = fetch(&mut *tx.tx, "id", &t.id).await?;
        return Err(match current {
            Some(c) => StoreError::VersionMismatch { current: c.version },
            None => StoreError::not_found(KIND, &t.id),
        });
    }
    Ok(())
}

pub(crate) async fn remove(tx: &mut WriteTx<'_>, actor: &Actor, t: &Tenant) -> Result<()> {
    sqlx::query("DELETE FROM tenants WHERE id = $1")
        .bind(&t.id)
        .execute(&mut *tx.tx)
        .await?;
    let audit = Audit {
        action: "delete",
        kind: KIND,
        entity_id: &t.id,
        tenant_id: Some(&t.id),
        before: audit_json(t)?,
        after: None,
    };
    tx.record(actor, audit).await
}

pub(crate) fn build(new: NewTenant, file_managed: bool) -> Result<Tenant> {
    if !is_slug(&new.name) {
        return Err(StoreError::Invalid(format!(
            "tenant name {:?} must match ^[a-z0-9][a-z0-9-]{{0,62}}$",
            new.name
        )));
    }
    check_limits(&new.limits)?;
    let now = now_ms();
    let display_name = if new.display_name.is_empty() {
        new.name.clone()
    } else {
        new.display_name
    };
    Ok(Tenant {
        id: new_id(),
        name: new.name,
        display_name,
        limits: new.limits,
        metadata: new.metadata,
        file_managed,
        version: 1,
        created_at: now,
        updated_at: now,
    })
}

pub(crate) async fn create_in(tx: &mut WriteTx<'_>, actor: &Actor, t: &Tenant) -> Result<()> {
    insert(tx, t).await?;
    let audit = Audit {
        action: "create",
        kind: KIND,
        entity_id: &t.id,
        tenant_id: Some(&t.id),
        before: None,
        after: audit_json(t)?,
    };
    tx.record(actor, audit).await
}

/// Writes `after` over `before` and records the update.
pub(crate) async fn update_in(
    tx: &mut WriteTx<'_>,
    actor: &Actor,
    before: &Tenant,
    after: &Tenant,
) -> Result<()> {
    write(tx, after, before.version).await?;
    let audit = Audit {
        action: "update",
        kind: KIND,
        entity_id: &after.id,
        tenant_id: Some(&after.id),
        before: audit_json(before)?,
        after: audit_json(after)?,
    };
    tx.record(actor, audit).await
}

impl Store {
    /// Creates a tenant. `Conflict` when the name is taken.
    pub async fn create_tenant(&self, actor: &Actor, new: NewTenant) -> Result<Tenant> {
        let t = build(new, false)?;
        let mut tx = self.write().await?;
        create_in(&mut tx, actor, &t).await?;
        tx.commit().await?;
        Ok(t)
    }

    /// The tenant with this id.
    pub async fn get_tenant(&self, id: &str) -> Result<Tenant> {
        fetch(&self.pool, "id", id)
            .await?
            .ok_or_else(|| StoreError::not_found(KIND, id))
    }

    /// The tenant with this name.
    pub async fn tenant_by_name(&self, name: &str) -> Result<Tenant> {
        fetch(&self.pool, "name", name)
            .await?
            .ok_or_else(|| StoreError::not_found(KIND, name))
    }

    /// Tenants in creation order.
    pub async fn list_tenants(&self, filter: &TenantFilter, page: &Page) -> Result<Paged<Tenant>> {
        let mut w = Where::default();
        w.prefix("name", filter.name_prefix.as_deref());
        self.list(SELECT, w, page, decode, |t| &t.id).await
    }

    /// Applies `patch`. Refused for file-managed tenants and stale versions.
    pub async fn update_tenant(
        &self,
        actor: &Actor,
        id: &str,
        patch: TenantPatch,
        expected_version: Option<i64>,
    ) -> Result<Tenant> {
        let mut tx = self.write().await?;
        let before = fetch(&mut *tx.tx, "id", id)
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
        if let Some(d) = patch.display_name {
            after.display_name = d;
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

    /// Deletes the tenant and, by cascade, its users, consumers, keys,
    /// products, subscriptions and resources.
    pub async fn delete_tenant(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: Option<i64>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let t = fetch(&mut *tx.tx, "id", id)
            .await?
            .ok_or_else(|| StoreError::not_found(KIND, id))?;
        if t.file_managed {
            return Err(StoreError::FileManaged {
                kind: KIND,
                name: t.name,
            });
        }
        check_version(expected_version, t.version)?;
        remove(&mut tx, actor, &t).await?;
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::is_slug;

    #[test]
    fn slugs() {
        assert!(is_slug("acme"));
        assert!(is_slug("a-1"));
        assert!(is_slug(&"a".repeat(63)));
        assert!(!is_slug(&"a".repeat(64)));
        assert!(!is_slug("-a"));
        assert!(!is_slug("Acme"));
        assert!(!is_slug(""));
        assert!(!is_slug("a_b"));
    }
}
