//! Tenants: create, read, list, update, delete (cascading to everything the
//! tenant owns; only the tenant's own delete is audited).

use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sy_config::LimitsSpec;

use crate::db::{Store, Where, WriteTx, col, flag, json_col, new_id, now_ms, to_json};
use crate::entity::{self, AnyQuery, Entity};
use crate::error::{Result, StoreError};
use crate::model::{Actor, Page, Paged, Tenant};

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

impl Entity for Tenant {
    const KIND: &'static str = "tenant";
    const TABLE: &'static str = "tenants";
    const SELECT: &'static str = "SELECT id, name, display_name, limits, metadata, file_managed, \
                                  version, created_at, updated_at FROM tenants";

    entity::entity_fields!(file_managed);

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

    /// A tenant's own entries are filed under itself.
    fn tenant_id(&self) -> Option<&str> {
        Some(&self.id)
    }

    fn unique(&self) -> (&'static str, &str) {
        ("name", &self.name)
    }

    fn update_query(&self, prev: i64) -> Result<AnyQuery<'_>> {
        Ok(sqlx::query(
            "UPDATE tenants SET display_name = $1, limits = $2, metadata = $3, file_managed = $4, \
             version = $5, updated_at = $6 WHERE id = $7 AND version = $8",
        )
        .bind(&self.display_name)
        .bind(to_json(&self.limits)?)
        .bind(to_json(&self.metadata)?)
        .bind(i64::from(self.file_managed))
        .bind(self.version)
        .bind(self.updated_at)
        .bind(&self.id)
        .bind(prev))
    }
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

/// Inserts `t` and records its creation.
pub(crate) async fn create_in(tx: &mut WriteTx<'_>, actor: &Actor, t: &Tenant) -> Result<()> {
    let insert = sqlx::query(
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
    .bind(t.updated_at);
    entity::insert(tx, actor, t, insert).await
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
        entity::get(&self.pool, "id", id).await
    }

    /// The tenant with this name.
    pub async fn tenant_by_name(&self, name: &str) -> Result<Tenant> {
        entity::get(&self.pool, "name", name).await
    }

    /// Tenants in creation order.
    pub async fn list_tenants(&self, filter: &TenantFilter, page: &Page) -> Result<Paged<Tenant>> {
        let mut w = Where::default();
        w.prefix("name", filter.name_prefix.as_deref());
        self.list_of(w, page).await
    }

    /// Applies `patch`. Refused for file-managed tenants and stale versions.
    pub async fn update_tenant(
        &self,
        actor: &Actor,
        id: &str,
        patch: TenantPatch,
        expected_version: Option<i64>,
    ) -> Result<Tenant> {
        self.modify(actor, id, expected_version, |t: &mut Tenant| {
            if let Some(d) = patch.display_name {
                t.display_name = d;
            }
            if let Some(l) = patch.limits {
                check_limits(&l)?;
                t.limits = l;
            }
            if let Some(m) = patch.metadata {
                t.metadata = m;
            }
            Ok(())
        })
        .await
    }

    /// Deletes the tenant and, by cascade, its users, consumers, keys,
    /// products, subscriptions and resources.
    pub async fn delete_tenant(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: Option<i64>,
    ) -> Result<()> {
        self.delete_row::<Tenant>(actor, id, expected_version).await
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
