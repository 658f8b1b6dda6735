//! Reading a whole response and error bodies.

use sy_llm::ChatResponse;

use super::wire::{ErrorEnvelope, ErrorObject};
use crate::error::{fallback_message, retry_after};
use crate::{ProviderError, ProviderErrorKind, TranslateError};

/// A whole Chat Completions response, `usage` normalised.
pub(crate) fn parse(provider: &'static str, body: &[u8]) -> Result<ChatResponse, TranslateError> {
    ChatResponse::from_openai_json(body).map_err(|e| TranslateError::malformed(provider, e))
}

/// An error answer in any of the OpenAI-like shapes.
pub(crate) fn error(
    provider: &'static str,
    status: http::StatusCode,
    headers: &http::HeaderMap,
    body: &[u8],
) -> ProviderError {
    let status = status.as_u16();
    let envelope: ErrorEnvelope = serde_json::from_slice(body).unwrap_or_default();
    let (message, kind_name, code) = match envelope.error {
        Some(ErrorObject::Object {
            message,
            kind,
            code,
        }) => (message, kind, code),
        Some(ErrorObject::Text(text)) => (Some(text.into()), None, None),
        None => (
            envelope.message.or(envelope.detail),
            envelope.kind,
            envelope.code,
        ),
    };
    let message = match message {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => s,
        Some(serde_json::Value::Null) | None => fallback_message(provider, status, body),
        Some(other) => other.to_string(),
    };
    let code = match code {
        Some(serde_json::Value::String(s)) => Some(s),
        _ => kind_name,
    };
    let kind = classify(status, code.as_deref(), &message);
    let mut error = ProviderError::new(status, kind, message);
    error.code = code;
    error.retry_after = retry_after(headers);
    error
}

/// The kind from the provider's code or message when they are specific,
/// else from the status.
fn classify(status: u16, code: Option<&str>, message: &str) -> ProviderErrorKind {
    let lower = message.to_ascii_lowercase();
    match code {
        Some("context_length_exceeded" | "string_above_max_length") => {
            return ProviderErrorKind::ContextLength;
        }
        Some("content_filter" | "content_policy_violation") => {
            return ProviderErrorKind::ContentFilter;
        }
        _ => {}
    }
    if (400..500).contains(&status)
        && (lower.contains("maximum context length") || lower.contains("context window"))
    {
        return ProviderErrorKind::ContextLength;
    }
    ProviderErrorKind::from_status(status)
}
