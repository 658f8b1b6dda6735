//! Converse response and error bodies → canonical.

use sy_llm::ChatResponse;
use sy_llm::Usage;
use sy_llm::chat::{Choice, FinishReason, FunctionCall, ResponseMessage, Role, ToolCall};
use sy_llm::usage::{CACHE_WRITE, CACHE_WRITE_LONG, PromptTokensDetails};

use super::wire::{ConverseResponse, ErrorBody, WireUsage};
use super::{JSON_TOOL, NAME};
use crate::error::{fallback_message, retry_after};
use crate::{ProviderError, ProviderErrorKind, TranslateError};

/// Extra field carrying reasoning text on messages and deltas (the field
/// DeepSeek, vLLM and OpenRouter use).
pub(super) const REASONING: &str = "reasoning_content";

/// A whole Converse answer. Bedrock sends no id or model name; both are
/// left empty for the endpoint to fill.
pub(super) fn parse(body: &[u8]) -> Result<ChatResponse, TranslateError> {
    let wire: ConverseResponse =
        sy_llm::from_json(body).map_err(|e| TranslateError::malformed(NAME, e))?;
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut calls = Vec::new();
    for block in wire.output.message.content {
        if let Some(t) = block.text {
            text.push_str(&t);
        }
        if let Some(r) = block.reasoning_content.and_then(|r| r.reasoning_text) {
            reasoning.push_str(&r.text);
        }
        match block.tool_use {
            Some(call) if call.name == JSON_TOOL => text.push_str(&call.input.to_string()),
            Some(call) => calls.push(ToolCall {
                id: call.tool_use_id,
                kind: "function".to_owned(),
                function: FunctionCall {
                    name: call.name,
                    arguments: call.input.to_string(),
                },
            }),
            None => {}
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
    if !reasoning.is_empty() {
        message.extra.insert(REASONING.to_owned(), reasoning.into());
    }
    let choice = Choice {
        index: 0,
        message,
        logprobs: None,
        finish_reason: Some(finish),
    };
    let mut response = ChatResponse::new(String::new(), 0, String::new(), vec![choice]);
    response.usage = Some(usage(&wire.usage));
    Ok(response)
}

/// Bedrock's stop reason as a finish reason. `tool_use` is `tool_calls`
/// only when a client tool was called (the JSON emulation tool is text).
pub(super) fn finish_reason(stop_reason: Option<&str>, called_tools: bool) -> FinishReason {
    match stop_reason {
        Some("max_tokens" | "model_context_window_exceeded") => FinishReason::Length,
        Some("tool_use") if called_tools => FinishReason::ToolCalls,
        Some("guardrail_intervened" | "content_filtered") => FinishReason::ContentFilter,
        // `end_turn`, `stop_sequence`, and anything new.
        _ => FinishReason::Stop,
    }
}

/// Usage in canonical form.
///
/// Convention: Bedrock's `inputTokens` counts only uncached input;
/// `cacheReadInputTokens` and `cacheWriteInputTokens` are reported beside
/// it, not inside (its `totalTokens` is ignored and recomputed). Canonical
/// `prompt_tokens` includes cached tokens, so it is the sum of all three,
/// and `cached_tokens` is the cache reads; cache writes are kept as
/// `prompt_tokens_details.cache_creation_tokens`, and those `cacheDetails`
/// gives a one-hour lifetime also as `cache_creation_1h_tokens` (Claude's
/// cost twice the input price, the five-minute ones 1.25 times), as the
/// Anthropic adapter reports them.
pub(super) fn usage(wire: &WireUsage) -> Usage {
    let input = wire.input_tokens.unwrap_or(0);
    let read = wire.cache_read_input_tokens.unwrap_or(0);
    // The total is optional on the wire: writes reported only by lifetime
    // still count (and bill), never fewer than their breakdown says.
    let (mut detailed, mut long) = (0u64, 0u64);
    for d in wire.cache_details.iter().flatten() {
        detailed = detailed.saturating_add(d.input_tokens);
        if d.ttl == "1h" {
            long = long.saturating_add(d.input_tokens);
        }
    }
    let written = wire.cache_write_input_tokens.unwrap_or(0).max(detailed);
    let mut details = PromptTokensDetails {
        cached_tokens: Some(read),
        extra: Default::default(),
    };
    if written > 0 {
        details.extra.insert(CACHE_WRITE.to_owned(), written.into());
    }
    if long > 0 {
        details
            .extra
            .insert(CACHE_WRITE_LONG.to_owned(), long.into());
    }
    let mut usage = Usage {
        prompt_tokens: input + read + written,
        completion_tokens: wire.output_tokens.unwrap_or(0),
        total_tokens: 0,
        prompt_tokens_details: Some(details),
        completion_tokens_details: None,
        extra: Default::default(),
    };
    usage.normalize();
    usage
}

/// An error answer: `{"message": ...}` with the error type in the
/// `x-amzn-errortype` header (`ThrottlingException:http://...`; the part
/// after `:` is dropped).
pub(super) fn error(
    status: http::StatusCode,
    headers: &http::HeaderMap,
    body: &[u8],
) -> ProviderError {
    let status = status.as_u16();
    let code = headers
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(':').next().unwrap_or_default().trim().to_owned())
        .filter(|v| !v.is_empty());
    let message = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .map(|b| b.message)
        .filter(|m| !m.is_empty());
    let mut error = match message {
        Some(message) => {
            let kind = classify(code.as_deref().unwrap_or_default(), &message, status);
            ProviderError::new(status, kind, message)
        }
        None => ProviderError::new(
            status,
            ProviderErrorKind::from_status(status),
            fallback_message(NAME, status, body),
        ),
    };
    error.code = code;
    error.retry_after = retry_after(headers);
    error
}

/// An exception frame inside a stream (sent after a 200), by its
/// `:exception-type`: the status is the one Bedrock documents for it.
pub(super) fn stream_error(kind: &str, message: String) -> ProviderError {
    let status = match kind {
        "validationException" => 400,
        "accessDeniedException" => 403,
        "resourceNotFoundException" => 404,
        "modelTimeoutException" => 408,
        "modelStreamErrorException" | "modelErrorException" => 424,
        "throttlingException" => 429,
        "serviceUnavailableException" => 503,
        _ => 500,
    };
    let mut error = ProviderError::new(status, classify(kind, &message, status), message);
    error.code = Some(kind.to_owned()).filter(|k| !k.is_empty());
    error
}

/// The kind an error type stands for, whatever its case (headers say
/// `ThrottlingException`, stream frames `throttlingException`).
fn classify(kind: &str, message: &str, status: u16) -> ProviderErrorKind {
    let lower = message.to_ascii_lowercase();
    match kind.to_ascii_lowercase().as_str() {
        "validationexception" if lower.contains("too long") || lower.contains("context window") => {
            ProviderErrorKind::ContextLength
        }
        "validationexception" => ProviderErrorKind::InvalidRequest,
        "throttlingexception" | "servicequotaexceededexception" | "modelnotreadyexception" => {
            ProviderErrorKind::RateLimit
        }
        "accessdeniedexception" => ProviderErrorKind::Permission,
        "unrecognizedclientexception"
        | "invalidsignatureexception"
        | "expiredtokenexception"
        | "incompletesignatureexception" => ProviderErrorKind::Auth,
        "resourcenotfoundexception" => ProviderErrorKind::NotFound,
        "modeltimeoutexception" => ProviderErrorKind::Timeout,
        "serviceunavailableexception" => ProviderErrorKind::Overloaded,
        "internalserverexception" | "modelstreamerrorexception" | "modelerrorexception" => {
            ProviderErrorKind::Server
        }
        _ => ProviderErrorKind::from_status(status),
    }
}
