//! Products: bundles of routes and models that consumers subscribe to.

use sqlx::any::AnyRow;

use crate::db::{Store, Where, WriteTx, col, flag, json_col, new_id, now_ms, to_json};
use crate::entity::{self, AnyQuery, Entity};
use crate::error::{Result, StoreError};
use crate::model::{Actor, Page, Paged, Product, Tenant, Visibility};

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

impl Entity for Product {
    const KIND: &'static str = "product";
    const TABLE: &'static str = "products";
    const SELECT: &'static str = "SELECT id, tenant_id, name, description, docs, visibility, \
                                  routes, models, requires_approval, file_managed, version, \
                                  created_at, updated_at FROM products";

    entity::entity_fields!(file_managed);

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

    fn tenant_id(&self) -> Option<&str> {
        self.tenant_id.as_deref()
    }

    fn unique(&self) -> (&'static str, &str) {
        ("name", &self.name)
    }

    fn update_query(&self, prev: i64) -> Result<AnyQuery<'_>> {
        Ok(sqlx::query(
            "UPDATE products SET tenant_id = $1, description = $2, docs = $3, visibility = $4, \
             routes = $5, models = $6, requires_approval = $7, file_managed = $8, version = $9, \
             updated_at = $10 WHERE id = $11 AND version = $12",
        )
        .bind(self.tenant_id.as_deref())
        .bind(&self.description)
        .bind(&self.docs)
        .bind(self.visibility.as_str())
        .bind(to_json(&self.routes)?)
        .bind(to_json(&self.models)?)
        .bind(i64::from(self.requires_approval))
        .bind(i64::from(self.file_managed))
        .bind(self.version)
        .bind(self.updated_at)
        .bind(&self.id)
        .bind(prev))
    }
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

/// Inserts `p` (into its tenant, which must exist, if it has one) and
/// records its creation.
pub(crate) async fn create_in(tx: &mut WriteTx<'_>, actor: &Actor, p: &Product) -> Result<()> {
    if let Some(t) = &p.tenant_id {
        entity::get::<Tenant>(&mut *tx.tx, "id", t).await?;
    }
    let insert = sqlx::query(
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
    .bind(p.updated_at);
    entity::insert(tx, actor, p, insert).await
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
        entity::get(&self.pool, "id", id).await
    }

    /// The product with this name.
    pub async fn product_by_name(&self, name: &str) -> Result<Product> {
        entity::get(&self.pool, "name", name).await
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
        self.list_of(w, page).await
    }

    /// Applies `patch`. Refused for file-managed products and stale versions.
    pub async fn update_product(
        &self,
        actor: &Actor,
        id: &str,
        patch: ProductPatch,
        expected_version: Option<i64>,
    ) -> Result<Product> {
        self.modify(actor, id, expected_version, |p: &mut Product| {
            if let Some(v) = patch.description {
                p.description = v;
            }
            if let Some(v) = patch.docs {
                p.docs = v;
            }
            if let Some(v) = patch.visibility {
                p.visibility = v;
            }
            if let Some(v) = patch.routes {
                p.routes = v;
            }
            if let Some(v) = patch.models {
                p.models = v;
            }
            if let Some(v) = patch.requires_approval {
                p.requires_approval = v;
            }
            Ok(())
        })
        .await
    }

    /// Deletes the product and, by cascade, its subscriptions.
    pub async fn delete_product(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: Option<i64>,
    ) -> Result<()> {
        self.delete_row::<Product>(actor, id, expected_version)
            .await
    }
}
