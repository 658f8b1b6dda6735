//! `/login`, `/logout`, `/me`: admin sessions. A session token is shown
//! once, in the login answer; the store keeps only its SHA-256.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::users::{RoleName, User};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::{JsonBody, MAX_NAME, Validate, check_len};
use crate::state::AdminState;

/// How long a login session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

/// Body of `POST /login`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// Login name.
    #[schema(max_length = 64)]
    pub username: String,
    /// Password.
    #[schema(max_length = 256)]
    pub password: String,
}

impl Validate for LoginBody {
    fn validate(&self, errors: &mut Vec<FieldError>) {
        check_len(errors, "username", &self.username, MAX_NAME);
        check_len(errors, "password", &self.password, 256);
    }
}

/// Answer of `POST /login`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token for `Authorization: Bearer <token>`; shown only here.
    pub token: String,
    /// Unix milliseconds after which the token is refused.
    pub expires_at: i64,
    /// The logged-in user.
    pub user: User,
}

/// Answer of `GET /me`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// User id, or `bootstrap` for the bootstrap token.
    pub id: String,
    /// What the caller may do.
    pub role: RoleName,
    /// The caller's tenant (`null` for platform admins).
    pub tenant_id: Option<String>,
    /// The user record (`null` for the bootstrap token).
    pub user: Option<User>,
}

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

/// Exchanges a username and password for a session token.
#[utoipa::path(post, path = "/admin/v1/login", tag = "session", request_body = LoginBody,
    responses((status = 200, description = "Logged in", body = LoginResponse)))]
async fn login(
    State(st): State<AdminState>,
    JsonBody(body): JsonBody<LoginBody>,
) -> ApiResult<Json<LoginResponse>> {
    let user = st
        .store
        .verify_password(&body.username, &body.password)
        .await?
        .ok_or_else(|| ApiError::unauthorized("unknown user or wrong password"))?;
    let (token, session) = st.store.create_session(&user.id, SESSION_TTL).await?;
    Ok(Json(LoginResponse {
        token,
        expires_at: session.expires_at,
        user: user.into(),
    }))
}

/// Ends the caller's session (the bootstrap token cannot be logged out).
#[utoipa::path(post, path = "/admin/v1/logout", tag = "session",
    responses((status = 204, description = "Logged out")))]
async fn logout(State(st): State<AdminState>, p: Principal) -> ApiResult<StatusCode> {
    if p.user.is_some() {
        st.store.delete_session(&p.token).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Who the caller is.
#[utoipa::path(get, path = "/admin/v1/me", tag = "session",
    responses((status = 200, description = "The caller", body = Me)))]
async fn me(p: Principal) -> Json<Me> {
    Json(Me {
        id: p.id,
        role: p.role.into(),
        tenant_id: p.tenant_id,
        user: p.user.map(User::from),
    })
}
