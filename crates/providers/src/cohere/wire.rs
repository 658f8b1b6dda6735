//! Cohere v2 wire types (docs.cohere.com/reference/chat): only the fields
//! translation reads or writes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `POST /v2/chat` body.
#[derive(Debug, Serialize)]
pub(super) struct ChatRequest {
    pub model: String,
    pub messages: Vec<WireMessage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
}

/// One message: `system`, `user`, `assistant` or `tool`.
#[derive(Debug, Serialize)]
pub(super) struct WireMessage {
    pub role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

/// A whole response.
#[derive(Debug, Deserialize)]
pub(super) struct ChatResponse {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub finish_reason: Option<String>,
    pub message: ResponseMessage,
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

/// The assistant message of a response.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ResponseMessage {
    #[serde(default)]
    pub content: Vec<ContentItem>,
    #[serde(default)]
    pub tool_plan: Option<String>,
    #[serde(default)]
    pub tool_calls: Vec<WireToolCall>,
}

/// A content item: `text` or `thinking`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ContentItem {
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub thinking: Option<String>,
}

/// A tool call (also the `tool_calls` of a stream's `tool-call-start`).
#[derive(Debug, Default, Deserialize)]
pub(super) struct WireToolCall {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub function: Option<WireFunction>,
}

/// A tool call's function.
#[derive(Debug, Default, Deserialize)]
pub(super) struct WireFunction {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub arguments: Option<String>,
}

/// `usage`: `billed_units` and `tokens`, each with input and output.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct WireUsage {
    #[serde(default)]
    pub billed_units: Option<TokenPair>,
    #[serde(default)]
    pub tokens: Option<TokenPair>,
}

/// Input and output counts (Cohere sends them as numbers, sometimes
/// fractional in `billed_units`).
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct TokenPair {
    #[serde(default)]
    pub input_tokens: Option<f64>,
    #[serde(default)]
    pub output_tokens: Option<f64>,
}

/// A stream event's data, tagged by `type`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub(super) enum StreamEvent {
    MessageStart {
        #[serde(default)]
        id: Option<String>,
    },
    ContentStart {
        #[serde(default)]
        delta: Option<EventDelta>,
    },
    ContentDelta {
        #[serde(default)]
        delta: Option<EventDelta>,
    },
    ToolPlanDelta {
        #[serde(default)]
        delta: Option<EventDelta>,
    },
    ToolCallStart {
        #[serde(default)]
        delta: Option<EventDelta>,
    },
    ToolCallDelta {
        #[serde(default)]
        delta: Option<EventDelta>,
    },
    MessageEnd {
        #[serde(default)]
        delta: Option<EndDelta>,
    },
    /// `content-end`, `tool-call-end`, citations, `debug` and whatever
    /// comes next.
    #[serde(other)]
    Other,
}

/// `delta` of the content, plan and tool events.
#[derive(Debug, Default, Deserialize)]
pub(super) struct EventDelta {
    #[serde(default)]
    pub message: Option<DeltaMessage>,
}

/// `delta.message`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct DeltaMessage {
    #[serde(default)]
    pub content: Option<ContentItem>,
    #[serde(default)]
    pub tool_plan: Option<String>,
    #[serde(default)]
    pub tool_calls: Option<WireToolCall>,
}

/// `message-end`'s `delta`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct EndDelta {
    #[serde(default)]
    pub finish_reason: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
}
