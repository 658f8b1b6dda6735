//! `/tenants`: platform admins manage them; everyone else reads only their
//! own tenant (another tenant answers 404).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sy_config::LimitsSpec;
use sy_store::{NewTenant, TenantFilter, TenantPatch};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{check_limit, empty, page, page_type, tagged};
use crate::auth::{Principal, Scope};
use crate::error::{ApiResult, FieldError};
use crate::extract::{
    IfMatch, JsonBody, MAX_NAME, QueryParams, Validate, check_len, check_limits, check_metadata,
    check_slug,
};
use crate::schemas::LimitsSchema;
use crate::state::AdminState;

/// A tenant: the unit of isolation for consumers, keys and limits.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Tenant {
    /// UUID v7.
    pub id: String,
    /// Unique slug.
    pub name: String,
    /// Human-readable name.
    pub display_name: String,
    /// Limits on everything the tenant's consumers do together.
    #[schema(value_type = LimitsSchema)]
    pub limits: LimitsSpec,
    /// Free-form labels.
    pub metadata: Map<String, Value>,
    /// Declared in the configuration file: read-only through the API.
    pub file_managed: bool,
    /// Bumped by every update; the ETag is `"<version>"`.
    pub version: i64,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

impl From<sy_store::Tenant> for Tenant {
    fn from(t: sy_store::Tenant) -> Self {
        Tenant {
            id: t.id,
            name: t.name,
            display_name: t.display_name,
            limits: t.limits,
            metadata: t.metadata,
            file_managed: t.file_managed,
            version: t.version,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

page_type!(
    /// A page of tenants.
    TenantPage,
    Tenant
);

/// Body of `POST /tenants`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenantBody {
    /// Slug, `^[a-z0-9][a-z0-9-]{0,62}$`.
    #[schema(pattern = "^[a-z0-9][a-z0-9-]{0,62}$")]
    pub name: String,
    /// Human-readable name (at most 64 characters); the slug when absent.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub display_name: Option<String>,
    /// Limits on the whole tenant.
    #[serde(default)]
    #[schema(value_type = Option<LimitsSchema>)]
    pub limits: Option<LimitsSpec>,
    /// Free-form labels, at most 16 KiB as JSON.
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
}

impl Validate for NewTenantBody {
    fn validate(&self, errors: &mut Vec<FieldError>) {
        check_slug(errors, "name", &self.name);
        if let Some(d) = &self.display_name {
            check_len(errors, "display_name", d, MAX_NAME);
        }
        if let Some(l) = &self.limits {
            check_limits(errors, "limits", l);
        }
        if let Some(m) = &self.metadata {
            check_metadata(errors, "metadata", m);
        }
    }
}

/// Body of `PATCH /tenants/{id}`: absent or `null` fields are kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantPatchBody {
    /// New display name.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub display_name: Option<String>,
    /// New limits (replace the whole set).
    #[serde(default)]
    #[schema(value_type = Option<LimitsSchema>)]
    pub limits: Option<LimitsSpec>,
    /// New metadata (replaces the whole map).
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
}

impl Validate for TenantPatchBody {
    fn validate(&self, errors: &mut Vec<FieldError>) {
        if let Some(d) = &self.display_name {
            check_len(errors, "display_name", d, MAX_NAME);
        }
        if let Some(l) = &self.limits {
            check_limits(errors, "limits", l);
        }
        if let Some(m) = &self.metadata {
            check_metadata(errors, "metadata", m);
        }
    }
}

/// Query of `GET /tenants`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TenantQuery {
    /// Rows per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Only names starting with this.
    pub name: Option<String>,
}

impl Validate for TenantQuery {
    fn validate(&self, errors: &mut Vec<FieldError>) {
        check_limit(errors, self.limit);
    }
}

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(list_tenants, create_tenant))
        .routes(routes!(get_tenant, update_tenant, delete_tenant))
}

/// Lists tenants: all for platform admins, only their own for others.
#[utoipa::path(get, path = "/admin/v1/tenants", tag = "tenants", params(TenantQuery),
    responses((status = 200, description = "One page of tenants", body = TenantPage)))]
async fn list_tenants(
    State(st): State<AdminState>,
    p: Principal,
    QueryParams(q): QueryParams<TenantQuery>,
) -> ApiResult<axum::Json<TenantPage>> {
    let paged = match p.scope(None) {
        Scope::All => {
            let filter = TenantFilter {
                name_prefix: q.name,
            };
            st.store
                .list_tenants(&filter, &page(q.limit, q.after))
                .await?
        }
        Scope::Tenant(own) => {
            let t = st.store.get_tenant(&own).await?;
            let keep = q.name.as_deref().is_none_or(|n| t.name.starts_with(n))
                && q.after.as_deref().is_none_or(|a| t.id.as_str() > a);
            sy_store::Paged {
                items: if keep { vec![t] } else { Vec::new() },
                next: None,
            }
        }
        Scope::Nothing => empty(),
    };
    Ok(axum::Json(TenantPage::from_paged(paged)))
}

/// Creates a tenant (platform admins).
#[utoipa::path(post, path = "/admin/v1/tenants", tag = "tenants", request_body = NewTenantBody,
    responses((status = 201, description = "Created", body = Tenant,
        headers(("ETag" = String, description = "Strong ETag: the version in quotes")))))]
async fn create_tenant(
    State(st): State<AdminState>,
    p: Principal,
    JsonBody(body): JsonBody<NewTenantBody>,
) -> ApiResult<Response> {
    p.require_platform()?;
    let new = NewTenant {
        display_name: body.display_name.unwrap_or_default(),
        name: body.name,
        limits: body.limits.unwrap_or_default(),
        metadata: body.metadata.unwrap_or_default(),
    };
    let t = st.store.create_tenant(&p.actor(), new).await?;
    st.changed();
    Ok(tagged(StatusCode::CREATED, t.version, Tenant::from(t)))
}

/// Reads one tenant (another tenant's answers 404 to tenant users).
#[utoipa::path(get, path = "/admin/v1/tenants/{id}", tag = "tenants",
    params(("id" = String, Path, description = "Tenant id")),
    responses((status = 200, description = "The tenant", body = Tenant,
        headers(("ETag" = String, description = "Strong ETag: the version in quotes")))))]
async fn get_tenant(
    State(st): State<AdminState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    p.see_tenant(&id, "tenant", &id)?;
    let t = st.store.get_tenant(&id).await?;
    Ok(tagged(StatusCode::OK, t.version, Tenant::from(t)))
}

/// Updates a tenant (platform admins).
#[utoipa::path(patch, path = "/admin/v1/tenants/{id}", tag = "tenants",
    params(("id" = String, Path, description = "Tenant id")), request_body = TenantPatchBody,
    responses((status = 200, description = "Updated", body = Tenant,
        headers(("ETag" = String, description = "Strong ETag: the version in quotes")))))]
async fn update_tenant(
    State(st): State<AdminState>,
    p: Principal,
    Path(id): Path<String>,
    if_match: IfMatch,
    JsonBody(body): JsonBody<TenantPatchBody>,
) -> ApiResult<Response> {
    p.see_tenant(&id, "tenant", &id)?;
    p.require_platform()?;
    let current = st.store.get_tenant(&id).await?;
    let expected = if_match.expected(current.version)?;
    let patch = TenantPatch {
        display_name: body.display_name,
        limits: body.limits,
        metadata: body.metadata,
    };
    let t = st
        .store
        .update_tenant(&p.actor(), &id, patch, expected)
        .await?;
    st.changed();
    Ok(tagged(StatusCode::OK, t.version, Tenant::from(t)))
}

/// Deletes a tenant and everything it owns (platform admins).
#[utoipa::path(delete, path = "/admin/v1/tenants/{id}", tag = "tenants",
    params(("id" = String, Path, description = "Tenant id")),
    responses((status = 204, description = "Deleted")))]
async fn delete_tenant(
    State(st): State<AdminState>,
    p: Principal,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    p.see_tenant(&id, "tenant", &id)?;
    p.require_platform()?;
    let current = st.store.get_tenant(&id).await?;
    let expected = if_match.expected(current.version)?;
    st.store.delete_tenant(&p.actor(), &id, expected).await?;
    st.changed();
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::parse_json;

    #[test]
    fn bodies_refuse_unknown_fields_and_bad_values() {
        let e = parse_json::<NewTenantBody>(br#"{"name":"a","colour":"red"}"#).unwrap_err();
        assert_eq!(e.status, 422);
        let body: NewTenantBody = parse_json(br#"{"name":"Bad Name"}"#).unwrap();
        let mut errors = Vec::new();
        body.validate(&mut errors);
        assert_eq!(errors[0].field, "name");
    }
}
