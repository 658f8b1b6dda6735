//! `/products`: bundles of routes and models that consumers subscribe to.
//!
//! Who sees one: `public` — everyone; `tenant` — the owning tenant's
//! members (everyone, for a platform product); `private` — platform admins
//! and the owning tenant's admins. An invisible product answers 404.
//! Platform admins change any product; tenant admins their tenant's.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sy_store::{NewProduct, ProductFilter, ProductPatch, Role, Visibility};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::consumers::require_admin_of;
use super::{check_limit, filtered_page, page, page_type, tagged};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{
    IfMatch, JsonBody, MAX_NAME, MAX_TEXT, QueryParams, Validate, check_len, check_name,
};
use crate::state::AdminState;

/// Longest product documentation (Markdown).
const MAX_DOCS: usize = 64 * 1024;
/// Most routes or models in one product.
const MAX_ITEMS: usize = 256;

/// Who sees a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Visibility)]
pub enum VisibilityName {
    /// Everyone, across tenants.
    Public,
    /// Members of the owning tenant (everyone, for a platform product).
    Tenant,
    /// Admins only.
    Private,
}

impl From<Visibility> for VisibilityName {
    fn from(v: Visibility) -> Self {
        match v {
            Visibility::Public => VisibilityName::Public,
            Visibility::Tenant => VisibilityName::Tenant,
            Visibility::Private => VisibilityName::Private,
        }
    }
}

impl From<VisibilityName> for Visibility {
    fn from(v: VisibilityName) -> Self {
        match v {
            VisibilityName::Public => Visibility::Public,
            VisibilityName::Tenant => Visibility::Tenant,
            VisibilityName::Private => Visibility::Private,
        }
    }
}

/// A product.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Product {
    /// UUID v7.
    pub id: String,
    /// Owning tenant; `null` = platform-wide.
    pub tenant_id: Option<String>,
    /// Unique across the platform.
    pub name: String,
    /// One-line summary.
    pub description: String,
    /// Markdown documentation.
    pub docs: String,
    /// Who sees it.
    pub visibility: VisibilityName,
    /// Route names included.
    pub routes: Vec<String>,
    /// Model names included.
    pub models: Vec<String>,
    /// Subscriptions start pending and need an admin's approval.
    pub requires_approval: bool,
    /// Declared in the configuration file: read-only through the API.
    pub file_managed: bool,
    /// Bumped by every update; the ETag is `"<version>"`.
    pub version: i64,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

impl From<sy_store::Product> for Product {
    fn from(p: sy_store::Product) -> Self {
        Product {
            id: p.id,
            tenant_id: p.tenant_id,
            name: p.name,
            description: p.description,
            docs: p.docs,
            visibility: p.visibility.into(),
            routes: p.routes,
            models: p.models,
            requires_approval: p.requires_approval,
            file_managed: p.file_managed,
            version: p.version,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

page_type!(
    /// A page of products.
    ProductPage,
    Product
);

fn check_items(errors: &mut Vec<FieldError>, field: &str, items: &[String]) {
    if items.len() > MAX_ITEMS {
        errors.push(FieldError {
            field: field.into(),
            message: format!("at most {MAX_ITEMS} names"),
        });
    }
    for (i, name) in items.iter().enumerate() {
        check_name(errors, &format!("{field}[{i}]"), name, MAX_NAME);
    }
}

/// Body of `POST /products`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProductBody {
    /// Owning tenant; absent = the caller's (platform admins: platform-wide).
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Unique across the platform: letters, digits, `.`, `_`, `-`.
    #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    pub name: String,
    /// One-line summary, at most 4096 characters.
    #[serde(default)]
    #[schema(max_length = 4096)]
    pub description: Option<String>,
    /// Markdown documentation, at most 65536 characters.
    #[serde(default)]
    #[schema(max_length = 65536)]
    pub docs: Option<String>,
    /// Who sees it (default `tenant`).
    #[serde(default)]
    pub visibility: Option<VisibilityName>,
    /// Route names included.
    #[serde(default)]
    #[schema(max_items = 256)]
    pub routes: Option<Vec<String>>,
    /// Model names included.
    #[serde(default)]
    #[schema(max_items = 256)]
    pub models: Option<Vec<String>>,
    /// Subscriptions need an admin's approval (default true).
    #[serde(default)]
    pub requires_approval: Option<bool>,
}

impl Validate for NewProductBody {
    fn validate(&self, errors: &mut Vec<FieldError>) {
        check_name(errors, "name", &self.name, MAX_NAME);
        if let Some(d) = &self.description {
            check_len(errors, "description", d, MAX_TEXT);
        }
        if let Some(d) = &self.docs {
            check_len(errors, "docs", d, MAX_DOCS);
        }
        check_items(errors, "routes", self.routes.as_deref().unwrap_or_default());
        check_items(errors, "models", self.models.as_deref().unwrap_or_default());
    }
}

/// Body of `PATCH /products/{id}`: absent or `null` fields are kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductPatchBody {
    /// New summary.
    #[serde(default)]
    #[schema(max_length = 4096)]
    pub description: Option<String>,
    /// New documentation.
    #[serde(default)]
    #[schema(max_length = 65536)]
    pub docs: Option<String>,
    /// New visibility.
    #[serde(default)]
    pub visibility: Option<VisibilityName>,
    /// New route list.
    #[serde(default)]
    #[schema(max_items = 256)]
    pub routes: Option<Vec<String>>,
    /// New model list.
    #[serde(default)]
    #[schema(max_items = 256)]
    pub models: Option<Vec<String>>,
    /// New approval rule (affects later requests only).
    #[serde(default)]
    pub requires_approval: Option<bool>,
}

impl Validate for ProductPatchBody {
    fn validate(&self, errors: &mut Vec<FieldError>) {
        if let Some(d) = &self.description {
            check_len(errors, "description", d, MAX_TEXT);
        }
        if let Some(d) = &self.docs {
            check_len(errors, "docs", d, MAX_DOCS);
        }
        check_items(errors, "routes", self.routes.as_deref().unwrap_or_default());
        check_items(errors, "models", self.models.as_deref().unwrap_or_default());
    }
}

/// Query of `GET /products`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    /// Rows per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Only this tenant's products.
    pub tenant_id: Option<String>,
    /// Only this visibility.
    #[param(inline)]
    pub visibility: Option<VisibilityName>,
    /// Only names starting with this.
    pub name: Option<String>,
}

impl Validate for ProductQuery {
    fn validate(&self, errors: &mut Vec<FieldError>) {
        check_limit(errors, self.limit);
    }
}

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(list_products, create_product))
        .routes(routes!(get_product, update_product, delete_product))
}

/// Whether the caller may see `product` (see the module doc).
pub(crate) fn can_see(p: &Principal, product: &sy_store::Product) -> bool {
    if p.is_platform() {
        return true;
    }
    match product.visibility {
        Visibility::Public => true,
        Visibility::Tenant => product.tenant_id.as_ref().is_none_or(|t| p.sees_tenant(t)),
        Visibility::Private => {
            p.role == Role::TenantAdmin
                && product.tenant_id.as_ref().is_some_and(|t| p.sees_tenant(t))
        }
    }
}

/// The product `id` if the caller may see it (404 otherwise).
pub(crate) async fn visible_product(
    st: &AdminState,
    p: &Principal,
    id: &str,
) -> ApiResult<sy_store::Product> {
    let product = st.store.get_product(id).await?;
    if can_see(p, &product) {
        Ok(product)
    } else {
        Err(ApiError::not_found("product", id))
    }
}

/// 403 unless the caller may change `product`.
fn require_owner(p: &Principal, product: &sy_store::Product) -> ApiResult<()> {
    match &product.tenant_id {
        Some(t) => require_admin_of(p, t),
        None => p.require_platform(),
    }
}

/// Lists the products the caller may see.
#[utoipa::path(get, path = "/admin/v1/products", tag = "products", params(ProductQuery),
    responses((status = 200, description = "One page of products", body = ProductPage)))]
async fn list_products(
    State(st): State<AdminState>,
    p: Principal,
    QueryParams(q): QueryParams<ProductQuery>,
) -> ApiResult<Json<ProductPage>> {
    let filter = ProductFilter {
        tenant_id: q.tenant_id,
        visibility: q.visibility.map(Visibility::from),
        name_prefix: q.name,
    };
    let page = page(q.limit, q.after);
    let paged = if p.is_platform() {
        st.store.list_products(&filter, &page).await?
    } else {
        let fetch = |pg| {
            let (st, filter) = (st.clone(), filter.clone());
            async move { st.store.list_products(&filter, &pg).await }
        };
        filtered_page(page, fetch, |prod| can_see(&p, prod), |prod| &prod.id).await?
    };
    Ok(Json(ProductPage::from_paged(paged)))
}

/// Creates a product (platform admins: any tenant or platform-wide; tenant
/// admins: their own tenant's).
#[utoipa::path(post, path = "/admin/v1/products", tag = "products", request_body = NewProductBody,
    responses((status = 201, description = "Created", body = Product,
        headers(("ETag" = String, description = "Strong ETag: the version in quotes")))))]
async fn create_product(
    State(st): State<AdminState>,
    p: Principal,
    JsonBody(body): JsonBody<NewProductBody>,
) -> ApiResult<Response> {
    p.require_admin()?;
    let tenant_id = body.tenant_id.or_else(|| p.tenant_id.clone());
    match &tenant_id {
        Some(t) => {
            p.see_tenant(t, "tenant", t)?;
            st.store.get_tenant(t).await?;
        }
        None => p.require_platform()?,
    }
    let new = NewProduct {
        tenant_id,
        name: body.name,
        description: body.description.unwrap_or_default(),
        docs: body.docs.unwrap_or_default(),
        visibility: body.visibility.map_or(Visibility::Tenant, Visibility::from),
        routes: body.routes.unwrap_or_default(),
        models: body.models.unwrap_or_default(),
        requires_approval: body.requires_approval.unwrap_or(true),
    };
    let product = st.store.create_product(&p.actor(), new).await?;
    st.changed();
    Ok(tagged(
        StatusCode::CREATED,
        product.version,
        Product::from(product),
    ))
}

/// Reads one product.
#[utoipa::path(get, path = "/admin/v1/products/{id}", tag = "products",
    params(("id" = String, Path, description = "Product id")),
    responses((status = 200, description = "The product", body = Product,
        headers(("ETag" = String, description = "Strong ETag: the version in quotes")))))]
async fn get_product(
    State(st): State<AdminState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let product = visible_product(&st, &p, &id).await?;
    Ok(tagged(
        StatusCode::OK,
        product.version,
        Product::from(product),
    ))
}

/// Updates a product.
#[utoipa::path(patch, path = "/admin/v1/products/{id}", tag = "products",
    params(("id" = String, Path, description = "Product id")), request_body = ProductPatchBody,
    responses((status = 200, description = "Updated", body = Product,
        headers(("ETag" = String, description = "Strong ETag: the version in quotes")))))]
async fn update_product(
    State(st): State<AdminState>,
    p: Principal,
    Path(id): Path<String>,
    if_match: IfMatch,
    JsonBody(body): JsonBody<ProductPatchBody>,
) -> ApiResult<Response> {
    let current = visible_product(&st, &p, &id).await?;
    require_owner(&p, &current)?;
    let expected = if_match.expected(current.version)?;
    let patch = ProductPatch {
        description: body.description,
        docs: body.docs,
        visibility: body.visibility.map(Visibility::from),
        routes: body.routes,
        models: body.models,
        requires_approval: body.requires_approval,
    };
    let product = st
        .store
        .update_product(&p.actor(), &id, patch, expected)
        .await?;
    st.changed();
    Ok(tagged(
        StatusCode::OK,
        product.version,
        Product::from(product),
    ))
}

/// Deletes a product and its subscriptions.
#[utoipa::path(delete, path = "/admin/v1/products/{id}", tag = "products",
    params(("id" = String, Path, description = "Product id")),
    responses((status = 204, description = "Deleted")))]
async fn delete_product(
    State(st): State<AdminState>,
    p: Principal,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    let current = visible_product(&st, &p, &id).await?;
    require_owner(&p, &current)?;
    let expected = if_match.expected(current.version)?;
    st.store.delete_product(&p.actor(), &id, expected).await?;
    st.changed();
    Ok(StatusCode::NO_CONTENT)
}
