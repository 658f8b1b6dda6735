//! A whole (non-streamed) chat response.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Extra;
use super::message::Role;
use super::tools::ToolCall;
use crate::usage::Usage;

/// The `object` value of a chat response.
pub const CHAT_COMPLETION_OBJECT: &str = "chat.completion";

/// A Chat Completions response (`"object": "chat.completion"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// Completion id; the gateway sets `chatcmpl-<request id>`.
    pub id: String,
    /// Always `chat.completion`.
    pub object: String,
    /// Unix seconds when the completion was created.
    pub created: u64,
    /// The model name; the gateway sets the public name the client used.
    pub model: String,
    /// One per `n`.
    pub choices: Vec<Choice>,
    /// Token counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Backend configuration fingerprint, when the provider reports one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// Fields not typed here (`service_tier`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

impl ChatResponse {
    /// A response with the fixed `object` and nothing optional set.
    pub fn new(
        id: impl Into<String>,
        created: u64,
        model: impl Into<String>,
        choices: Vec<Choice>,
    ) -> Self {
        ChatResponse {
            id: id.into(),
            object: CHAT_COMPLETION_OBJECT.to_owned(),
            created,
            model: model.into(),
            choices,
            usage: None,
            system_fingerprint: None,
            extra: Extra::new(),
        }
    }

    /// Decode an OpenAI Chat Completions body, with `usage` normalised
    /// (`total_tokens` recomputed: some compatible servers omit it or send
    /// zero).
    pub fn from_openai_json(body: &[u8]) -> Result<ChatResponse, serde_json::Error> {
        let mut response: ChatResponse = crate::from_json(body)?;
        if let Some(usage) = response.usage.as_mut() {
            usage.normalize();
        }
        Ok(response)
    }
}

/// One generated alternative.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// Position among the `n` choices.
    pub index: u32,
    /// The assistant's message.
    pub message: ResponseMessage,
    /// Log probabilities; `null` unless asked for. Always serialized, as
    /// OpenAI does.
    #[serde(default)]
    pub logprobs: Option<Value>,
    /// Why generation stopped. Always serialized.
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
}

/// The assistant message inside a choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseMessage {
    /// Always `assistant`.
    pub role: Role,
    /// The text; `null` when the model only called tools. Always serialized.
    #[serde(default)]
    pub content: Option<String>,
    /// A refusal message from safety systems; `null` otherwise. Always
    /// serialized.
    #[serde(default)]
    pub refusal: Option<String>,
    /// Tool calls the model made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    /// Fields not typed here (`annotations`, `audio`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

impl ResponseMessage {
    /// An assistant message with text content.
    pub fn text(content: impl Into<String>) -> Self {
        ResponseMessage {
            role: Role::Assistant,
            content: Some(content.into()),
            refusal: None,
            tool_calls: None,
            extra: Extra::new(),
        }
    }

    /// An assistant message that only calls tools.
    pub fn tool_calls(calls: Vec<ToolCall>) -> Self {
        ResponseMessage {
            role: Role::Assistant,
            content: None,
            refusal: None,
            tool_calls: Some(calls),
            extra: Extra::new(),
        }
    }
}

/// Why the model stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// Natural end or a stop sequence.
    Stop,
    /// The token cap was reached.
    Length,
    /// The model called tools.
    ToolCalls,
    /// Content was withheld by a filter.
    ContentFilter,
    /// Deprecated: the model called a function.
    FunctionCall,
}
