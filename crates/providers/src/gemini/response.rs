//! `GenerateContentResponse` and error bodies → canonical.

use std::time::Duration;

use sy_llm::chat::{Choice, FinishReason, FunctionCall, ResponseMessage, Role, ToolCall};
use sy_llm::usage::{CompletionTokensDetails, PromptTokensDetails};
use sy_llm::{ChatResponse, Usage};

use super::NAME;
use super::wire::{Candidate, ErrorEnvelope, GenerateResponse, UsageMetadata};
use crate::error::{fallback_message, retry_after};
use crate::{ProviderError, ProviderErrorKind, TranslateError};

/// Extra field carrying thinking text on messages and deltas.
pub(super) const REASONING: &str = "reasoning_content";

/// The synthesized id of a candidate's `k`-th function call (Gemini sends
/// none); the same in whole and streamed answers.
pub(super) fn call_id(k: usize) -> String {
    format!("call_{k}")
}

pub(super) fn parse(body: &[u8]) -> Result<ChatResponse, TranslateError> {
    let wire: GenerateResponse =
        sy_llm::from_json(body).map_err(|e| TranslateError::malformed(NAME, e))?;
    let blocked = wire
        .prompt_feedback
        .as_ref()
        .is_some_and(|f| f.block_reason.is_some());
    if wire.candidates.is_empty() && !blocked {
        return Err(TranslateError::malformed(NAME, "no candidates"));
    }
    let mut choices: Vec<Choice> = wire
        .candidates
        .into_iter()
        .enumerate()
        .map(|(position, candidate)| choice(position, candidate))
        .collect();
    if choices.is_empty() {
        // The prompt was blocked (`promptFeedback.blockReason`): no
        // candidate, which clients see as an empty filtered answer.
        choices.push(Choice {
            index: 0,
            message: ResponseMessage::text(""),
            logprobs: None,
            finish_reason: Some(FinishReason::ContentFilter),
        });
    }
    let mut response = ChatResponse::new(
        wire.response_id.unwrap_or_default(),
        0,
        wire.model_version.unwrap_or_default(),
        choices,
    );
    response.usage = wire.usage_metadata.as_ref().map(usage);
    Ok(response)
}

fn choice(position: usize, candidate: Candidate) -> Choice {
    let mut text = String::new();
    let mut thinking = String::new();
    let mut calls = Vec::new();
    for part in candidate.content.map(|c| c.parts).unwrap_or_default() {
        if let Some(call) = part.function_call {
            calls.push(ToolCall {
                id: call_id(calls.len()),
                kind: "function".to_owned(),
                function: FunctionCall {
                    name: call.name,
                    arguments: arguments(&call.args),
                },
            });
        } else if let Some(t) = part.text {
            if part.thought == Some(true) {
                thinking.push_str(&t);
            } else {
                text.push_str(&t);
            }
        }
    }
    let finish = finish_reason(candidate.finish_reason.as_deref(), !calls.is_empty());
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
    Choice {
        index: candidate
            .index
            .unwrap_or(u32::try_from(position).unwrap_or(u32::MAX)),
        message,
        logprobs: None,
        finish_reason: Some(finish),
    }
}

/// `args` as the JSON text OpenAI clients expect (`{}` when absent).
pub(super) fn arguments(args: &serde_json::Value) -> String {
    if args.is_null() {
        "{}".to_owned()
    } else {
        args.to_string()
    }
}

/// `Candidate.FinishReason` → finish reason. `STOP` after function calls is
/// `tool_calls` (Gemini has no separate reason). The blocking reasons
/// (SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII, IMAGE_SAFETY)
/// are `content_filter`; MALFORMED_FUNCTION_CALL, LANGUAGE, OTHER and
/// unknown values are `stop`.
pub(super) fn finish_reason(reason: Option<&str>, called_tools: bool) -> FinishReason {
    match reason {
        Some("MAX_TOKENS") => FinishReason::Length,
        Some(
            "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY",
        ) => FinishReason::ContentFilter,
        _ if called_tools => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    }
}

/// Usage in canonical form; the convention is in the module docs.
pub(super) fn usage(wire: &UsageMetadata) -> Usage {
    let thoughts = wire.thoughts_token_count.unwrap_or(0);
    let mut usage = Usage {
        prompt_tokens: wire.prompt_token_count.unwrap_or(0)
            + wire.tool_use_prompt_token_count.unwrap_or(0),
        completion_tokens: wire.candidates_token_count.unwrap_or(0) + thoughts,
        total_tokens: 0,
        prompt_tokens_details: Some(PromptTokensDetails {
            cached_tokens: Some(wire.cached_content_token_count.unwrap_or(0)),
            extra: Default::default(),
        }),
        completion_tokens_details: (thoughts > 0).then(|| CompletionTokensDetails {
            reasoning_tokens: Some(thoughts),
            extra: Default::default(),
        }),
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
        Ok(envelope) if !envelope.error.message.is_empty() => from_envelope(status, envelope),
        _ => ProviderError::new(
            status,
            ProviderErrorKind::from_status(status),
            fallback_message(NAME, status, body),
        ),
    };
    if let Some(after) = retry_after(headers) {
        error.retry_after = Some(after);
    }
    error
}

/// An `{"error":...}` object: from a body, or streamed after a 200 (then
/// the status is the error's own `code`).
pub(super) fn from_envelope(status: u16, envelope: ErrorEnvelope) -> ProviderError {
    let e = envelope.error;
    let status = if (400..600).contains(&status) {
        status
    } else {
        e.code.unwrap_or(500)
    };
    let kind = classify(e.status.as_deref(), &e.message, &e.details, status);
    let mut error = ProviderError::new(status, kind, e.message);
    if kind == ProviderErrorKind::Auth {
        // Gemini answers a bad key with 400 INVALID_ARGUMENT; clients
        // know a refused credential as 401.
        error.status = 401;
    }
    error.code = e.status;
    error.retry_after = retry_delay(&e.details);
    error
}

/// The kind from Google's canonical status (troubleshooting page), refined
/// by the `ErrorInfo` reason and the message where the status is vague.
fn classify(
    status_name: Option<&str>,
    message: &str,
    details: &[serde_json::Value],
    status: u16,
) -> ProviderErrorKind {
    let reason_is = |wanted: &str| {
        details
            .iter()
            .any(|d| d.get("reason").and_then(|r| r.as_str()) == Some(wanted))
    };
    match status_name {
        _ if reason_is("API_KEY_INVALID") => ProviderErrorKind::Auth,
        Some("INVALID_ARGUMENT") if message.contains("exceeds the maximum number of tokens") => {
            ProviderErrorKind::ContextLength
        }
        Some("INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE") => {
            ProviderErrorKind::InvalidRequest
        }
        Some("UNAUTHENTICATED") => ProviderErrorKind::Auth,
        Some("PERMISSION_DENIED") => ProviderErrorKind::Permission,
        Some("NOT_FOUND") => ProviderErrorKind::NotFound,
        Some("RESOURCE_EXHAUSTED") => ProviderErrorKind::RateLimit,
        Some("UNAVAILABLE") => ProviderErrorKind::Overloaded,
        Some("DEADLINE_EXCEEDED") => ProviderErrorKind::Timeout,
        Some("INTERNAL" | "UNKNOWN") => ProviderErrorKind::Server,
        _ => ProviderErrorKind::from_status(status),
    }
}

/// `google.rpc.RetryInfo.retryDelay` (`"22s"`, `"1.5s"`) in the details.
fn retry_delay(details: &[serde_json::Value]) -> Option<Duration> {
    details
        .iter()
        .filter_map(|d| d.get("retryDelay")?.as_str())
        .filter_map(|d| d.strip_suffix('s')?.parse::<f64>().ok())
        .find(|s| s.is_finite() && *s >= 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
}
