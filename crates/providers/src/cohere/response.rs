//! v2 Chat response and error bodies → canonical.

use sy_llm::chat::{Choice, FinishReason, FunctionCall, ResponseMessage, Role, ToolCall};
use sy_llm::usage::PromptTokensDetails;
use sy_llm::{ChatResponse, Usage};

use super::NAME;
use super::wire::{ChatResponse as WireResponse, WireUsage};
use crate::{ProviderError, ProviderErrorKind, TranslateError};

/// Extra field carrying thinking text and tool plans.
pub(super) const REASONING: &str = "reasoning_content";

pub(super) fn parse(body: &[u8]) -> Result<ChatResponse, TranslateError> {
    let wire: WireResponse =
        sy_llm::from_json(body).map_err(|e| TranslateError::malformed(NAME, e))?;
    let finish = finish_reason(wire.finish_reason.as_deref(), None)?;
    let mut text = String::new();
    let mut thinking = wire.message.tool_plan.clone().unwrap_or_default();
    for item in wire.message.content {
        match item.kind.as_str() {
            "thinking" => thinking.push_str(&item.thinking.or(item.text).unwrap_or_default()),
            _ => text.push_str(&item.text.unwrap_or_default()),
        }
    }
    let calls: Vec<ToolCall> = wire
        .message
        .tool_calls
        .into_iter()
        .map(|call| {
            let function = call.function.unwrap_or_default();
            ToolCall {
                id: call.id.unwrap_or_default(),
                kind: "function".to_owned(),
                function: FunctionCall {
                    name: function.name.unwrap_or_default(),
                    arguments: function.arguments.unwrap_or_else(|| "{}".to_owned()),
                },
            }
        })
        .collect();
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
    let mut response = ChatResponse::new(wire.id, 0, String::new(), vec![choice]);
    response.usage = wire.usage.as_ref().map(usage);
    Ok(response)
}

/// Cohere's finish reason (Chat reference, `finish_reason`). `ERROR` and
/// `TIMEOUT` mean the answer failed: an upstream error, with Cohere's
/// error text when the stream gave one.
pub(super) fn finish_reason(
    reason: Option<&str>,
    error: Option<String>,
) -> Result<FinishReason, TranslateError> {
    match reason {
        Some("MAX_TOKENS") => Ok(FinishReason::Length),
        Some("TOOL_CALL") => Ok(FinishReason::ToolCalls),
        Some("ERROR") => Err(TranslateError::Upstream(ProviderError::new(
            500,
            ProviderErrorKind::Server,
            error.unwrap_or_else(|| "Cohere ended the answer with an error.".to_owned()),
        ))),
        Some("TIMEOUT") => Err(TranslateError::Upstream(ProviderError::new(
            504,
            ProviderErrorKind::Timeout,
            error.unwrap_or_else(|| "Cohere timed out generating the answer.".to_owned()),
        ))),
        _ => Ok(FinishReason::Stop),
    }
}

/// Usage in canonical form; the convention is in the module docs.
pub(super) fn usage(wire: &WireUsage) -> Usage {
    let pick = |billed: Option<f64>, tokens: Option<f64>| {
        billed
            .or(tokens)
            .filter(|n| n.is_finite() && *n >= 0.0)
            .unwrap_or(0.0)
            .round() as u64
    };
    let billed = wire.billed_units.clone().unwrap_or_default();
    let tokens = wire.tokens.clone().unwrap_or_default();
    let mut usage = Usage {
        prompt_tokens: pick(billed.input_tokens, tokens.input_tokens),
        completion_tokens: pick(billed.output_tokens, tokens.output_tokens),
        total_tokens: 0,
        prompt_tokens_details: Some(PromptTokensDetails {
            cached_tokens: Some(0),
            extra: Default::default(),
        }),
        completion_tokens_details: None,
        extra: Default::default(),
    };
    usage.normalize();
    usage
}

/// An error answer. Cohere's body is `{"id": ..., "message": ...}`, which
/// the OpenAI-like reader already understands; the statuses are refined
/// from the Errors reference (498 invalid token → 401, 402 → permission,
/// 499 cancelled → 400, "too many tokens" → context length).
pub(super) fn error(
    status: http::StatusCode,
    headers: &http::HeaderMap,
    body: &[u8],
) -> ProviderError {
    let code = status.as_u16();
    let mut error = crate::openai::response::error(NAME, status, headers, body);
    match code {
        498 => {
            error.status = 401;
            error.kind = ProviderErrorKind::Auth;
        }
        402 => error.kind = ProviderErrorKind::Permission,
        499 => {
            error.status = 400;
            error.kind = ProviderErrorKind::InvalidRequest;
        }
        400 | 422
            if error
                .message
                .to_ascii_lowercase()
                .contains("too many tokens") =>
        {
            error.kind = ProviderErrorKind::ContextLength;
        }
        _ => {}
    }
    error
}
