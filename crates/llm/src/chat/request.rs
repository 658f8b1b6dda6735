//! The chat request.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::message::{Message, MessageContent, Role};
use super::tools::{Tool, ToolChoice};
use super::{CACHE_CONTROL, ContentPart, Extra, breakpoint};

/// A Chat Completions request.
///
/// Typed fields are those the gateway reads (routing, limits, mock
/// behaviour, translation to other providers); the rest (`logprobs`,
/// `presence_penalty`, `metadata`, ...) stay in `extra` and pass through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The model name the client asked for (public name at the gateway).
    pub model: String,
    /// The conversation so far.
    pub messages: Vec<Message>,
    /// Tools the model may call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// Whether and which tool must be called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Whether the model may call several tools in one turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// Text, JSON object or JSON Schema output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    /// Sampling temperature, 0 to 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling mass, 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Completion token cap (older name; reasoning models refuse it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Completion token cap including reasoning tokens (newer name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    /// Best-effort determinism seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Number of choices to generate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// End-user id for abuse monitoring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Whether to answer as a server-sent event stream of chunks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Stream settings; only meaningful with `stream: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Fields not typed here.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ChatRequest {
    /// A minimal request: a model and messages, nothing else set.
    pub fn new(model: impl Into<String>, messages: Vec<Message>) -> ChatRequest {
        ChatRequest {
            model: model.into(),
            messages,
            tools: None,
            tool_choice: None,
            parallel_tool_calls: None,
            response_format: None,
            stop: None,
            temperature: None,
            top_p: None,
            max_tokens: None,
            max_completion_tokens: None,
            seed: None,
            n: None,
            user: None,
            stream: None,
            stream_options: None,
            extra: Extra::new(),
        }
    }

    /// Whether the client asked for a stream.
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// Whether a streaming client asked for the final usage chunk.
    pub fn include_usage(&self) -> bool {
        self.is_stream()
            && self
                .stream_options
                .as_ref()
                .and_then(|o| o.include_usage)
                .unwrap_or(false)
    }

    /// Whether the request marks prompt-caching breakpoints: a part's or a
    /// tool's `cache_control`, or Anthropic's request-level one (automatic
    /// placement); `null` marks none. Such a call may be billed for cache
    /// writes.
    pub fn asks_for_prompt_cache(&self) -> bool {
        self.any_cache_control(
            |members| breakpoint(members).is_some(),
            |p| p.cache_control().is_some(),
        )
    }

    /// Whether a `cache_control` member appears anywhere a breakpoint may
    /// (`null` included): what a server that refuses the member must not
    /// be sent.
    pub fn mentions_cache_control(&self) -> bool {
        self.any_cache_control(
            |members| members.contains_key(CACHE_CONTROL),
            ContentPart::mentions_cache_control,
        )
    }

    fn any_cache_control(
        &self,
        members: impl Fn(&Extra) -> bool,
        part: impl Fn(&ContentPart) -> bool,
    ) -> bool {
        members(&self.extra)
            || self.tools().iter().any(|t| members(&t.extra))
            || self.messages.iter().any(|m| match &m.content {
                Some(MessageContent::Parts(parts)) => parts.iter().any(&part),
                _ => false,
            })
    }

    /// The effective completion token cap: `max_completion_tokens` wins over
    /// `max_tokens` when both are set.
    pub fn completion_cap(&self) -> Option<u32> {
        self.max_completion_tokens.or(self.max_tokens)
    }

    /// The number of choices asked for (at least 1).
    pub fn choice_count(&self) -> u32 {
        self.n.unwrap_or(1).max(1)
    }

    /// The text of the last user message, if any.
    pub fn last_user_text(&self) -> Option<String> {
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .map(Message::text_content)
    }

    /// The tools offered, empty when none.
    pub fn tools(&self) -> &[Tool] {
        self.tools.as_deref().unwrap_or(&[])
    }
}

/// Stream settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamOptions {
    /// Send a last chunk with empty `choices` and the request's `usage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_usage: Option<bool>,
    /// Fields not typed here (`include_obfuscation`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Stop sequences: one string or a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    /// A single sequence.
    One(String),
    /// Up to four sequences (OpenAI's limit).
    Many(Vec<String>),
}

impl Stop {
    /// The sequences as a list.
    pub fn sequences(&self) -> Vec<&str> {
        match self {
            Stop::One(s) => vec![s.as_str()],
            Stop::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// The output format the model must follow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Free text (the default).
    Text,
    /// Any valid JSON object.
    JsonObject,
    /// JSON following the given schema.
    JsonSchema {
        /// The schema and its name.
        json_schema: JsonSchemaFormat,
    },
}

/// A named JSON Schema for structured output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonSchemaFormat {
    /// Schema name.
    pub name: String,
    /// What the output is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    /// Whether the schema must be followed exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}
