//! Products: bundles of routes and models that consumers subscribe to.

use sqlx::any::AnyRow;
use sqlx::{Any, Executor};

use crate::db::{
    Audit, Store, Where, WriteTx, audit_json, check_version, col, flag, json_col, new_id, now_ms,
    to_json,
};
use crate::error::{Result, StoreError};
use crate::model::{Actor, Page, Paged, Product, Visibility};
use crate::tenants;

pub(crate) const KIND: &str = "product";
const SELECT: &str = "SELECT id, tenant_id, name, description, docs, visibility, routes, models, \
                      requires_approval, file_managed, version, created_at, updated_at \
                      FROM products";

/// Input of [`Store::create_product`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewProduct {
    /// Owning tenant; `None` = platform-wide.
    pub tenant_id: Option<String>,
    /// Unique across the platform.
    pub name: String,
    /// One-line summary.
    pub description: String,
    /// Markdown documentation.
    pub docs: String,
    /// Who sees it.
    pub visibility: Visibility,
    /// Route names included.
    pub routes: Vec<String>,
    /// Model names included.
    pub models: Vec<String>,
    /// Subscriptions need an admin's approval.
    pub requires_approval: bool,
}

/// Changes for [`Store::update_product`]; `None` keeps the field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductPatch {
    /// New summary.
    pub description: Option<String>,
    /// New documentation.
    pub docs: Option<String>,
    /// New visibility.
    pub visibility: Option<Visibility>,
    /// New route list.
    pub routes: Option<Vec<String>>,
    /// New model list.
    pub models: Option<Vec<String>>,
    /// New approval rule (affects later requests only).
    pub requires_approval: Option<bool>,
}

/// Filters of [`Store::list_products`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductFilter {
    /// Only this tenant's products.
    pub tenant_id: Option<String>,
    /// Only this visibility.
    pub visibility: Option<Visibility>,
    /// Only names starting with this.
    pub name_prefix: Option<String>,
}

fn decode(row: &AnyRow) -> Result<Product> {
    Ok(Product {
        id: col(row, "id")?,
        tenant_id: col(row, "tenant_id")?,
        name: col(row, "name")?,
        description: col(row, "description")?,
        docs: col(row, "docs")?,
        visibility: Visibility::parse(&col::<String>(row, "visibility")?)?,
        routes: json_col(row, "routes")?,
        models: json_col(row, "models")?,
        requires_approval: flag(row, "requires_approval")?,
        file_managed: flag(row, "file_managed")?,
        version: col(row, "version")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
    })
}

pub(crate) async fn fetch<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    field: &str,
    value: &str,
) -> Result<Option<Product>> {
    let row = sqlx::query(&format!("{SELECT} WHERE {field} = $1"))
        .bind(value)
        .fetch_optional(ex)
        .await?;
    row.as_ref().map(decode).transpose()
}

pub(crate) fn build(new: NewProduct, file_managed: bool) -> Result<Product> {
    if new.name.trim().is_empty() {
        return Err(StoreError::Invalid("product name must not be empty".into()));
    }
    let now = now_ms();
    Ok(Product {
        id: new_id(),
        tenant_id: new.tenant_id,
        name: new.name,
        description: new.description,
        docs: new.docs,
        visibility: new.visibility,
        routes: new.routes,
        models: new.models,
        requires_approval: new.requires_approval,
        file_managed,
        version: 1,
        created_at: now,
        updated_at: now,
    })
}

pub(crate) async fn create_in(tx: &mut WriteTx<'_>, actor: &Actor, p: &Product) -> Result<()> {
    if let Some(t) = &p.tenant_id {
        if tenants::fetch(&mut *tx.tx, "id", t).await?.is_none() {
            return Err(StoreError::not_found(tenants::KIND, t));
        }
    }
    sqlx::query(
        "INSERT INTO products (id, tenant_id, name, description, docs, visibility, routes, \
         models, requires_approval, file_managed, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&p.id)
    .bind(p.tenant_id.as_deref())
    .bind(&p.name)
    .bind(&p.description)
    .bind(&p.docs)
    .bind(p.visibility.as_str())
    .bind(to_json(&p.routes)?)
    .bind(to_json(&p.models)?)
    .bind(i64::from(p.requires_approval))
    .bind(i64::from(p.file_managed))
    .bind(p.version)
    .bind(p.created_at)
    .bind(p.updated_at)
    .execute(&mut *tx.tx)
    .await
    .map_err(|e| StoreError::from_write(e, KIND, "name", &p.name))?;
    let audit = Audit {
        action: "create",
        kind: KIND,
        entity_id: &p.id,
        tenant_id: p.tenant_id.as_deref(),
        before: None,
        after: audit_json(p)?,
    };
    tx.record(actor, audit).await
}

pub(crate) async fn update_in(
    tx: &mut WriteTx<'_>,
    actor: &Actor,
    before: &Product,
    after: &Product,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE products SET tenant_id = $1, description = $2, docs = $3, visibility = $4, \
         routes = $5, models = $6, requires_approval = $7, file_managed = $8, version = $9, \
         updated_at = $10 WHERE id = $11 AND version = $12",
    )
    .bind(after.tenant_id.as_deref())
    .bind(&after.description)
    .bind(&after.docs)
    .bind(after.visibility.as_str())
    .bind(to_json(&after.routes)?)
    .bind(to_json(&after.models)?)
    .bind(i64::from(after.requires_approval))
    .bind(i64::from(after.file_managed))
    .bind(after.version)
    .bind(after.updated_at)
    .bind(&after.id)
    .bind(before.version)
    .execute(&mut *tx.tx)
    .await
    .map_err(|e| StoreError::from_write(e, KIND, "name", &after.name))?;
    if done.rows_affected() == 0 {
        return Err(StoreError::VersionMismatch {
            current: before.version,
        });
    }
    let audit = Audit {
        action: "update",
        kind: KIND,
        entity_id: &after.id,
        tenant_id: after.tenant_id.as_deref(),
        before: audit_json(before)?,
        after: audit_json(after)?,
    };
    tx.record(actor, audit).await
}

pub(crate) async fn remove(tx: &mut WriteTx<'_>, actor: &Actor, p: &Product) -> Result<()> {
    sqlx::query("DELETE FROM products WHERE id = $1")
        .bind(&p.id)
        .execute(&mut *tx.tx)
        .await?;
    let audit = Audit {
        action: "delete",
        kind: KIND,
        entity_id: &p.id,
        tenant_id: p.tenant_id.as_deref(),
        before: audit_json(p)?,
        after: None,
    };
    tx.record(actor, audit).await
}

impl Store {
    /// Creates a product. `Conflict` when the name is taken.
    pub async fn create_product(&self, actor: &Actor, new: NewProduct) -> Result<Product> {
        let p = build(new, false)?;
        let mut tx = self.write().await?;
        create_in(&mut tx, actor, &p).await?;
        tx.commit().await?;
        Ok(p)
    }

    /// The product with this id.
    pub async fn get_product(&self, id: &str) -> Result<Product> {
        fetch(&self.pool, "id", id)
            .await?
            .ok_or_else(|| StoreError::not_found(KIND, id))
    }

    /// The product with this name.
    pub async fn product_by_name(&self, name: &str) -> Result<Product> {
        fetch(&self.pool, "name", name)
            .await?
            .ok_or_else(|| StoreError::not_found(KIND, name))
    }

    /// Products in creation order.
    pub async fn list_products(
        &self,
        filter: &ProductFilter,
        page: &Page,
    ) -> Result<Paged<Product>> {
        let mut w = Where::default();
        w.eq_opt("tenant_id", filter.tenant_id.as_deref());
        w.eq_opt("visibility", filter.visibility.map(|v| v.as_str()));
        w.prefix("name", filter.name_prefix.as_deref());
        self.list(SELECT, w, page, decode, |p| &p.id).await
    }

    /// Applies `patch`. Refused for file-managed products and stale versions.
    pub async fn update_product(
        &self,
        actor: &Actor,
        id: &str,
        patch: ProductPatch,
        expected_version: Option<i64>,
    ) -> Result<Product> {
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
        if let Some(v) = patch.description {
            after.description = v;
        }
        if let Some(v) = patch.docs {
            after.docs = v;
        }
        if let Some(v) = patch.visibility {
            after.visibility = v;
        }
        if let Some(v) = patch.routes {
            after.routes = v;
        }
        if let Some(v) = patch.models {
            after.models = v;
        }
        if let Some(v) = patch.requires_approval {
            after.requires_approval = v;
        }
        after.version += 1;
        after.updated_at = now_ms();
        update_in(&mut tx, actor, &before, &after).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes the product and, by cascade, its subscriptions.
    pub async fn delete_product(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: Option<i64>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let p = fetch(&mut *tx.tx, "id", id)
            .await?
            .ok_or_else(|| StoreError::not_found(KIND, id))?;
        if p.file_managed {
            return Err(StoreError::FileManaged {
                kind: KIND,
                name: p.name,
            });
        }
        check_version(expected_version, p.version)?;
        remove(&mut tx, actor, &p).await?;
        tx.commit().await
    }
}
