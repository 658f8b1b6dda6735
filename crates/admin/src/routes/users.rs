//! `/users`: admin users. Platform admins manage everyone; tenant admins
//! manage their own tenant's users (never a platform admin, never another
//! tenant); developers may only read themselves.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sy_store::{NewUser, Role, UserFilter, UserPatch};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{check_limit, empty, page, page_type, tagged};
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{IfMatch, JsonBody, MAX_NAME, QueryParams, Validate, double_option};
use crate::state::AdminState;

/// What an admin user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Role)]
pub enum RoleName {
    /// Everything, across tenants.
    PlatformAdmin,
    /// Everything inside one tenant.
    TenantAdmin,
    /// Reads their tenant; creates keys and subscription requests.
    Developer,
}

impl From<Role> for RoleName {
    fn from(r: Role) -> Self {
        match r {
            Role::PlatformAdmin => RoleName::PlatformAdmin,
            Role::TenantAdmin => RoleName::TenantAdmin,
            Role::Developer => RoleName::Developer,
        }
    }
}

impl From<RoleName> for Role {
    fn from(r: RoleName) -> Self {
        match r {
            RoleName::PlatformAdmin => Role::PlatformAdmin,
            RoleName::TenantAdmin => Role::TenantAdmin,
            RoleName::Developer => Role::Developer,
        }
    }
}

/// An admin user (never with a password or its hash).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    /// UUID v7.
    pub id: String,
    /// Unique login name.
    pub username: String,
    /// What the user may do.
    pub role: RoleName,
    /// The user's tenant; `null` for platform admins.
    pub tenant_id: Option<String>,
    /// A disabled user cannot log in.
    pub disabled: bool,
    /// Bumped by every update; the ETag is `"<version>"`.
    pub version: i64,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

impl From<sy_store::User> for User {
    fn from(u: sy_store::User) -> Self {
        User {
            id: u.id,
            username: u.username,
            role: u.role.into(),
            tenant_id: u.tenant_id,
            disabled: u.disabled,
            version: u.version,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

page_type!(
    /// A page of users.
    UserPage,
    User
);

fn check_username(errors: &mut Vec<FieldError>, name: &str) {
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@+".contains(c));
    if !ok {
        errors.push(FieldError {
            field: "username".into(),
            message: "must be 1 to 64 characters of letters, digits and `._-@+`".into(),
        });
    }
}

fn check_password(errors: &mut Vec<FieldError>, password: &str) {
    let n = password.chars().count();
    if !(8..=256).contains(&n) {
        errors.push(FieldError {
            field: "password".into(),
            message: "must be 8 to 256 characters".into(),
        });
    }
}

/// Body of `POST /users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    /// Unique login name: letters, digits and `._-@+`.
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._@+-]{1,64}$")]
    pub username: String,
    /// 8 to 256 characters; stored as an argon2id hash.
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
    /// What the user may do.
    pub role: RoleName,
    /// The user's tenant: required unless `platform_admin`; a tenant
    /// admin's own tenant when absent.
    #[serde(default)]
    pub tenant_id: Option<String>,
}

impl Validate for NewUserBody {
    fn validate(&self, errors: &mut Vec<FieldError>) {
        check_username(errors, &self.username);
        check_password(errors, &self.password);
    }
}

/// Body of `PATCH /users/{id}`: absent fields are kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatchBody {
    /// New role.
    #[serde(default)]
    pub role: Option<RoleName>,
    /// New tenant; `null` clears it (platform admins only).
    #[serde(default, deserialize_with = "double_option")]
    pub tenant_id: Option<Option<String>>,
    /// Disable or re-enable logins.
    #[serde(default)]
    pub disabled: Option<bool>,
    /// New password, 8 to 256 characters.
    #[serde(default)]
    #[schema(min_length = 8, max_length = 256)]
    pub password: Option<String>,
}

impl Validate for UserPatchBody {
    fn validate(&self, errors: &mut Vec<FieldError>) {
        if let Some(p) = &self.password {
            check_password(errors, p);
        }
    }
}

/// Query of `GET /users`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Rows per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Only this tenant's users (tenant admins: always their own).
    pub tenant_id: Option<String>,
}

impl Validate for UserQuery {
    fn validate(&self, errors: &mut Vec<FieldError>) {
        check_limit(errors, self.limit);
    }
}

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user, delete_user))
}

/// The user `id` if the caller may see it: platform admins see everyone,
/// tenant admins their tenant's users, developers themselves (403 for the
/// rest of their tenant); anyone else's is 404.
async fn visible_user(st: &AdminState, p: &Principal, id: &str) -> ApiResult<sy_store::User> {
    let u = st.store.get_user(id).await?;
    if p.is_platform() || u.id == p.id {
        return Ok(u);
    }
    match &u.tenant_id {
        Some(t) if p.sees_tenant(t) => {
            p.require_admin()?;
            Ok(u)
        }
        _ => Err(ApiError::not_found("user", id)),
    }
}

/// Lists users (platform and tenant admins).
#[utoipa::path(get, path = "/admin/v1/users", tag = "users", params(UserQuery),
    responses((status = 200, description = "One page of users", body = UserPage)))]
async fn list_users(
    State(st): State<AdminState>,
    p: Principal,
    QueryParams(q): QueryParams<UserQuery>,
) -> ApiResult<axum::Json<UserPage>> {
    p.require_admin()?;
    let paged = match p.scope(q.tenant_id) {
        Scope::Nothing => empty(),
        scope => {
            let filter = UserFilter {
                tenant_id: scope.tenant(),
            };
            st.store
                .list_users(&filter, &page(q.limit, q.after))
                .await?
        }
    };
    Ok(axum::Json(UserPage::from_paged(paged)))
}

/// Creates a user. Tenant admins create `tenant_admin` and `developer`
/// users of their own tenant only.
#[utoipa::path(post, path = "/admin/v1/users", tag = "users", request_body = NewUserBody,
    responses((status = 201, description = "Created", body = User,
        headers(("ETag" = String, description = "Strong ETag: the version in quotes")))))]
async fn create_user(
    State(st): State<AdminState>,
    p: Principal,
    JsonBody(body): JsonBody<NewUserBody>,
) -> ApiResult<Response> {
    p.require_admin()?;
    let role: Role = body.role.into();
    let tenant_id = if p.is_platform() {
        body.tenant_id
    } else {
        if role == Role::PlatformAdmin {
            return Err(ApiError::forbidden(
                "only platform admins create platform admins",
            ));
        }
        let t = body.tenant_id.or_else(|| p.tenant_id.clone());
        if let Some(t) = &t {
            p.see_tenant(t, "tenant", t)?;
        }
        t
    };
    if role == Role::PlatformAdmin && tenant_id.is_some() {
        return Err(ApiError::field(
            "tenant_id",
            "a platform admin has no tenant",
        ));
    }
    if let Some(t) = &tenant_id {
        st.store.get_tenant(t).await?;
    }
    let new = NewUser {
        username: body.username,
        password: body.password,
        role,
        tenant_id,
    };
    let u = st.store.create_user(&p.actor(), new).await?;
    st.changed();
    Ok(tagged(StatusCode::CREATED, u.version, User::from(u)))
}

/// Reads one user.
#[utoipa::path(get, path = "/admin/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, description = "The user", body = User,
        headers(("ETag" = String, description = "Strong ETag: the version in quotes")))))]
async fn get_user(
    State(st): State<AdminState>,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let u = visible_user(&st, &p, &id).await?;
    Ok(tagged(StatusCode::OK, u.version, User::from(u)))
}

/// Updates a user (role, tenant, disabled, password).
#[utoipa::path(patch, path = "/admin/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "User id")), request_body = UserPatchBody,
    responses((status = 200, description = "Updated", body = User,
        headers(("ETag" = String, description = "Strong ETag: the version in quotes")))))]
async fn update_user(
    State(st): State<AdminState>,
    p: Principal,
    Path(id): Path<String>,
    if_match: IfMatch,
    JsonBody(body): JsonBody<UserPatchBody>,
) -> ApiResult<Response> {
    let current = visible_user(&st, &p, &id).await?;
    p.require_admin()?;
    if !p.is_platform() {
        if body.role == Some(RoleName::PlatformAdmin) {
            return Err(ApiError::forbidden(
                "only platform admins create platform admins",
            ));
        }
        if let Some(t) = &body.tenant_id {
            match t {
                Some(t) => p.see_tenant(t, "tenant", t)?,
                None => return Err(ApiError::forbidden("only platform admins clear a tenant")),
            }
        }
    }
    if let Some(Some(t)) = &body.tenant_id {
        st.store.get_tenant(t).await?;
    }
    let expected = if_match.expected(current.version)?;
    let patch = UserPatch {
        role: body.role.map(Role::from),
        tenant_id: body.tenant_id,
        disabled: body.disabled,
        password: body.password,
    };
    let u = st
        .store
        .update_user(&p.actor(), &id, patch, expected)
        .await?;
    st.changed();
    Ok(tagged(StatusCode::OK, u.version, User::from(u)))
}

/// Deletes a user and their sessions.
#[utoipa::path(delete, path = "/admin/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "User id")),
    responses((status = 204, description = "Deleted")))]
async fn delete_user(
    State(st): State<AdminState>,
    p: Principal,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    let current = visible_user(&st, &p, &id).await?;
    p.require_admin()?;
    let expected = if_match.expected(current.version)?;
    st.store.delete_user(&p.actor(), &id, expected).await?;
    st.changed();
    Ok(StatusCode::NO_CONTENT)
}
