//! The admin REST API under `/admin/v1`: tenants, users and sessions,
//! consumers, API keys, products, subscriptions and their approval
//! workflow, the audit log, and routes, upstreams, providers and models
//! (kept as their config spec JSON), with the OpenAPI 3.1 document at
//! `GET /admin/v1/openapi.json`.
//!
//! Invariants:
//! - Every route but `openapi.json` and `login` authenticates
//!   ([`auth::Principal`]); a tenant user never sees another tenant's rows:
//!   they answer 404 like missing ones, and lists are narrowed to the
//!   caller's tenant.
//! - Every client mistake answers a 4xx with the one error shape
//!   `{"error":{"type","message"[,"fields"][,"current_version"]}}`
//!   ([`error::ApiError`]); a 500 means a bug or a failing database.
//! - Secrets leave the API once: a key's secret in the `POST /keys` answer;
//!   provider credentials are accepted on write and answered as
//!   `"<redacted>"`. Password, key and token hashes are never returned.
//! - Every single-entity response carries a strong `ETag: "<version>"`;
//!   `If-Match` on a mutation must match it (412 otherwise) and may be
//!   omitted (last write wins).
//! - Every successful mutation calls [`AdminState::on_change`] so the
//!   binary can rebuild the data plane at once.
//! - The OpenAPI document and the router are built by the same calls
//!   ([`utoipa_axum`]), so the document lists exactly the served routes.
//!
//! Contents: [`state`], [`error`], [`extract`] (JSON body, query, If-Match;
//! bodies are read through `strict`, which refuses arrays for objects),
//! [`auth`], [`schemas`] (spec types' schemas from schemars), [`openapi`],
//! and one module per entity group under [`routes`].

pub mod auth;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod routes;
pub mod schemas;
pub mod state;
mod strict;

use std::sync::OnceLock;

use axum::Json;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::{ApiError, ErrorBody};
pub use state::AdminState;

/// Every admin route, with its OpenAPI operation.
fn api() -> OpenApiRouter<AdminState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(openapi_json))
        .merge(routes::session::routes())
        .merge(routes::tenants::routes())
        .merge(routes::users::routes())
        .merge(routes::consumers::routes())
        .merge(routes::keys::routes())
        .merge(routes::products::routes())
        .merge(routes::subscriptions::routes())
        .merge(routes::audit::routes())
        .merge(routes::resources::routes())
}

/// The admin API router, to be served as is (paths start with `/admin/v1`).
/// Unknown paths answer 404 and unknown methods 405, both as JSON errors.
pub fn router(state: AdminState) -> axum::Router {
    let (router, _) = api().split_for_parts();
    router
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// The OpenAPI 3.1 document describing [`router`].
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, doc) = api().split_for_parts();
    openapi::complete(doc)
}

/// Serves the OpenAPI document (no authentication).
#[utoipa::path(get, path = "/admin/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "This OpenAPI 3.1 document", content_type = "application/json",
        body = Object)))]
async fn openapi_json() -> Response {
    static DOC: OnceLock<serde_json::Value> = OnceLock::new();
    let doc = DOC.get_or_init(|| openapi::to_json(&openapi()));
    Json(doc.clone()).into_response()
}

async fn unknown_route(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no admin endpoint at {}", uri.path()),
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not support the method",
    )
}
