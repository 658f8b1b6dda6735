//! What can go wrong in translation, and upstream errors classified.

use std::time::Duration;

/// Why a request or an answer could not be translated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranslateError {
    /// The request uses a parameter the provider cannot take and the
    /// provider's policy (or the parameter's nature) says refuse. The
    /// client's fault: 400.
    #[error("parameter `{param}` is not supported by provider {provider}")]
    Unsupported {
        /// The parameter, as a path into the request (`logprobs`,
        /// `messages[2].content[0].type`).
        param: String,
        /// The wire protocol (`anthropic`, `mistral`, ...).
        provider: &'static str,
    },
    /// The request cannot be expressed for this provider as written (tool
    /// arguments that are not JSON for a provider that needs an object).
    /// The client's fault: 400.
    #[error("invalid value for `{param}`: {message}")]
    Invalid {
        /// The parameter at fault.
        param: String,
        /// What is wrong with it.
        message: String,
    },
    /// The provider answered 2xx with bytes that are not its format. The
    /// provider's fault: 502.
    #[error("provider {provider} sent a malformed response: {detail}")]
    Malformed {
        /// The wire protocol.
        provider: &'static str,
        /// What could not be read, for logs.
        detail: String,
    },
    /// The provider reported an error inside a successful response (an
    /// `error` event in a stream).
    #[error("{0}")]
    Upstream(ProviderError),
}

impl TranslateError {
    pub(crate) fn malformed(provider: &'static str, detail: impl std::fmt::Display) -> Self {
        TranslateError::Malformed {
            provider,
            detail: detail.to_string(),
        }
    }

    /// Whether the client is to blame (answer 400).
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            TranslateError::Unsupported { .. } | TranslateError::Invalid { .. }
        )
    }
}

/// What kind of failure an upstream error is, whatever the provider called
/// it. The router reads it to decide on retries and fallbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderErrorKind {
    /// Too many requests or tokens; retry after a pause.
    RateLimit,
    /// The provider's credential was refused (401).
    Auth,
    /// The credential lacks access to this model or feature (403).
    Permission,
    /// The request was malformed or refused as such (400, 422).
    InvalidRequest,
    /// The model or deployment does not exist (404).
    NotFound,
    /// The prompt is longer than the model's context window; a larger
    /// model may succeed.
    ContextLength,
    /// Content was refused by a safety filter.
    ContentFilter,
    /// The provider is overloaded (Anthropic 529, 503); retry elsewhere.
    Overloaded,
    /// The provider timed out (408, 504).
    Timeout,
    /// Any other provider-side failure (5xx).
    Server,
}

impl ProviderErrorKind {
    /// Stable label for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderErrorKind::RateLimit => "rate_limit",
            ProviderErrorKind::Auth => "auth",
            ProviderErrorKind::Permission => "permission",
            ProviderErrorKind::InvalidRequest => "invalid_request",
            ProviderErrorKind::NotFound => "not_found",
            ProviderErrorKind::ContextLength => "context_length",
            ProviderErrorKind::ContentFilter => "content_filter",
            ProviderErrorKind::Overloaded => "overloaded",
            ProviderErrorKind::Timeout => "timeout",
            ProviderErrorKind::Server => "server",
        }
    }

    /// Whether trying again (here or at another deployment) may help.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ProviderErrorKind::RateLimit
                | ProviderErrorKind::Overloaded
                | ProviderErrorKind::Timeout
                | ProviderErrorKind::Server
        )
    }

    /// The kind an HTTP status implies when the body says nothing better.
    pub fn from_status(status: u16) -> ProviderErrorKind {
        match status {
            401 => ProviderErrorKind::Auth,
            403 => ProviderErrorKind::Permission,
            404 => ProviderErrorKind::NotFound,
            408 | 504 => ProviderErrorKind::Timeout,
            429 => ProviderErrorKind::RateLimit,
            503 | 529 => ProviderErrorKind::Overloaded,
            400..=499 => ProviderErrorKind::InvalidRequest,
            _ => ProviderErrorKind::Server,
        }
    }
}

/// An error a provider reported, classified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    /// The status to give the client: the provider's, except that statuses
    /// clients do not know are mapped (Anthropic's 529 → 503, anything not
    /// an error status → 502).
    pub status: u16,
    /// The classification.
    pub kind: ProviderErrorKind,
    /// The provider's own message, passed on to the client.
    pub message: String,
    /// The provider's own error type or code (`overloaded_error`,
    /// `context_length_exceeded`), when it sent one.
    pub code: Option<String>,
    /// How long the provider asked callers to wait (`retry-after`,
    /// `retry-after-ms`).
    pub retry_after: Option<Duration>,
}

impl ProviderError {
    /// An error of `kind` with the client-facing status derived from the
    /// provider's `status`.
    pub fn new(status: u16, kind: ProviderErrorKind, message: impl Into<String>) -> Self {
        ProviderError {
            status: client_status(status),
            kind,
            message: message.into(),
            code: None,
            retry_after: None,
        }
    }
}

/// The status a client gets for a provider status.
fn client_status(status: u16) -> u16 {
    match status {
        529 => 503,
        400..=599 => status,
        _ => 502,
    }
}

/// `retry-after-ms` (milliseconds, OpenAI) or `retry-after` (seconds; an
/// HTTP date is ignored, as no clock is read here).
pub(crate) fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|n| n.is_finite() && *n >= 0.0)
    };
    // `try_`: a wait too long for a `Duration` (`retry-after: 1e30`) would
    // make `from_secs_f64` panic; it is ignored instead.
    if let Some(ms) = number("retry-after-ms") {
        return Duration::try_from_secs_f64(ms / 1000.0).ok();
    }
    number("retry-after").and_then(|s| Duration::try_from_secs_f64(s).ok())
}

/// A message for an error body that could not be read.
pub(crate) fn fallback_message(provider: &str, status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    // HTML error pages from load balancers say nothing a client can use.
    if text.is_empty() || text.len() > 300 || text.starts_with('<') {
        format!("Provider {provider} answered with status {status}.")
    } else {
        format!("Provider {provider} answered with status {status}: {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
        pairs
            .iter()
            .map(|(n, v)| {
                (
                    http::HeaderName::from_static(n),
                    http::HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn retry_after_reads_ms_first_then_seconds() {
        let both = headers(&[("retry-after", "7"), ("retry-after-ms", "1500")]);
        assert_eq!(retry_after(&both), Some(Duration::from_millis(1500)));
        let secs = headers(&[("retry-after", " 2.5 ")]);
        assert_eq!(retry_after(&secs), Some(Duration::from_millis(2500)));
        let date = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]);
        assert_eq!(retry_after(&date), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "-1")])), None);
    }

    #[test]
    fn absurd_waits_are_ignored_not_a_panic() {
        assert_eq!(retry_after(&headers(&[("retry-after", "1e30")])), None);
        assert_eq!(retry_after(&headers(&[("retry-after-ms", "1e300")])), None);
    }
}
