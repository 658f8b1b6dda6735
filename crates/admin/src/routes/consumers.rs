//! `/consumers`: applications or teams inside a tenant. Everyone reads
//! their tenant's; platform and tenant admins change them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sy_config::LimitsSpec;
use sy_store::{ConsumerFilter, ConsumerPatch, NewConsumer};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{check_limit, empty, page, page_type, tagged};
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{
    IfMatch, JsonBody, MAX_NAME, MAX_TEXT, QueryParams, Validate, check_len, check_limits,
    check_metadata, check_name,
};
use crate::schemas::LimitsSchema;
use crate::state::AdminState;

/// A consumer: holds keys and subscriptions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Consumer {
    /// UUID v7.
    pub id: String,
    /// Owning tenant.
    pub tenant_id: String,
    /// Unique within the tenant.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Limits on all of the consumer's keys together.
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

impl From<sy_store::Consumer> for Consumer {
    fn from(c: sy_store::Consumer) -> Self {
        Consumer {
            id: c.id,
            tenant_id: c.tenant_id,
            name: c.name,
            description: c.description,
            limits: c.limits,
            metadata: c.metadata,
            file_managed: c.file_managed,
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

page_type!(
    /// A page of consumers.
    ConsumerPage,
    Consumer
);

/// Body of `POST /consumers`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConsumerBody {
    /// Owning tenant; the caller's own when absent (required for platform
    /// admins).
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Unique within the tenant: letters, digits, `.`, `_`, `-`.
    #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    pub name: String,
    /// Free text, at most 4096 characters.
    #[serde(default)]
    #[schema(max_length = 4096)]
    pub description: Option<String>,
    /// Limits on all of the consumer's keys together.
    #[serde(default)]
    #[schema(value_type = Option<LimitsSchema>)]
    pub limits: Option<LimitsSpec>,
    /// Free-form labels, at most 16 KiB as JSON.
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
}

impl Validate for NewConsumerBody {
    fn validate(&self, errors: &mut Vec<FieldError>) {
        check_name(errors, "name", &self.name, MAX_NAME);
        if let Some(d) = &self.description {
            check_len(errors, "description", d, MAX_TEXT);
        }
        if let Some(l) = &self.limits {
            check_limits(errors, "limits", l);
        }
        if let Some(m) = &self.metadata {
            check_metadata(errors, "metadata", m);
        }
    }
}

/// Body of `PATCH /consumers/{id}`: absent or `null` fields are kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsumerPatchBody {
    /// New description.
    #[serde(default)]
    #[schema(max_length = 4096)]
    pub description: Option<String>,
    /// New limits (replace the whole set).
    #[serde(default)]
    #[schema(value_type = Option<LimitsSchema>)]
    pub limits: Option<LimitsSpec>,
    /// New metadata (replaces the whole map).
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
}

impl Validate for ConsumerPatchBody {
    fn validate(&self, errors: &mut Vec<FieldError>) {
        if let Some(d) = &self.description {
            check_len(errors, "description", d, MAX_TEXT);
        }
        if let Some(l) = &self.limits {
            check_limits(errors, "limits", l);
        }
        if let Some(m) = &self.metadata {
            check_metadata(errors, "metadata", m);
        }
    }
}

/// Query of `GET /consumers`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsumerQuery {
    /// Rows per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Only this tenant's consumers (tenant users: always their own).
    pub tenant_id: Option<String>,
    /// Only names starting with this.
    pub name: Option<String>,
}

impl Validate for ConsumerQuery {
    fn validate(&self, errors: &mut Vec<FieldError>) {
        check_limit(errors, self.limit);
    }
}

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(list_consumers, create_consumer))
        .routes(routes!(get_consumer, update_consumer, delete_consumer))
}

/// The consumer `id` if the caller's tenant may see it (404 otherwise).
pub(crate) async fn visible_consumer(
    st: &AdminState,
    p: &Principal,
    id: &str,
) -> ApiResult<sy_store::Consumer> {
    let c = st.store.get_consumer(id).await?;
    p.see_tenant(&c.tenant_id, "consumer", id)?;
    Ok(c)
}

/// 403 unless the caller administers `tenant_id`.
pub(crate) fn require_admin_of(p: &Principal, tenant_id: &str) -> ApiResult<()> {
    if p.is_admin_of(tenant_id) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only platform admins and this tenant's admins may do this",
        ))
    }
}

/// The tenant a new entity goes in: the body's (which the caller must
/// see), else the caller's own; platform admins must name one.
pub(crate) fn target_tenant(p: &Principal, requested: Option<String>) -> ApiResult<String> {
    match requested.or_else(|| p.tenant_id.clone()) {
        Some(t) => {
            p.see_tenant(&t, "tenant", &t)?;
            Ok(t)
        }
        None => Err(ApiError::field("tenant_id", "required for platform admins")),
    }
}

/// Lists the consumers of the caller's tenant (platform admins: any).
#[utoipa::path(get, path = "/admin/v1/consumers", tag = "consumers", params(ConsumerQuery),
    responses((status = 200, description = "One page of consumers", body = ConsumerPage)))]
async fn list_consumers(
    State(st): State<AdminState>,
    p: Principal,
    QueryParams(q): QueryParams<ConsumerQuery>,
) -> ApiResult<axum::Json<ConsumerPage>> {
    let paged = match p.scope(q.tenant_id) {
        Scope::Nothing => empty(),
        scope => {
            let filter = ConsumerFilter {
                tenant_id: scope.tenant(),
                name_prefix: q.name,
            };
            st.store
                .list_consumers(&filter, &page(q.limit, q.after))
                .await?
        }
    };
    Ok(axum::Json(ConsumerPage::from_paged(paged)))
}

/// Creates a consumer (platform admins, or the tenant's admins).
#[utoipa::path(post, path = "/admin/v1/consumers", tag = "consumers",
    request_body = NewConsumerBody,
    responses((status = 201, description = "Created", body = Consumer,
        headers(("ETag" = String, description = "Strong ETag: the version in quotes")))))]
async fn create_consumer(
    State(st): State<AdminState>,
    p: Principal,
    JsonBody(body): JsonBody<NewConsumerBody>,
) -> ApiResult<Response> {
    let tenant_id = target_tenant(&p, body.tenant_id)?;
    require_admin_of(&p, &tenant_id)?;
    st.store.get_tenant(&tenant_id).await?;
    let new = NewConsumer {
        tenant_id,
        name: body.name,
        description: body.description.unwrap_or_default(),
        limits: body.limits.unwrap_or_default(),
        metadata: body.metadata.unwrap_or_default(),
    };
    let c = st.store.create_consumer(&p.actor(), new).await?;
    st.changed();
    Ok(tagged(StatusCode::CREATED, c.version, Consumer::from(c)))
}

/// Reads one consumer.
#[utoipa::path(get, path = "/admin/v1/consumers/{id}", tag = "consumers",
    params(("id" = String, Path, description = "Consumer id")),
    responses((status = 200, description = "The consumer", body = Consumer,
        headers(("ETag" = String, description = "Strong ETag: the version in quotes")))))]
async fn get_consumer(
    State(st): State<AdminState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let c = visible_consumer(&st, &p, &id).await?;
    Ok(tagged(StatusCode::OK, c.version, Consumer::from(c)))
}

/// Updates a consumer.
#[utoipa::path(patch, path = "/admin/v1/consumers/{id}", tag = "consumers",
    params(("id" = String, Path, description = "Consumer id")),
    request_body = ConsumerPatchBody,
    responses((status = 200, description = "Updated", body = Consumer,
        headers(("ETag" = String, description = "Strong ETag: the version in quotes")))))]
async fn update_consumer(
    State(st): State<AdminState>,
    p: Principal,
    Path(id): Path<String>,
    if_match: IfMatch,
    JsonBody(body): JsonBody<ConsumerPatchBody>,
) -> ApiResult<Response> {
    let current = visible_consumer(&st, &p, &id).await?;
    require_admin_of(&p, &current.tenant_id)?;
    let expected = if_match.expected(current.version)?;
    let patch = ConsumerPatch {
        description: body.description,
        limits: body.limits,
        metadata: body.metadata,
    };
    let c = st
        .store
        .update_consumer(&p.actor(), &id, patch, expected)
        .await?;
    st.changed();
    Ok(tagged(StatusCode::OK, c.version, Consumer::from(c)))
}

/// Deletes a consumer with its keys and subscriptions.
#[utoipa::path(delete, path = "/admin/v1/consumers/{id}", tag = "consumers",
    params(("id" = String, Path, description = "Consumer id")),
    responses((status = 204, description = "Deleted")))]
async fn delete_consumer(
    State(st): State<AdminState>,
    p: Principal,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    let current = visible_consumer(&st, &p, &id).await?;
    require_admin_of(&p, &current.tenant_id)?;
    let expected = if_match.expected(current.version)?;
    st.store.delete_consumer(&p.actor(), &id, expected).await?;
    st.changed();
    Ok(StatusCode::NO_CONTENT)
}
