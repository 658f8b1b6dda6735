//! [`PolicyError`]: every way a policy refuses a request, with the status,
//! stable code, blame class and extra response headers the edge needs to
//! answer it.

use std::time::Duration;

use http::header::{HeaderName, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, StatusCode};
use sy_core::ErrorClass;

/// `RateLimit-Limit` (IETF draft `draft-ietf-httpapi-ratelimit-headers`):
/// the bucket size.
pub const RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
/// `RateLimit-Remaining`: requests left right now.
pub const RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
/// `RateLimit-Reset`: seconds until the bucket is full again.
pub const RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

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
    #[error("rate limit exceeded: {limit}; retry after {}s", ceil_secs(*retry_after))]
    RateLimited {
        /// Which limit, e.g. `10 requests per 1s by client_ip`.
        limit: String,
        /// When a request would next be allowed.
        retry_after: Duration,
        /// The limit's capacity, for `RateLimit-Limit`.
        capacity: u64,
        /// Time until the bucket is full again, for `RateLimit-Reset`.
        reset_after: Duration,
    },
    /// A usage limit (requests, concurrency, tokens, spend) would be passed
    /// (429). The message names the limit, its usage and when it resets.
    #[error("{refusal}")]
    QuotaExceeded {
        /// The counter that refused, with its limit, usage and reset.
        refusal: Box<sy_state::Refusal>,
        /// The `x-ratelimit-*` values to send with the refusal.
        headers: crate::quota::RateLimitHeaders,
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
    /// The identity provider a token policy depends on (JWKS endpoint,
    /// introspection endpoint) failed or timed out (503): the caller's
    /// credential was not judged, so this is not a 401.
    #[error("identity provider unavailable: {0}")]
    IdentityProviderUnavailable(String),
}

impl PolicyError {
    /// HTTP status for the client.
    pub fn status(&self) -> StatusCode {
        match self {
            PolicyError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            PolicyError::Forbidden(_) => StatusCode::FORBIDDEN,
            PolicyError::RateLimited { .. } | PolicyError::QuotaExceeded { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            PolicyError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            PolicyError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PolicyError::IdentityProviderUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// Stable machine-readable code for the error body and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            PolicyError::Unauthorized(_) => "unauthorized",
            PolicyError::Forbidden(_) => "forbidden",
            PolicyError::RateLimited { .. } => "rate_limited",
            PolicyError::QuotaExceeded { refusal, .. } => quota_code(refusal),
            PolicyError::PayloadTooLarge { .. } => "payload_too_large",
            PolicyError::BadRequest(_) => "bad_request",
            PolicyError::IdentityProviderUnavailable(_) => "identity_provider_unavailable",
        }
    }

    /// Headers the edge adds to the error response: `WWW-Authenticate` on a
    /// 401 (RFC 9110 requires it), and `Retry-After` plus the `RateLimit-*`
    /// trio on a 429. Built on demand; most errors have none.
    pub fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        match self {
            PolicyError::Unauthorized(_) => {
                h.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            PolicyError::RateLimited {
                retry_after,
                capacity,
                reset_after,
                ..
            } => {
                // `Duration::MAX` means the request can never fit: a
                // Retry-After would be a lie, so leave it out.
                if *retry_after != Duration::MAX {
                    h.insert(RETRY_AFTER, HeaderValue::from(ceil_secs(*retry_after)));
                }
                h.insert(RATELIMIT_LIMIT, HeaderValue::from(*capacity));
                h.insert(RATELIMIT_REMAINING, HeaderValue::from(0u64));
                h.insert(RATELIMIT_RESET, HeaderValue::from(ceil_secs(*reset_after)));
            }
            PolicyError::QuotaExceeded { refusal, headers } => {
                if !refusal.never_fits() {
                    h.insert(
                        RETRY_AFTER,
                        HeaderValue::from(ceil_secs(refusal.retry_after)),
                    );
                }
                headers.write(&mut h);
            }
            _ => {}
        }
        h
    }

    /// Blame, for logs and metrics.
    pub fn class(&self) -> ErrorClass {
        match self {
            PolicyError::BadRequest(_) | PolicyError::PayloadTooLarge { .. } => ErrorClass::Client,
            PolicyError::IdentityProviderUnavailable(_) => ErrorClass::Upstream,
            _ => ErrorClass::Policy,
        }
    }
}

/// The code of a quota refusal, as OpenAI names them: a spent budget is
/// `insufficient_quota`, any other limit `rate_limit_exceeded`.
pub fn quota_code(refusal: &sy_state::Refusal) -> &'static str {
    match refusal.counter.measure.metric() {
        sy_state::Metric::Spend => "insufficient_quota",
        _ => "rate_limit_exceeded",
    }
}

/// Whole seconds, rounded up (a client told "0" would retry at once), at
/// least 1 for any non-zero duration.
pub fn ceil_secs(d: Duration) -> u64 {
    d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unauthorized_asks_for_a_bearer_token() {
        let e = PolicyError::Unauthorized("invalid API key".into());
        assert_eq!(e.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(e.headers()[WWW_AUTHENTICATE], "Bearer");
        assert!(PolicyError::Forbidden("no".into()).headers().is_empty());
    }

    #[test]
    fn rate_limited_rounds_retry_after_up() {
        let e = PolicyError::RateLimited {
            limit: "10 requests per 1s by route".into(),
            retry_after: Duration::from_millis(1001),
            capacity: 10,
            reset_after: Duration::from_millis(100),
        };
        let h = e.headers();
        assert_eq!(h[RETRY_AFTER], "2");
        assert_eq!(h[RATELIMIT_LIMIT], "10");
        assert_eq!(h[RATELIMIT_REMAINING], "0");
        assert_eq!(h[RATELIMIT_RESET], "1");
        assert_eq!(
            e.to_string(),
            "rate limit exceeded: 10 requests per 1s by route; retry after 2s"
        );
    }

    #[test]
    fn a_request_that_never_fits_gets_no_retry_after() {
        let e = PolicyError::RateLimited {
            limit: "x".into(),
            retry_after: Duration::MAX,
            capacity: 1,
            reset_after: Duration::ZERO,
        };
        assert!(e.headers().get(RETRY_AFTER).is_none());
        assert_eq!(ceil_secs(Duration::ZERO), 0);
        assert_eq!(ceil_secs(Duration::from_secs(3)), 3);
    }
}
