//! Canonical [`ChatResponse`] → Anthropic [`MessageResponse`].
//!
//! The first choice becomes the message (Anthropic has no `n`): its text
//! (or refusal) a `text` block, each tool call a `tool_use` block with the
//! arguments parsed back into a JSON value. Usage is converted from OpenAI's
//! convention (cached tokens inside `prompt_tokens`) to Anthropic's (cached
//! tokens beside `input_tokens`).

use serde_json::Value;

use super::STOP_SEQUENCE_KEY;
use super::wire::{
    CacheCreation, MESSAGE_TYPE, MessageResponse, MessageUsage, ResponseBlock, StopReason,
};
use crate::chat::{ChatResponse, Extra, FinishReason};
use crate::usage::Usage;

/// Translate a whole response. `id` and `model` are the gateway's
/// (`msg_<request id>`, the public model name).
pub fn from_chat_response(response: &ChatResponse, id: &str, model: &str) -> MessageResponse {
    let mut content = Vec::new();
    let mut stop = (StopReason::EndTurn, None);
    if let Some(choice) = response.choices.first() {
        let message = &choice.message;
        let text = message
            .content
            .as_deref()
            .filter(|t| !t.is_empty())
            .or(message.refusal.as_deref().filter(|t| !t.is_empty()));
        if let Some(text) = text {
            content.push(ResponseBlock::Text {
                text: text.to_owned(),
            });
        }
        for call in message.tool_calls.iter().flatten() {
            content.push(ResponseBlock::ToolUse {
                id: call.id.clone(),
                name: call.function.name.clone(),
                input: tool_input(&call.function.arguments),
            });
        }
        stop = stop_reason(choice.finish_reason, &message.extra);
    }
    if content.is_empty() {
        // Clients commonly read `content[0]`; an empty answer is one empty
        // text block rather than no block.
        content.push(ResponseBlock::Text {
            text: String::new(),
        });
    }
    MessageResponse {
        id: id.to_owned(),
        kind: MESSAGE_TYPE.to_owned(),
        role: "assistant".to_owned(),
        model: model.to_owned(),
        content,
        stop_reason: Some(stop.0),
        stop_sequence: stop.1,
        usage: response.usage.as_ref().map(usage).unwrap_or_default(),
    }
}

/// Anthropic's stop reason (and matched sequence) for a canonical finish.
///
/// `stop` is `stop_sequence` when the provider named the matched sequence
/// under [`STOP_SEQUENCE_KEY`] in `extra` (the choice's message, or the
/// finishing delta), `end_turn` otherwise; OpenAI does not say which.
pub fn stop_reason(finish: Option<FinishReason>, extra: &Extra) -> (StopReason, Option<String>) {
    let sequence = extra
        .get(STOP_SEQUENCE_KEY)
        .and_then(Value::as_str)
        .map(str::to_owned);
    match finish {
        Some(FinishReason::Length) => (StopReason::MaxTokens, None),
        Some(FinishReason::ToolCalls | FinishReason::FunctionCall) => (StopReason::ToolUse, None),
        Some(FinishReason::ContentFilter) => (StopReason::Refusal, None),
        Some(FinishReason::Stop) | None => match sequence {
            Some(s) => (StopReason::StopSequence, Some(s)),
            None => (StopReason::EndTurn, None),
        },
    }
}

/// Anthropic usage from canonical usage: cache reads and writes move out
/// of the input count into `cache_read_input_tokens` and
/// `cache_creation_input_tokens`, as Anthropic reports them, the writes
/// also split by lifetime (`cache_creation`).
pub fn usage(usage: &Usage) -> MessageUsage {
    let tokens = usage.to_tokens();
    MessageUsage {
        input_tokens: tokens
            .prompt
            .saturating_sub(tokens.cached)
            .saturating_sub(tokens.cache_write),
        output_tokens: tokens.completion,
        cache_creation_input_tokens: Some(tokens.cache_write),
        cache_read_input_tokens: Some(tokens.cached),
        cache_creation: Some(CacheCreation {
            ephemeral_1h_input_tokens: tokens.cache_write_long,
            ephemeral_5m_input_tokens: tokens.cache_write.saturating_sub(tokens.cache_write_long),
        }),
    }
}

/// A tool call's arguments as the `input` value. Models may emit invalid
/// JSON; rather than drop it, invalid text is passed on as a JSON string
/// (empty text is `{}`).
pub fn tool_input(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return Value::Object(serde_json::Map::new());
    }
    serde_json::from_str(arguments).unwrap_or_else(|_| Value::String(arguments.to_owned()))
}
