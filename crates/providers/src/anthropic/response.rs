//! Messages API response and error bodies → canonical.

use sy_llm::ChatResponse;
use sy_llm::Usage;
use sy_llm::chat::{Choice, FinishReason, FunctionCall, ResponseMessage, Role, ToolCall};
use sy_llm::usage::{CACHE_WRITE, CACHE_WRITE_LONG, PromptTokensDetails};

use super::wire::{ErrorEnvelope, MessagesResponse, ResponseBlock, WireUsage};
use super::{JSON_TOOL, NAME};
use crate::error::{fallback_message, retry_after};
use crate::{ProviderError, ProviderErrorKind, TranslateError};

/// Extra field carrying thinking text on messages and deltas.
pub(super) const REASONING: &str = "reasoning_content";

pub(super) fn parse(body: &[u8]) -> Result<ChatResponse, TranslateError> {
    let wire: MessagesResponse =
        sy_llm::from_json(body).map_err(|e| TranslateError::malformed(NAME, e))?;
    let mut text = String::new();
    let mut thinking = String::new();
    let mut calls = Vec::new();
    for block in wire.content {
        match block {
            ResponseBlock::Text { text: t } => text.push_str(&t),
            ResponseBlock::ToolUse { name, input, .. } if name == JSON_TOOL => {
                text.push_str(&input.to_string());
            }
            ResponseBlock::ToolUse { id, name, input } => calls.push(ToolCall {
                id,
                kind: "function".to_owned(),
                function: FunctionCall {
                    name,
                    arguments: input.to_string(),
                },
            }),
            ResponseBlock::Thinking { thinking: t } => thinking.push_str(&t),
            ResponseBlock::Other => {}
        }
    }
    let finish = finish_reason(wire.stop_reason.as_deref(), !calls.is_empty());
    let mut message = ResponseMessage {
        role: Role::Assistant,
        content: (!text.is_empty() || calls.is_empty()).then_some(text),
        refusal: None,
        tool_calls: (!calls.is_empty()).then_some(calls),
        extra: Default::default(),
    };
    if !thinking.is_empty() {
        message.extra.insert(REASONING.to_owned(), thinking.into());
    }
    let choice = Choice {
        index: 0,
        message,
        logprobs: None,
        finish_reason: Some(finish),
    };
    let mut response = ChatResponse::new(wire.id, 0, wire.model, vec![choice]);
    response.usage = Some(usage(&wire.usage));
    Ok(response)
}

/// Anthropic's stop reason as a finish reason. `tool_use` is `tool_calls`
/// only when a client tool was called (the JSON emulation tool is text).
pub(super) fn finish_reason(stop_reason: Option<&str>, called_tools: bool) -> FinishReason {
    match stop_reason {
        Some("max_tokens" | "model_context_window_exceeded") => FinishReason::Length,
        Some("tool_use") if called_tools => FinishReason::ToolCalls,
        Some("refusal") => FinishReason::ContentFilter,
        _ => FinishReason::Stop,
    }
}

/// Usage in canonical form.
///
/// Convention: Anthropic's `input_tokens` counts only uncached input;
/// `cache_read_input_tokens` and `cache_creation_input_tokens` are reported
/// beside it, not inside. Canonical `prompt_tokens` includes cached tokens,
/// so it is the sum of all three, and `cached_tokens` is the cache reads.
/// Cache writes are kept as `prompt_tokens_details.cache_creation_tokens`,
/// the one-hour ones among them also as `cache_creation_1h_tokens` (they
/// cost more than plain input, the one-hour ones more again).
pub(super) fn usage(wire: &WireUsage) -> Usage {
    let input = wire.input_tokens.unwrap_or(0);
    let read = wire.cache_read_input_tokens.unwrap_or(0);
    let created = wire.cache_creation_input_tokens.unwrap_or(0);
    let mut details = PromptTokensDetails {
        cached_tokens: Some(read),
        extra: Default::default(),
    };
    let long = wire
        .cache_creation
        .as_ref()
        .and_then(|c| c.ephemeral_1h_input_tokens)
        .unwrap_or(0)
        .min(created);
    if created > 0 {
        details.extra.insert(CACHE_WRITE.to_owned(), created.into());
    }
    if long > 0 {
        details
            .extra
            .insert(CACHE_WRITE_LONG.to_owned(), long.into());
    }
    let mut usage = Usage {
        prompt_tokens: input + read + created,
        completion_tokens: wire.output_tokens.unwrap_or(0),
        total_tokens: 0,
        prompt_tokens_details: Some(details),
        completion_tokens_details: None,
        extra: Default::default(),
    };
    usage.normalize();
    usage
}

/// An error answer.
pub(super) fn error(
    status: http::StatusCode,
    headers: &http::HeaderMap,
    body: &[u8],
) -> ProviderError {
    let status = status.as_u16();
    let mut error = match serde_json::from_slice::<ErrorEnvelope>(body) {
        Ok(envelope) if !envelope.error.message.is_empty() => {
            let kind = classify(&envelope.error.kind, &envelope.error.message, status);
            let mut error = ProviderError::new(status, kind, envelope.error.message);
            error.code = Some(envelope.error.kind).filter(|k| !k.is_empty());
            error
        }
        _ => ProviderError::new(
            status,
            ProviderErrorKind::from_status(status),
            fallback_message(NAME, status, body),
        ),
    };
    error.retry_after = retry_after(headers);
    error
}

/// An `error` event inside a stream (sent after a 200): the status is the
/// one the error type stands for.
pub(super) fn stream_error(kind: &str, message: String) -> ProviderError {
    let status = match kind {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "permission_error" | "billing_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        _ => 500,
    };
    let mut error = ProviderError::new(status, classify(kind, &message, status), message);
    error.code = Some(kind.to_owned()).filter(|k| !k.is_empty());
    error
}

fn classify(kind: &str, message: &str, status: u16) -> ProviderErrorKind {
    match kind {
        "invalid_request_error" if message.contains("prompt is too long") => {
            ProviderErrorKind::ContextLength
        }
        "invalid_request_error" | "request_too_large" => ProviderErrorKind::InvalidRequest,
        "authentication_error" => ProviderErrorKind::Auth,
        "permission_error" | "billing_error" => ProviderErrorKind::Permission,
        "not_found_error" => ProviderErrorKind::NotFound,
        "rate_limit_error" => ProviderErrorKind::RateLimit,
        "overloaded_error" => ProviderErrorKind::Overloaded,
        "timeout_error" => ProviderErrorKind::Timeout,
        "api_error" => ProviderErrorKind::Server,
        _ => ProviderErrorKind::from_status(status),
    }
}
