//! The admin listener's handler: `/admin/v1/…` goes to the admin REST API
//! (sy-admin, when there is a store), everything else (`/healthz`,
//! `/readyz`, `/metrics`) to the proxy's operational handler.

use std::sync::Arc;

use http::{Request, Response};
use http_body_util::BodyExt;
use sy_http::RequestBody;
use sy_http::{Body, ConnInfo, Handler};
use sy_proxy::AdminHandler;
use tower::ServiceExt;

/// Path prefix of the admin REST API.
const API_PREFIX: &str = "/admin/";

/// Routes admin-listener requests to the REST API or the operational
/// endpoints.
pub struct AdminListener {
    ops: Arc<AdminHandler>,
    api: Option<axum::Router>,
}

impl AdminListener {
    /// `api` is `None` without a store: `/admin/…` then answers 404 from
    /// the operational handler.
    pub fn new(ops: Arc<AdminHandler>, api: Option<axum::Router>) -> Arc<Self> {
        Arc::new(AdminListener { ops, api })
    }
}

impl Handler for AdminListener {
    async fn call(&self, req: Request<RequestBody>, conn: Arc<ConnInfo>) -> Response<Body> {
        match &self.api {
            Some(api) if req.uri().path().starts_with(API_PREFIX) => {
                // Router's error type is Infallible: every failure is a response.
                let response = match api.clone().oneshot(req).await {
                    Ok(r) => r,
                    Err(never) => match never {},
                };
                response.map(|b| b.map_err(Into::into).boxed_unsync())
            }
            _ => self.ops.call(req, conn).await,
        }
    }
}
