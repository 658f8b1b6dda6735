//! Failures of the AI endpoint, each with its status, class and OpenAI body.
//!
//! Building an error has no side effects (nothing is logged here); the proxy
//! logs once at the edge. Messages of internal errors never reach clients.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode, header};
use sy_core::ErrorClass;
use sy_http::Body;
use sy_llm::openai::{ErrorBody, RequestError, error_type_for_status};
use sy_policy::RateLimitHeaders;
use sy_providers::ProviderErrorKind;
use sy_state::{Metric, Refusal};

/// Why an AI request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AiError {
    /// The body is not a valid request (400).
    #[error("{0}")]
    InvalidRequest(#[from] RequestError),
    /// The model is not configured, or not allowed on this route (404). The
    /// two cases answer alike so a route does not reveal other routes'
    /// models.
    #[error("The model `{model}` does not exist or you do not have access to it.")]
    ModelNotFound {
        /// The name the client asked for.
        model: String,
    },
    /// The caller's key scopes or subscriptions do not cover the model (403).
    #[error("{message}")]
    Forbidden {
        /// Which product gates the model and the subscription's state, or
        /// the key's scope.
        message: String,
    },
    /// No endpoint at this path (404).
    #[error("Invalid URL ({method} {path})")]
    UnknownEndpoint {
        /// Request method.
        method: String,
        /// Request path.
        path: String,
    },
    /// The endpoint exists but not for this method (405).
    #[error("Method {method} is not allowed on {path}; use {allow}.")]
    MethodNotAllowed {
        /// Request method.
        method: String,
        /// Request path.
        path: String,
        /// The allowed method, for the `Allow` header.
        allow: &'static str,
    },
    /// The prompt estimate plus the completion cap exceeds the deployment's
    /// context window (400).
    #[error(
        "This model's maximum context length is {window} tokens. However, you requested {total} tokens ({prompt} in the messages, {completion} in the completion). Please reduce the length of the messages or completion."
    )]
    ContextLengthExceeded {
        /// The deployment's context window.
        window: u64,
        /// Estimated prompt tokens.
        prompt: u64,
        /// The completion cap asked for (0 when none).
        completion: u64,
        /// Prompt plus completion.
        total: u64,
    },
    /// The provider answered with an error; its status is passed on.
    #[error("{message}")]
    Provider {
        /// The provider's HTTP status.
        status: u16,
        /// What kind of failure it is: the router retries, fails over or
        /// gives up by it.
        kind: ProviderErrorKind,
        /// The provider's message, safe to show.
        message: String,
        /// How long the provider asked callers to wait.
        retry_after: Option<Duration>,
    },
    /// Every deployment the model (and its fallbacks) could use was skipped
    /// before a call: cooling down after failures, or at its `rpm`/`tpm`
    /// limit (503).
    #[error(
        "No deployment of model `{model}` is available right now: {}.",
        reasons.join("; ")
    )]
    NoDeploymentAvailable {
        /// The model the client asked for.
        model: String,
        /// Why each deployment was skipped (`openai/gpt-4o: cooling down`).
        reasons: Vec<String>,
    },
    /// A usage limit of the caller, route or model would be passed (429).
    /// The message names the limit, its usage and when it resets.
    #[error("{message}")]
    QuotaExceeded {
        /// `tenant "acme" spend per day limit of $5.00 reached: …`.
        message: String,
        /// OpenAI's error type: `requests`, `tokens` or, for a spent
        /// budget, `insufficient_quota`.
        kind: &'static str,
        /// `rate_limit_exceeded`, or `insufficient_quota` for spend.
        code: &'static str,
        /// Until the limit's window ends; `None` when the request can
        /// never fit.
        retry_after: Option<Duration>,
        /// The `x-ratelimit-*` values sent with the refusal (boxed: the
        /// error stays small).
        headers: Box<RateLimitHeaders>,
    },
    /// The provider's kind has no adapter yet (501).
    #[error("Provider `{provider}` of kind `{kind}` is not supported by this gateway build yet.")]
    ProviderUnsupported {
        /// Provider name.
        provider: String,
        /// Provider kind.
        kind: String,
    },
    /// A bug in the gateway (500). The detail is for logs only.
    #[error("internal error: {0}")]
    Internal(String),
    /// A routed call that ended in `error`, with what the router did, so
    /// the client learns from the same headers as on success which
    /// deployment failed and after how many calls. Everything else (status,
    /// body, class, reason, wait) is `error`'s.
    #[error("{error}")]
    Routed {
        /// The error the client gets.
        error: Box<AiError>,
        /// The router's attempts and the deployment that answered last.
        trace: CallTrace,
    },
}

/// What the router did for a call that failed, for the
/// `x-switchyard-*` routing headers of the error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallTrace {
    /// Provider calls made; 0 when every deployment was skipped.
    pub attempts: u32,
    /// `<provider>/<model>` whose error is returned; `None` when no
    /// deployment was tried.
    pub deployment: Option<String>,
    /// The fallback model of that deployment, when not the model asked for.
    pub fallback: Option<String>,
}

impl CallTrace {
    /// After `attempts` calls for model `asked`, `last` (the deployment's
    /// `<provider>/<model>` and its model's name) failed last, if any did.
    pub(crate) fn new(attempts: u32, last: Option<(String, String)>, asked: &str) -> CallTrace {
        let (deployment, fallback) = match last {
            Some((label, model)) => (Some(label), (model != asked).then_some(model)),
            None => (None, None),
        };
        CallTrace {
            attempts,
            deployment,
            fallback,
        }
    }
}

impl AiError {
    /// A provider error of the kind `status` implies.
    pub fn provider(status: u16, message: impl Into<String>) -> AiError {
        AiError::Provider {
            status,
            kind: ProviderErrorKind::from_status(status),
            message: message.into(),
            retry_after: None,
        }
    }

    /// `self` as the end of a routed call traced by `trace`.
    pub fn routed(self, trace: CallTrace) -> AiError {
        let error = match self {
            AiError::Routed { error, .. } => error,
            other => Box::new(other),
        };
        AiError::Routed { error, trace }
    }

    /// The router's trace, for an error that ended a routed call.
    pub fn trace(&self) -> Option<&CallTrace> {
        match self {
            AiError::Routed { trace, .. } => Some(trace),
            _ => None,
        }
    }

    /// The HTTP status sent to the client.
    pub fn status(&self) -> StatusCode {
        match self {
            AiError::Routed { error, .. } => error.status(),
            AiError::InvalidRequest(_) | AiError::ContextLengthExceeded { .. } => {
                StatusCode::BAD_REQUEST
            }
            AiError::ModelNotFound { .. } | AiError::UnknownEndpoint { .. } => {
                StatusCode::NOT_FOUND
            }
            AiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            AiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            AiError::Provider { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY)
            }
            AiError::NoDeploymentAvailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AiError::QuotaExceeded { .. } => StatusCode::TOO_MANY_REQUESTS,
            AiError::ProviderUnsupported { .. } => StatusCode::NOT_IMPLEMENTED,
            AiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Who is to blame.
    pub fn class(&self) -> ErrorClass {
        match self {
            AiError::Routed { error, .. } => error.class(),
            AiError::InvalidRequest(_)
            | AiError::ContextLengthExceeded { .. }
            | AiError::ModelNotFound { .. }
            | AiError::UnknownEndpoint { .. }
            | AiError::MethodNotAllowed { .. } => ErrorClass::Client,
            AiError::Forbidden { .. } | AiError::QuotaExceeded { .. } => ErrorClass::Policy,
            AiError::Provider { status, .. } if *status == 429 => ErrorClass::Policy,
            AiError::Provider { status, .. } if *status < 500 => ErrorClass::Client,
            AiError::Provider { .. } | AiError::NoDeploymentAvailable { .. } => {
                ErrorClass::Upstream
            }
            AiError::ProviderUnsupported { .. } | AiError::Internal(_) => ErrorClass::Internal,
        }
    }

    /// Stable label for metrics and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            AiError::Routed { error, .. } => error.reason(),
            AiError::InvalidRequest(_) => "invalid_request",
            AiError::ContextLengthExceeded { .. } => "context_length_exceeded",
            AiError::ModelNotFound { .. } => "model_not_found",
            AiError::UnknownEndpoint { .. } => "unknown_endpoint",
            AiError::MethodNotAllowed { .. } => "method_not_allowed",
            AiError::Forbidden { .. } => "forbidden",
            AiError::Provider { .. } => "provider_error",
            AiError::NoDeploymentAvailable { .. } => "no_deployment_available",
            AiError::QuotaExceeded { .. } => "quota_exceeded",
            AiError::ProviderUnsupported { .. } => "provider_unsupported",
            AiError::Internal(_) => "internal",
        }
    }

    /// The OpenAI error body clients see.
    pub fn to_body(&self) -> ErrorBody {
        match self {
            AiError::Routed { error, .. } => error.to_body(),
            AiError::InvalidRequest(e) => e.to_body(),
            AiError::ContextLengthExceeded { .. } => ErrorBody::new(
                self.to_string(),
                "invalid_request_error",
                Some("messages".into()),
                Some("context_length_exceeded".into()),
            ),
            AiError::ModelNotFound { .. } => ErrorBody::new(
                self.to_string(),
                "invalid_request_error",
                Some("model".into()),
                Some("model_not_found".into()),
            ),
            AiError::UnknownEndpoint { .. } => ErrorBody::new(
                self.to_string(),
                "invalid_request_error",
                None,
                Some("unknown_url".into()),
            ),
            AiError::MethodNotAllowed { .. } => ErrorBody::new(
                self.to_string(),
                "invalid_request_error",
                None,
                Some("method_not_allowed".into()),
            ),
            AiError::Forbidden { .. } => ErrorBody::new(
                self.to_string(),
                "permission_error",
                Some("model".into()),
                Some("model_not_allowed".into()),
            ),
            AiError::Provider {
                status, message, ..
            } => {
                let code = match status {
                    429 => Some("rate_limit_exceeded".to_owned()),
                    _ => None,
                };
                ErrorBody::new(message.clone(), error_type_for_status(*status), None, code)
            }
            AiError::NoDeploymentAvailable { .. } => ErrorBody::new(
                self.to_string(),
                "server_error",
                None,
                Some("no_deployment_available".into()),
            ),
            AiError::QuotaExceeded { kind, code, .. } => {
                ErrorBody::new(self.to_string(), *kind, None, Some((*code).to_owned()))
            }
            AiError::ProviderUnsupported { .. } => ErrorBody::new(
                self.to_string(),
                "server_error",
                None,
                Some("provider_unsupported".into()),
            ),
            AiError::Internal(_) => ErrorBody::new(
                "The gateway had an internal error while processing your request.",
                "server_error",
                None,
                None,
            ),
        }
    }

    /// The whole error response. The error itself rides in the response
    /// extensions so the edge can log it once.
    pub fn into_response(self) -> Response<Body> {
        let mut response = Response::new(sy_http::full(self.to_body().to_json()));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let AiError::MethodNotAllowed { allow, .. } = &self {
            headers.insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        self.set_headers(headers);
        response.extensions_mut().insert(self);
        response
    }

    /// How long the client should wait before trying again: the
    /// provider's own wait, passed on only with a 429 or 503 (the
    /// statuses RFC 9110 and OpenAI's SDKs read `Retry-After` on).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            AiError::Routed { error, .. } => error.retry_after(),
            AiError::Provider {
                status: 429 | 503,
                retry_after,
                ..
            } => *retry_after,
            AiError::QuotaExceeded { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The 429 for a refused quota reservation.
    pub fn quota(refusal: &Refusal, headers: RateLimitHeaders) -> AiError {
        let kind = match refusal.counter.measure.metric() {
            Metric::Tokens => "tokens",
            Metric::Spend => "insufficient_quota",
            Metric::Requests | Metric::Concurrency => "requests",
        };
        AiError::QuotaExceeded {
            message: refusal.to_string(),
            kind,
            code: sy_policy::quota_code(refusal),
            retry_after: (!refusal.never_fits()).then_some(refusal.retry_after),
            headers: Box::new(headers),
        }
    }

    /// A policy's refusal, for the AI endpoint's dialects: quota refusals
    /// become [`AiError::QuotaExceeded`]; others `None` (the edge's body).
    pub fn from_policy(error: &sy_policy::PolicyError) -> Option<AiError> {
        match error {
            sy_policy::PolicyError::QuotaExceeded { refusal, headers } => {
                Some(AiError::quota(refusal, *headers))
            }
            _ => None,
        }
    }

    /// The headers every error response carries beside its body, in both
    /// error shapes, OpenAI's and Anthropic's: `Retry-After` (whole
    /// seconds, rounded up, as HTTP requires) and `retry-after-ms` (the
    /// exact wait, read first by OpenAI's SDKs) when
    /// [`retry_after`](Self::retry_after) knows a wait; a quota refusal's
    /// `x-ratelimit-*`; a routed call's `x-switchyard-deployment`,
    /// `-attempts` and `-fallback`.
    pub fn set_headers(&self, headers: &mut HeaderMap) {
        match self {
            AiError::QuotaExceeded {
                headers: limits, ..
            } => limits.write(headers),
            AiError::Routed { error, trace } => {
                crate::respond::set_routing_headers(
                    headers,
                    trace.deployment.as_deref(),
                    trace.attempts,
                    trace.fallback.as_deref(),
                );
                return error.set_headers(headers);
            }
            _ => {}
        }
        let Some(wait) = self.retry_after() else {
            return;
        };
        let nanos = wait.as_nanos();
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from(capped(nanos.div_ceil(1_000_000_000))),
        );
        headers.insert(
            HeaderName::from_static("retry-after-ms"),
            HeaderValue::from(capped(nanos.div_ceil(1_000_000))),
        );
    }
}

/// `value` capped at `u64::MAX` (a wait that long is as good as forever).
fn capped(value: u128) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}

impl From<sy_providers::ProviderError> for AiError {
    fn from(error: sy_providers::ProviderError) -> AiError {
        AiError::Provider {
            status: error.status,
            kind: error.kind,
            message: error.message,
            retry_after: error.retry_after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_status_passes_through() {
        let e = AiError::provider(429, "slow down");
        assert_eq!(e.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.class(), ErrorClass::Policy);
        assert_eq!(e.to_body().error.kind, "rate_limit_error");
        let e = AiError::provider(1000, "odd");
        assert_eq!(e.status(), StatusCode::BAD_GATEWAY);
    }

    #[test]
    fn retry_after_headers_round_up_to_whole_seconds() {
        let with_wait = |status, wait| AiError::Provider {
            status,
            kind: ProviderErrorKind::from_status(status),
            message: "wait".into(),
            retry_after: Some(wait),
        };
        let headers = with_wait(429, Duration::from_millis(1500))
            .into_response()
            .headers()
            .clone();
        assert_eq!(headers["retry-after"], "2");
        assert_eq!(headers["retry-after-ms"], "1500");
        let headers = with_wait(503, Duration::from_secs(7)).into_response();
        assert_eq!(headers.headers()["retry-after"], "7");
        assert_eq!(headers.headers()["retry-after-ms"], "7000");
        // A sub-millisecond remainder rounds the milliseconds up too.
        let headers = with_wait(429, Duration::from_micros(1)).into_response();
        assert_eq!(headers.headers()["retry-after"], "1");
        assert_eq!(headers.headers()["retry-after-ms"], "1");
        // Other statuses do not ask clients to wait.
        let response = with_wait(500, Duration::from_secs(7)).into_response();
        assert!(!response.headers().contains_key("retry-after"));
        let response = AiError::provider(429, "no wait known").into_response();
        assert!(!response.headers().contains_key("retry-after"));
        assert!(!response.headers().contains_key("retry-after-ms"));
    }

    #[test]
    fn a_routed_error_answers_as_its_own_error_plus_the_routing_headers() {
        let inner = AiError::Provider {
            status: 429,
            kind: ProviderErrorKind::RateLimit,
            message: "slow down".into(),
            retry_after: Some(Duration::from_secs(2)),
        };
        let trace = CallTrace::new(3, Some(("b/real-b".into(), "backup".into())), "primary");
        let routed = inner.clone().routed(trace.clone());
        assert_eq!(routed.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(routed.class(), inner.class());
        assert_eq!(routed.reason(), "provider_error");
        assert_eq!(routed.to_string(), "slow down");
        assert_eq!(routed.to_body().to_json(), inner.to_body().to_json());
        assert_eq!(routed.trace(), Some(&trace));
        // Routing an error again replaces its trace; errors never nest.
        let bare = CallTrace::new(0, None, "primary");
        assert_eq!(
            routed.clone().routed(bare.clone()),
            inner.clone().routed(bare)
        );
        let response = routed.into_response();
        let headers = response.headers();
        assert_eq!(headers["x-switchyard-attempts"], "3");
        assert_eq!(headers["x-switchyard-deployment"], "b/real-b");
        assert_eq!(headers["x-switchyard-fallback"], "backup");
        assert_eq!(headers["retry-after"], "2");
        // The asked model's own deployment is no fallback; an error before
        // any call names no deployment.
        let own = CallTrace::new(1, Some(("a/real-a".into(), "primary".into())), "primary");
        assert_eq!(own.fallback, None);
        let response = AiError::provider(500, "x")
            .routed(CallTrace::new(0, None, "m"))
            .into_response();
        assert_eq!(response.headers()["x-switchyard-attempts"], "0");
        assert!(!response.headers().contains_key("x-switchyard-deployment"));
        assert!(!response.headers().contains_key("x-switchyard-fallback"));
    }

    #[test]
    fn internal_detail_is_hidden() {
        let body = AiError::Internal("secret path /etc".into())
            .to_body()
            .to_json();
        assert!(!body.contains("secret"));
    }
}
