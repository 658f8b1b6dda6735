//! Canonical request → v2 Chat request.

use serde_json::{Value, json};
use sy_llm::ChatRequest;
use sy_llm::chat::ToolChoiceMode;
use sy_llm::chat::{ContentPart, Message, MessageContent, ResponseFormat, Role, ToolChoice};

use super::NAME;
use super::wire::{ChatRequest as WireRequest, WireMessage};
use crate::params::{Loss, is_off, strip, unsupported};
use crate::{ProviderEndpoint, TranslateError};

/// Extra fields whose loss changes the answer's shape.
const SHAPE: &[(&str, Loss)] = &[
    ("logprobs", Loss::Shape),
    ("top_logprobs", Loss::Shape),
    ("audio", Loss::Shape),
];

pub(super) fn build(
    endpoint: &ProviderEndpoint,
    req: &ChatRequest,
    model: &str,
) -> Result<WireRequest, TranslateError> {
    let policy = endpoint.unsupported_params;
    let mut extra = req.extra.clone();
    let k = extra.remove("top_k");
    let presence_penalty = extra.remove("presence_penalty").filter(|v| !v.is_null());
    let frequency_penalty = extra.remove("frequency_penalty").filter(|v| !v.is_null());
    strip(&mut extra, SHAPE, policy, NAME)?;
    let mut hints: Vec<&str> = extra
        .iter()
        .filter(|(_, value)| !is_off(value))
        .map(|(key, _)| key.as_str())
        .collect();
    hints.sort_unstable();
    for key in hints {
        unsupported(policy, NAME, key, Loss::Hint)?;
    }
    if req.choice_count() > 1 {
        unsupported(policy, NAME, "n", Loss::Shape)?;
    }
    if req.user.is_some() {
        unsupported(policy, NAME, "user", Loss::Hint)?;
    }
    if req.parallel_tool_calls == Some(false) {
        unsupported(policy, NAME, "parallel_tool_calls", Loss::Hint)?;
    }
    let messages = req
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| message(m, i))
        .collect::<Result<Vec<_>, _>>()?;
    let (tools, tool_choice) = tools(req)?;
    let response_format = match &req.response_format {
        Some(ResponseFormat::JsonObject) => Some(json!({"type": "json_object"})),
        Some(ResponseFormat::JsonSchema { json_schema }) => Some(match &json_schema.schema {
            Some(schema) => json!({"type": "json_object", "json_schema": schema}),
            None => json!({"type": "json_object"}),
        }),
        Some(ResponseFormat::Text) | None => None,
    };
    Ok(WireRequest {
        model: model.to_owned(),
        messages,
        tools,
        tool_choice,
        response_format,
        max_tokens: req.completion_cap(),
        stop_sequences: req
            .stop
            .as_ref()
            .map(|s| {
                s.sequences()
                    .into_iter()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .filter(|s| !s.is_empty()),
        temperature: req.temperature,
        p: req.top_p,
        k,
        seed: req.seed,
        presence_penalty,
        frequency_penalty,
        stream: req.is_stream().then_some(true),
    })
}

fn message(message: &Message, i: usize) -> Result<WireMessage, TranslateError> {
    let role = match message.role {
        Role::System | Role::Developer => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
        Role::Function => {
            return Err(TranslateError::Unsupported {
                param: format!("messages[{i}].role"),
                provider: NAME,
            });
        }
    };
    let mut wire = WireMessage {
        role,
        content: None,
        tool_calls: None,
        tool_call_id: None,
    };
    match message.role {
        Role::User => wire.content = Some(content(message.content.as_ref(), i)?),
        Role::Assistant => {
            let text = message.text_content();
            wire.content = (!text.is_empty()).then_some(Value::String(text));
            wire.tool_calls = message
                .tool_calls
                .as_ref()
                .filter(|c| !c.is_empty())
                .map(|calls| {
                    Value::Array(
                        calls
                            .iter()
                            .map(|c| {
                                json!({"id": c.id, "type": "function", "function": {
                                    "name": c.function.name, "arguments": c.function.arguments}})
                            })
                            .collect(),
                    )
                });
        }
        Role::Tool => {
            wire.content = Some(Value::String(message.text_content()));
            wire.tool_call_id = message.tool_call_id.clone();
        }
        _ => wire.content = Some(Value::String(message.text_content())),
    }
    Ok(wire)
}

/// User content: a string stays a string; text and image parts keep
/// OpenAI's shape, which is Cohere's.
fn content(content: Option<&MessageContent>, i: usize) -> Result<Value, TranslateError> {
    let parts = match content {
        None => return Ok(Value::String(String::new())),
        Some(MessageContent::Text(text)) => return Ok(Value::String(text.clone())),
        Some(MessageContent::Parts(parts)) => parts,
    };
    let mut out = Vec::with_capacity(parts.len());
    for (j, part) in parts.iter().enumerate() {
        match part {
            ContentPart::Text { text, .. } => out.push(json!({"type": "text", "text": text})),
            ContentPart::ImageUrl { image_url, .. } => {
                let mut image = json!({"url": image_url.url});
                if let Some(detail) = &image_url.detail {
                    image["detail"] = Value::String(detail.clone());
                }
                out.push(json!({"type": "image_url", "image_url": image}));
            }
            ContentPart::Other(_) => {
                return Err(TranslateError::Unsupported {
                    param: format!("messages[{i}].content[{j}].type"),
                    provider: NAME,
                });
            }
        }
    }
    Ok(Value::Array(out))
}

type Tools = (Option<Vec<Value>>, Option<&'static str>);

/// `tools` and `tool_choice`; a named choice keeps only that tool and
/// makes it `REQUIRED`.
fn tools(req: &ChatRequest) -> Result<Tools, TranslateError> {
    let named = match &req.tool_choice {
        Some(ToolChoice::Named(named)) => Some(named.function.name.as_str()),
        _ => None,
    };
    let mut tools = Vec::new();
    for (i, tool) in req.tools().iter().enumerate() {
        if tool.kind != "function" {
            return Err(TranslateError::Unsupported {
                param: format!("tools[{i}].type"),
                provider: NAME,
            });
        }
        let f = &tool.function;
        if named.is_some_and(|n| n != f.name) {
            continue;
        }
        let mut function = json!({
            "name": f.name,
            "parameters": f.parameters.clone().unwrap_or_else(|| json!({"type": "object", "properties": {}})),
        });
        if let Some(description) = &f.description {
            function["description"] = Value::String(description.clone());
        }
        tools.push(json!({"type": "function", "function": function}));
    }
    if tools.is_empty() {
        if let Some(name) = named {
            return Err(TranslateError::Invalid {
                param: "tool_choice.function.name".to_owned(),
                message: format!("no tool is named `{name}`"),
            });
        }
        return Ok((None, None));
    }
    let choice = match &req.tool_choice {
        Some(ToolChoice::Mode(ToolChoiceMode::Required) | ToolChoice::Named(_)) => Some("REQUIRED"),
        Some(ToolChoice::Mode(ToolChoiceMode::None)) => Some("NONE"),
        Some(ToolChoice::Mode(ToolChoiceMode::Auto)) | None => None,
    };
    Ok((Some(tools), choice))
}
