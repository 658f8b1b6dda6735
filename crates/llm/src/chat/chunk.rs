//! Stream chunks (`"object": "chat.completion.chunk"`).
//!
//! A stream is: one chunk per choice carrying `delta.role`, chunks carrying
//! `delta.content` pieces or `delta.tool_calls` pieces, one chunk per choice
//! with `finish_reason` and an empty delta, then, when the client set
//! `stream_options.include_usage`, one chunk with empty `choices` and
//! `usage`. The SSE layer ends it with `data: [DONE]`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Extra;
use super::message::Role;
use super::response::FinishReason;
use crate::usage::Usage;

/// The `object` value of a stream chunk.
pub const CHAT_COMPLETION_CHUNK_OBJECT: &str = "chat.completion.chunk";

/// One chunk of a streamed chat response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatChunk {
    /// Completion id, the same on every chunk of a stream.
    pub id: String,
    /// Always `chat.completion.chunk`.
    pub object: String,
    /// Unix seconds, the same on every chunk of a stream.
    pub created: u64,
    /// The model name; the gateway sets the public name.
    pub model: String,
    /// Backend configuration fingerprint, when reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// Choice deltas; empty on the usage chunk.
    pub choices: Vec<ChunkChoice>,
    /// Token counts; only on the final usage chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Fields not typed here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ChatChunk {
    /// A chunk with the fixed `object`, the given choices and no usage.
    pub fn new(
        id: impl Into<String>,
        created: u64,
        model: impl Into<String>,
        choices: Vec<ChunkChoice>,
    ) -> Self {
        ChatChunk {
            id: id.into(),
            object: CHAT_COMPLETION_CHUNK_OBJECT.to_owned(),
            created,
            model: model.into(),
            system_fingerprint: None,
            choices,
            usage: None,
            extra: Extra::new(),
        }
    }

    /// Whether this is the usage-only chunk that closes a stream.
    pub fn is_usage_only(&self) -> bool {
        self.choices.is_empty() && self.usage.is_some()
    }
}

/// One choice's increment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkChoice {
    /// Which choice this delta extends.
    pub index: u32,
    /// The increment.
    pub delta: Delta,
    /// Log probabilities; `null` unless asked for. Always serialized.
    #[serde(default)]
    pub logprobs: Option<Value>,
    /// Set on the choice's last chunk. Always serialized (`null` before).
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
}

impl ChunkChoice {
    /// A choice increment that is not the last.
    pub fn delta(index: u32, delta: Delta) -> Self {
        ChunkChoice {
            index,
            delta,
            logprobs: None,
            finish_reason: None,
        }
    }

    /// The closing increment: empty delta and a finish reason.
    pub fn finish(index: u32, reason: FinishReason) -> Self {
        ChunkChoice {
            index,
            delta: Delta::default(),
            logprobs: None,
            finish_reason: Some(reason),
        }
    }
}

/// What a chunk adds to the message. Absent fields add nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    /// Set on the first chunk of a choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Next piece of text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Next piece of a refusal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Next pieces of tool calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
    /// Fields not typed here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A piece of one tool call. The first piece of a call carries `id`, `type`
/// and the function name; later pieces append to `function.arguments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCallDelta {
    /// Which call (position in the message's `tool_calls`) this extends.
    pub index: u32,
    /// Call id, on the first piece only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `function`, on the first piece only.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name and argument text increments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionCallDelta>,
}

/// A piece of a function call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionCallDelta {
    /// Function name, on the first piece only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Next piece of the arguments JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
}
