//! The `response` object: output items, usage, and the request fields it
//! echoes (the SDK's `Response` type requires `tools`, `tool_choice` and
//! `parallel_tool_calls`; the others are sent as OpenAI sends them, `null`
//! when unset).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sy_core::TokenUsage;

use crate::chat::{ChatResponse, FinishReason};

/// The gateway's ids, time and public model name for one response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// `resp_<request id>`.
    pub id: String,
    /// Unix seconds.
    pub created_at: u64,
    /// The public model name.
    pub model: String,
    /// The id of the message output item: `msg_<request id>`.
    pub message_id: String,
}

impl Stamp {
    /// Ids derived from the gateway's request id.
    pub fn new(request_id: &str, created_at: u64, model: impl Into<String>) -> Stamp {
        Stamp {
            id: format!("resp_{request_id}"),
            created_at,
            model: model.into(),
            message_id: format!("msg_{request_id}"),
        }
    }
}

/// Request fields the `response` object repeats.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Echo {
    /// `instructions`.
    pub instructions: Option<String>,
    /// `metadata` (`{}` when unset).
    pub metadata: Map<String, Value>,
    /// `parallel_tool_calls` (default true).
    pub parallel_tool_calls: bool,
    /// `temperature`.
    pub temperature: Option<f64>,
    /// `top_p`.
    pub top_p: Option<f64>,
    /// `max_output_tokens`.
    pub max_output_tokens: Option<u32>,
    /// `tool_choice` as sent (default `"auto"`).
    pub tool_choice: Value,
    /// Function tools in the Responses shape.
    pub tools: Vec<Value>,
    /// `text.format` as sent (default `{"type":"text"}`).
    pub text_format: Value,
    /// `user`.
    pub user: Option<String>,
}

/// One item of `output`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutputItem {
    /// The assistant's text.
    Message {
        /// `msg_...`.
        id: String,
        /// `in_progress`, `completed` or `incomplete`.
        status: String,
        /// Always `assistant`.
        role: String,
        /// One `output_text` part.
        content: Vec<OutputText>,
    },
    /// A call of a function tool.
    FunctionCall {
        /// `fc_<call id>`.
        id: String,
        /// The id the `function_call_output` item answering it repeats.
        call_id: String,
        /// Function name.
        name: String,
        /// Arguments as JSON text.
        arguments: String,
        /// `in_progress` or `completed`.
        status: String,
    },
}

/// An `output_text` content part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputText {
    /// Always `output_text`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The text.
    pub text: String,
    /// Always empty (no citations without built-in tools).
    pub annotations: Vec<Value>,
}

impl OutputText {
    /// A part with this text.
    pub fn new(text: impl Into<String>) -> OutputText {
        OutputText {
            kind: "output_text".to_owned(),
            text: text.into(),
            annotations: Vec::new(),
        }
    }
}

/// `usage` of a response. Same convention as chat: cached tokens are part
/// of `input_tokens`, reasoning tokens part of `output_tokens`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseUsage {
    /// Prompt tokens, cached ones included.
    pub input_tokens: u64,
    /// `{"cached_tokens": n, "cache_write_tokens": m}` (the SDK's type
    /// requires both).
    pub input_tokens_details: Value,
    /// Generated tokens, reasoning ones included.
    pub output_tokens: u64,
    /// `{"reasoning_tokens": n}`.
    pub output_tokens_details: Value,
    /// Input plus output.
    pub total_tokens: u64,
}

impl ResponseUsage {
    /// From gateway counts.
    pub fn from_tokens(tokens: &TokenUsage) -> ResponseUsage {
        ResponseUsage {
            input_tokens: tokens.prompt,
            input_tokens_details: json!({"cached_tokens": tokens.cached, "cache_write_tokens": tokens.cache_write}),
            output_tokens: tokens.completion,
            output_tokens_details: json!({"reasoning_tokens": tokens.reasoning}),
            total_tokens: tokens.total(),
        }
    }
}

/// Why a response is `incomplete`, from the chat finish reason; `None`
/// when it is `completed`.
pub(crate) fn incomplete_reason(finish: Option<FinishReason>) -> Option<&'static str> {
    match finish {
        Some(FinishReason::Length) => Some("max_output_tokens"),
        Some(FinishReason::ContentFilter) => Some("content_filter"),
        _ => None,
    }
}

/// The output items of a whole chat answer (choice 0): the message when
/// it has text (or nothing else), then one item per tool call.
pub(crate) fn output_of(
    answer: &ChatResponse,
    stamp: &Stamp,
) -> (Vec<OutputItem>, Option<FinishReason>) {
    let Some(choice) = answer.choices.first() else {
        return (Vec::new(), None);
    };
    let done = if incomplete_reason(choice.finish_reason).is_some() {
        "incomplete"
    } else {
        "completed"
    };
    let mut items = Vec::new();
    let calls = choice.message.tool_calls.as_deref().unwrap_or_default();
    let text = choice.message.content.clone().unwrap_or_default();
    if !text.is_empty() || calls.is_empty() {
        items.push(OutputItem::Message {
            id: stamp.message_id.clone(),
            status: done.to_owned(),
            role: "assistant".to_owned(),
            content: vec![OutputText::new(text)],
        });
    }
    for call in calls {
        items.push(OutputItem::FunctionCall {
            id: format!("fc_{}", call.id),
            call_id: call.id.clone(),
            name: call.function.name.clone(),
            arguments: call.function.arguments.clone(),
            status: "completed".to_owned(),
        });
    }
    (items, choice.finish_reason)
}

/// The `response` object. `status` is `in_progress` while streaming;
/// otherwise `completed`, or `incomplete` when `finish` says the answer
/// was cut.
pub fn response_object(
    stamp: &Stamp,
    echo: &Echo,
    in_progress: bool,
    output: &[OutputItem],
    finish: Option<FinishReason>,
    usage: Option<&ResponseUsage>,
) -> Value {
    let incomplete = incomplete_reason(finish);
    let status = match (in_progress, incomplete) {
        (true, _) => "in_progress",
        (false, Some(_)) => "incomplete",
        (false, None) => "completed",
    };
    json!({
        "id": stamp.id,
        "object": "response",
        "created_at": stamp.created_at,
        "status": status,
        "background": false,
        "error": null,
        "incomplete_details": incomplete.filter(|_| !in_progress).map(|r| json!({"reason": r})),
        "instructions": echo.instructions,
        "max_output_tokens": echo.max_output_tokens,
        "metadata": echo.metadata,
        "model": stamp.model,
        "output": output,
        "parallel_tool_calls": echo.parallel_tool_calls,
        "previous_response_id": null,
        "reasoning": {"effort": null, "summary": null},
        "store": false,
        "temperature": echo.temperature,
        "text": {"format": echo.text_format},
        "tool_choice": echo.tool_choice,
        "tools": echo.tools,
        "top_p": echo.top_p,
        "truncation": "disabled",
        "usage": usage,
        "user": echo.user,
    })
}

/// The `response` object of a whole chat answer, with `usage` from the
/// gateway's settled counts.
pub fn from_chat(answer: &ChatResponse, stamp: &Stamp, echo: &Echo, tokens: &TokenUsage) -> Value {
    let (output, finish) = output_of(answer, stamp);
    response_object(
        stamp,
        echo,
        false,
        &output,
        finish,
        Some(&ResponseUsage::from_tokens(tokens)),
    )
}
