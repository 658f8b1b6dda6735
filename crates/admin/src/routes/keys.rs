//! `/keys`: API keys. The secret is answered once, by `POST /keys`; reads
//! show only its `prefix`. Every tenant member may create keys for their
//! tenant's consumers; only admins change, revoke or delete them.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sy_config::LimitsSpec;
use sy_store::{KeyFilter, KeyPatch, NewKey};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::consumers::{require_admin_of, visible_consumer};
use super::{check_limit, empty, page, page_type, tagged};
use crate::auth::{Principal, Scope};
use crate::error::{ApiResult, FieldError};
use crate::extract::{
    IfMatch, JsonBody, MAX_NAME, QueryParams, Validate, check_limits, check_metadata, check_name,
    double_option,
};
use crate::schemas::LimitsSchema;
use crate::state::AdminState;

/// Most route or model names in one scope list.
const MAX_SCOPE_ITEMS: usize = 256;

/// What a key may reach; an empty list allows everything of that sort.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Scopes {
    /// Route names; empty = every route.
    #[serde(default)]
    #[schema(max_items = 256)]
    pub routes: Vec<String>,
    /// Model names; empty = every model.
    #[serde(default)]
    #[schema(max_items = 256)]
    pub models: Vec<String>,
}

impl Scopes {
    fn validate(&self, errors: &mut Vec<FieldError>, field: &str) {
        for (list, items) in [("routes", &self.routes), ("models", &self.models)] {
            if items.len() > MAX_SCOPE_ITEMS {
                errors.push(FieldError {
                    field: format!("{field}.{list}"),
                    message: format!("at most {MAX_SCOPE_ITEMS} names"),
                });
            }
            for (i, name) in items.iter().enumerate() {
                check_name(errors, &format!("{field}.{list}[{i}]"), name, MAX_NAME);
            }
        }
    }
}

/// An API key (never its secret or hash).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKey {
    /// UUID v7.
    pub id: String,
    /// Owning tenant (the consumer's).
    pub tenant_id: String,
    /// Owning consumer.
    pub consumer_id: String,
    /// Label.
    pub name: String,
    /// The secret's first characters, to recognise it.
    pub prefix: String,
    /// What the key may reach.
    pub scopes: Scopes,
    /// Limits on this key alone.
    #[schema(value_type = LimitsSchema)]
    pub limits: LimitsSpec,
    /// Free-form labels.
    pub metadata: Map<String, Value>,
    /// Unix milliseconds after which the key is refused; `null` = never.
    pub expires_at: Option<i64>,
    /// Unix milliseconds of revocation; `null` while active.
    pub revoked_at: Option<i64>,
    /// Declared in the configuration file: read-only through the API.
    pub file_managed: bool,
    /// Bumped by every update; the ETag is `"<version>"`.
    pub version: i64,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

impl From<sy_store::ApiKey> for ApiKey {
    fn from(k: sy_store::ApiKey) -> Self {
        ApiKey {
            id: k.id,
            tenant_id: k.tenant_id,
            consumer_id: k.consumer_id,
            name: k.name,
            prefix: k.prefix,
            scopes: Scopes {
                routes: k.scopes.routes,
                models: k.scopes.models,
            },
            limits: k.limits,
            metadata: k.metadata,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
            file_managed: k.file_managed,
            version: k.version,
            created_at: k.created_at,
            updated_at: k.updated_at,
        }
    }
}

fn store_scopes(s: Scopes) -> sy_store::Scopes {
    sy_store::Scopes {
        routes: s.routes,
        models: s.models,
    }
}

page_type!(
    /// A page of keys.
    KeyPage,
    ApiKey
);

/// Answer of `POST /keys`: the only time the secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    /// The stored key.
    pub key: ApiKey,
    /// The secret, `sk-sy-…`; store it now, it cannot be shown again.
    pub secret: String,
}

/// Body of `POST /keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyBody {
    /// Owning consumer (of the caller's tenant).
    pub consumer_id: String,
    /// Label: letters, digits, `.`, `_`, `-`.
    #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    pub name: String,
    /// What the key may reach; absent = everything.
    #[serde(default)]
    pub scopes: Option<Scopes>,
    /// Limits on this key alone.
    #[serde(default)]
    #[schema(value_type = Option<LimitsSchema>)]
    pub limits: Option<LimitsSpec>,
    /// Free-form labels, at most 16 KiB as JSON.
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    /// Unix milliseconds after which the key is refused; absent = never.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub expires_at: Option<i64>,
}

fn check_expiry(errors: &mut Vec<FieldError>, expires_at: Option<i64>) {
    if expires_at.is_some_and(|t| t < 1) {
        errors.push(FieldError {
            field: "expires_at".into(),
            message: "must be a positive Unix time in milliseconds".into(),
        });
    }
}

impl Validate for NewKeyBody {
    fn validate(&self, errors: &mut Vec<FieldError>) {
        check_name(errors, "name", &self.name, MAX_NAME);
        if let Some(s) = &self.scopes {
            s.validate(errors, "scopes");
        }
        if let Some(l) = &self.limits {
            check_limits(errors, "limits", l);
        }
        if let Some(m) = &self.metadata {
            check_metadata(errors, "metadata", m);
        }
        check_expiry(errors, self.expires_at);
    }
}

/// Body of `PATCH /keys/{id}`: absent fields are kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyPatchBody {
    /// New label.
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    pub name: Option<String>,
    /// New scopes.
    #[serde(default)]
    pub scopes: Option<Scopes>,
    /// New limits (replace the whole set).
    #[serde(default)]
    #[schema(value_type = Option<LimitsSchema>)]
    pub limits: Option<LimitsSpec>,
    /// New metadata (replaces the whole map).
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    /// New expiry; `null` = never.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(minimum = 1)]
    pub expires_at: Option<Option<i64>>,
}

impl Validate for KeyPatchBody {
    fn validate(&self, errors: &mut Vec<FieldError>) {
        if let Some(n) = &self.name {
            check_name(errors, "name", n, MAX_NAME);
        }
        if let Some(s) = &self.scopes {
            s.validate(errors, "scopes");
        }
        if let Some(l) = &self.limits {
            check_limits(errors, "limits", l);
        }
        if let Some(m) = &self.metadata {
            check_metadata(errors, "metadata", m);
        }
        check_expiry(errors, self.expires_at.flatten());
    }
}

/// Query of `GET /keys`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct KeyQuery {
    /// Rows per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Only this tenant's keys (tenant users: always their own).
    pub tenant_id: Option<String>,
    /// Only this consumer's keys.
    pub consumer_id: Option<String>,
    /// Include revoked keys (default false).
    pub include_revoked: Option<bool>,
}

impl Validate for KeyQuery {
    fn validate(&self, errors: &mut Vec<FieldError>) {
        check_limit(errors, self.limit);
    }
}

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(list_keys, create_key))
        .routes(routes!(get_key, update_key, delete_key))
        .routes(routes!(revoke_key))
}

async fn visible_key(st: &AdminState, p: &Principal, id: &str) -> ApiResult<sy_store::ApiKey> {
    let k = st.store.get_key(id).await?;
    p.see_tenant(&k.tenant_id, "api_key", id)?;
    Ok(k)
}

/// Lists keys of the caller's tenant (platform admins: any).
#[utoipa::path(get, path = "/admin/v1/keys", tag = "keys", params(KeyQuery),
    responses((status = 200, description = "One page of keys", body = KeyPage)))]
async fn list_keys(
    State(st): State<AdminState>,
    p: Principal,
    QueryParams(q): QueryParams<KeyQuery>,
) -> ApiResult<Json<KeyPage>> {
    let paged = match p.scope(q.tenant_id) {
        Scope::Nothing => empty(),
        scope => {
            let filter = KeyFilter {
                tenant_id: scope.tenant(),
                consumer_id: q.consumer_id,
                include_revoked: q.include_revoked.unwrap_or(false),
            };
            st.store.list_keys(&filter, &page(q.limit, q.after)).await?
        }
    };
    Ok(Json(KeyPage::from_paged(paged)))
}

/// Creates a key for a consumer of the caller's tenant; answers the secret
/// once.
#[utoipa::path(post, path = "/admin/v1/keys", tag = "keys", request_body = NewKeyBody,
    responses((status = 201, description = "Created; `secret` is shown only now",
        body = CreatedKey,
        headers(("ETag" = String, description = "Strong ETag of the key")))))]
async fn create_key(
    State(st): State<AdminState>,
    p: Principal,
    JsonBody(body): JsonBody<NewKeyBody>,
) -> ApiResult<Response> {
    let consumer = visible_consumer(&st, &p, &body.consumer_id).await?;
    let new = NewKey {
        consumer_id: consumer.id,
        name: body.name,
        scopes: body.scopes.map(store_scopes).unwrap_or_default(),
        limits: body.limits.unwrap_or_default(),
        metadata: body.metadata.unwrap_or_default(),
        expires_at: body.expires_at,
    };
    let (secret, key) = st.store.create_key(&p.actor(), new).await?;
    st.changed();
    Ok(tagged(
        StatusCode::CREATED,
        key.version,
        CreatedKey {
            key: key.into(),
            secret,
        },
    ))
}

/// Reads one key (without its secret).
#[utoipa::path(get, path = "/admin/v1/keys/{id}", tag = "keys",
    params(("id" = String, Path, description = "Key id")),
    responses((status = 200, description = "The key", body = ApiKey,
        headers(("ETag" = String, description = "Strong ETag: the version in quotes")))))]
async fn get_key(
    State(st): State<AdminState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let k = visible_key(&st, &p, &id).await?;
    Ok(tagged(StatusCode::OK, k.version, ApiKey::from(k)))
}

/// Updates a key (admins). Revoked keys cannot change.
#[utoipa::path(patch, path = "/admin/v1/keys/{id}", tag = "keys",
    params(("id" = String, Path, description = "Key id")), request_body = KeyPatchBody,
    responses((status = 200, description = "Updated", body = ApiKey,
        headers(("ETag" = String, description = "Strong ETag: the version in quotes")))))]
async fn update_key(
    State(st): State<AdminState>,
    p: Principal,
    Path(id): Path<String>,
    if_match: IfMatch,
    JsonBody(body): JsonBody<KeyPatchBody>,
) -> ApiResult<Response> {
    let current = visible_key(&st, &p, &id).await?;
    require_admin_of(&p, &current.tenant_id)?;
    let expected = if_match.expected(current.version)?;
    let patch = KeyPatch {
        name: body.name,
        scopes: body.scopes.map(store_scopes),
        limits: body.limits,
        metadata: body.metadata,
        expires_at: body.expires_at,
    };
    let k = st
        .store
        .update_key(&p.actor(), &id, patch, expected)
        .await?;
    st.changed();
    Ok(tagged(StatusCode::OK, k.version, ApiKey::from(k)))
}

/// Revokes a key for good. Any member of the key's tenant may: a developer
/// who finds a key leaked must be able to stop it at once. Revoking a
/// revoked key changes nothing.
#[utoipa::path(post, path = "/admin/v1/keys/{id}/revoke", tag = "keys",
    params(("id" = String, Path, description = "Key id")),
    responses((status = 200, description = "Revoked", body = ApiKey,
        headers(("ETag" = String, description = "Strong ETag: the version in quotes")))))]
async fn revoke_key(
    State(st): State<AdminState>,
    p: Principal,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<Response> {
    // Visible only inside the caller's tenant (others get 404).
    let current = visible_key(&st, &p, &id).await?;
    // The store's revoke takes no version; checked here (not atomically).
    if_match.expected(current.version)?;
    let k = st.store.revoke_key(&p.actor(), &id).await?;
    st.changed();
    Ok(tagged(StatusCode::OK, k.version, ApiKey::from(k)))
}

/// Deletes a key row (admins); prefer revoking, which keeps the record.
#[utoipa::path(delete, path = "/admin/v1/keys/{id}", tag = "keys",
    params(("id" = String, Path, description = "Key id")),
    responses((status = 204, description = "Deleted")))]
async fn delete_key(
    State(st): State<AdminState>,
    p: Principal,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    let current = visible_key(&st, &p, &id).await?;
    require_admin_of(&p, &current.tenant_id)?;
    let expected = if_match.expected(current.version)?;
    st.store.delete_key(&p.actor(), &id, expected).await?;
    st.changed();
    Ok(StatusCode::NO_CONTENT)
}
