//! Every failure the data plane can answer with, and the one place that turns
//! it into a status and a JSON body (OpenAI's error shape, which every
//! OpenAI-compatible client already parses).

use http::{HeaderValue, Response, StatusCode, header};
use sy_core::ErrorClass;
use sy_http::{Body, full};
use sy_policy::PolicyError;

use crate::upstream::{NoTarget, NoTargetReason};

/// Which upstream timeout fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutKind {
    /// TCP/TLS connect.
    Connect,
    /// Waiting for response headers.
    ResponseHeader,
    /// The whole call.
    Total,
}

impl TimeoutKind {
    fn as_str(self) -> &'static str {
        match self {
            TimeoutKind::Connect => "connect",
            TimeoutKind::ResponseHeader => "response_header",
            TimeoutKind::Total => "total",
        }
    }
}

/// A request the proxy could not complete.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The request itself is malformed (bad path, bad header).
    #[error("{0}")]
    BadRequest(String),
    /// No route matches.
    #[error("no route matches {method} {path}")]
    NoRoute {
        /// Request method.
        method: String,
        /// Request path.
        path: String,
    },
    /// A policy refused the request.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The body grew past the limit while streaming.
    #[error("request body exceeds the limit of {0} bytes")]
    BodyTooLarge(u64),
    /// The client's body could not be read.
    #[error("could not read the request body: {0}")]
    BodyRead(String),
    /// No target can take the request.
    #[error("{0}")]
    NoTarget(NoTarget),
    /// The upstream could not be reached or broke the exchange.
    #[error("upstream {upstream} target {target}: {detail}")]
    Upstream {
        /// Pool name.
        upstream: String,
        /// Target address.
        target: String,
        /// What happened.
        detail: String,
    },
    /// An upstream timeout fired.
    #[error("upstream {upstream} target {target}: {} timeout after {ms} ms", kind.as_str())]
    Timeout {
        /// Pool name.
        upstream: String,
        /// Target address (empty when no attempt had started).
        target: String,
        /// Which timeout.
        kind: TimeoutKind,
        /// Its value.
        ms: u128,
    },
    /// A gateway bug or resource exhaustion; details stay in the log.
    #[error("internal error")]
    Internal(String),
}

impl ProxyError {
    /// Status for the client.
    pub fn status(&self) -> StatusCode {
        match self {
            ProxyError::BadRequest(_) | ProxyError::BodyRead(_) => StatusCode::BAD_REQUEST,
            ProxyError::NoRoute { .. } => StatusCode::NOT_FOUND,
            ProxyError::Policy(p) => p.status(),
            ProxyError::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ProxyError::NoTarget(_) => StatusCode::SERVICE_UNAVAILABLE,
            ProxyError::Upstream { .. } => StatusCode::BAD_GATEWAY,
            ProxyError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            ProxyError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable code for the body, the access log and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            ProxyError::BadRequest(_) => "bad_request",
            ProxyError::BodyRead(_) => "body_read_error",
            ProxyError::NoRoute { .. } => "route_not_found",
            ProxyError::Policy(p) => p.code(),
            ProxyError::BodyTooLarge(_) => "payload_too_large",
            ProxyError::NoTarget(n) => match n.reason {
                NoTargetReason::CircuitOpen => "circuit_open",
                _ => "no_healthy_target",
            },
            ProxyError::Upstream { .. } => "upstream_error",
            ProxyError::Timeout { kind, .. } => match kind {
                TimeoutKind::Connect => "upstream_connect_timeout",
                TimeoutKind::ResponseHeader => "upstream_response_timeout",
                TimeoutKind::Total => "upstream_total_timeout",
            },
            ProxyError::Internal(_) => "internal_error",
        }
    }

    /// Blame, for logs.
    pub fn class(&self) -> ErrorClass {
        match self {
            ProxyError::BadRequest(_)
            | ProxyError::BodyRead(_)
            | ProxyError::NoRoute { .. }
            | ProxyError::BodyTooLarge(_) => ErrorClass::Client,
            ProxyError::Policy(p) => p.class(),
            ProxyError::NoTarget(_) | ProxyError::Upstream { .. } | ProxyError::Timeout { .. } => {
                ErrorClass::Upstream
            }
            ProxyError::Internal(_) => ErrorClass::Internal,
        }
    }

    fn error_type(&self) -> &'static str {
        match self.status().as_u16() {
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            413 | 400 => "invalid_request_error",
            429 => "rate_limit_error",
            502 | 503 => "upstream_error",
            504 => "timeout_error",
            _ => "api_error",
        }
    }

    /// The response the client sees.
    pub fn to_response(&self, request_id: &str) -> Response<Body> {
        let body = serde_json::json!({
            "error": {
                "message": self.to_string(),
                "type": self.error_type(),
                "code": self.code(),
                "request_id": request_id,
            }
        });
        let mut res = Response::new(full(body.to_string()));
        *res.status_mut() = self.status();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let ProxyError::Policy(p) = self {
            h.extend(p.headers());
        }
        res
    }
}
