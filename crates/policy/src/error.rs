use std::time::Duration;

use http::StatusCode;
use sy_core::ErrorClass;

/// Why a policy refused a request. Building one has no side effects; the
/// edge turns it into a status and an error body and logs it once.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// No credential, or one that is not known (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Known caller, not allowed here (403).
    #[error("{0}")]
    Forbidden(String),
    /// A rate limit is exhausted (429).
    #[error("rate limit exceeded: {limit}; retry after {}s", retry_after.as_secs().max(1))]
    RateLimited {
        /// Which limit, e.g. `10 requests per 1s by client_ip`.
        limit: String,
        /// When a request would next be allowed.
        retry_after: Duration,
        /// The limit's capacity, for `RateLimit-Limit`.
        capacity: u64,
    },
    /// The request body is larger than allowed (413).
    #[error("request body exceeds the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The request is malformed for a policy (400), e.g. a bad CORS preflight.
    #[error("{0}")]
    BadRequest(String),
}

impl PolicyError {
    /// HTTP status for the client.
    pub fn status(&self) -> StatusCode {
        match self {
            PolicyError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            PolicyError::Forbidden(_) => StatusCode::FORBIDDEN,
            PolicyError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            PolicyError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            PolicyError::BadRequest(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// Stable machine-readable code for the error body and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            PolicyError::Unauthorized(_) => "unauthorized",
            PolicyError::Forbidden(_) => "forbidden",
            PolicyError::RateLimited { .. } => "rate_limited",
            PolicyError::PayloadTooLarge { .. } => "payload_too_large",
            PolicyError::BadRequest(_) => "bad_request",
        }
    }

    /// Blame, for logs and metrics.
    pub fn class(&self) -> ErrorClass {
        match self {
            PolicyError::BadRequest(_) | PolicyError::PayloadTooLarge { .. } => ErrorClass::Client,
            _ => ErrorClass::Policy,
        }
    }
}
