//! A Responses request → the canonical chat request.
//!
//! Parsing works on the JSON value rather than typed structs: the input
//! item union is wide, and every refusal must name the offending path
//! (`input[2].type`, `tools[0].type`) as OpenAI does.

use serde_json::{Map, Value};

use super::super::parse::{RequestError, object_with_model};
use super::object::Echo;
use crate::chat::{
    ChatRequest, ContentPart, Extra, FunctionCall, FunctionDefinition, FunctionName, ImageUrl,
    JsonSchemaFormat, Message, MessageContent, NamedToolChoice, ResponseFormat, Role,
    StreamOptions, Tool, ToolCall, ToolChoice, ToolChoiceMode,
};

/// A parsed Responses request: the chat request to send, and the request
/// fields the `response` object echoes.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponsesRequest {
    /// The equivalent chat request. When streaming, `include_usage` is on
    /// so the final `response.completed` carries usage.
    pub chat: ChatRequest,
    /// Fields echoed in the `response` object.
    pub echo: Echo,
}

/// Parameters whose meaning needs state the gateway does not keep, refused
/// when set to anything but their neutral value.
const STATEFUL: [&str; 5] = [
    "previous_response_id",
    "conversation",
    "store",
    "background",
    "prompt",
];

/// Parse and validate a Responses body.
pub fn parse_responses_request(body: &[u8]) -> Result<ResponsesRequest, RequestError> {
    let value = object_with_model(body)?;
    let Value::Object(map) = value else {
        return Err(RequestError::missing("model"));
    };
    for name in STATEFUL {
        let neutral = matches!(map.get(name), None | Some(Value::Null | Value::Bool(false)));
        if !neutral {
            return Err(unsupported(
                name,
                "this gateway keeps no conversation state (responses are emulated over chat)",
            ));
        }
    }
    let model = str_field(&map, "model")?.unwrap_or_default();
    let mut messages = Vec::new();
    let instructions = str_field(&map, "instructions")?;
    if let Some(text) = &instructions {
        messages.push(Message::text(Role::System, text.clone()));
    }
    match map.get("input") {
        None | Some(Value::Null) => return Err(RequestError::missing("input")),
        Some(Value::String(text)) => messages.push(Message::text(Role::User, text.clone())),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                push_item(&mut messages, item, &format!("input[{i}]"))?;
            }
        }
        Some(other) => {
            return Err(RequestError::invalid_type(
                "input",
                "a string or an array of input items",
                other,
            ));
        }
    }
    if messages.is_empty() {
        return Err(RequestError::invalid_value(
            "input",
            "expected at least one input item.",
        ));
    }
    let mut chat = ChatRequest::new(model, messages);
    let tools = match map.get("tools") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(tools)) => tools
            .iter()
            .enumerate()
            .map(|(i, t)| tool(t, &format!("tools[{i}]")))
            .collect::<Result<Vec<_>, _>>()?,
        Some(other) => return Err(RequestError::invalid_type("tools", "an array", other)),
    };
    if let Some(choice) = map.get("tool_choice").filter(|v| !v.is_null()) {
        if tools.is_empty() {
            return Err(RequestError::invalid_value(
                "tool_choice",
                "'tool_choice' is only allowed when 'tools' are specified.",
            ));
        }
        chat.tool_choice = Some(tool_choice(choice)?);
    }
    if !tools.is_empty() {
        chat.tools = Some(tools.clone());
    }
    chat.parallel_tool_calls = bool_field(&map, "parallel_tool_calls")?;
    chat.temperature = number_field(&map, "temperature", 2.0)?;
    chat.top_p = number_field(&map, "top_p", 1.0)?;
    chat.max_tokens = match map.get("max_output_tokens") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(
            n.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    RequestError::invalid_value("max_output_tokens", "expected a positive integer.")
                })?,
        ),
        Some(other) => {
            return Err(RequestError::invalid_type(
                "max_output_tokens",
                "an integer",
                other,
            ));
        }
    };
    chat.user = str_field(&map, "user")?;
    let format = match map.get("text").and_then(|t| t.get("format")) {
        None | Some(Value::Null) => None,
        Some(format) => Some(text_format(format)?),
    };
    chat.response_format = format.clone().flatten();
    if let Some(effort) = map
        .get("reasoning")
        .and_then(|r| r.get("effort"))
        .filter(|e| e.is_string())
    {
        chat.extra
            .insert("reasoning_effort".to_owned(), effort.clone());
    }
    let stream = bool_field(&map, "stream")?;
    chat.stream = stream;
    if stream == Some(true) {
        chat.stream_options = Some(StreamOptions {
            include_usage: Some(true),
            extra: Extra::new(),
        });
    }
    let echo = Echo {
        instructions,
        metadata: match map.get("metadata") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(other) => return Err(RequestError::invalid_type("metadata", "an object", other)),
        },
        parallel_tool_calls: chat.parallel_tool_calls.unwrap_or(true),
        temperature: chat.temperature,
        top_p: chat.top_p,
        max_output_tokens: chat.max_tokens,
        tool_choice: map
            .get("tool_choice")
            .filter(|v| !v.is_null())
            .cloned()
            .unwrap_or_else(|| Value::String("auto".to_owned())),
        tools: tools.iter().map(echo_tool).collect(),
        text_format: map
            .get("text")
            .and_then(|t| t.get("format"))
            .filter(|v| !v.is_null())
            .cloned()
            .unwrap_or_else(|| serde_json::json!({"type": "text"})),
        user: chat.user.clone(),
    };
    Ok(ResponsesRequest { chat, echo })
}

/// One input item, appended to `messages`. Consecutive `function_call`
/// items join one assistant message, as chat expects parallel calls.
fn push_item(messages: &mut Vec<Message>, item: &Value, path: &str) -> Result<(), RequestError> {
    let Value::Object(obj) = item else {
        return Err(RequestError::invalid_type(path, "an object", item));
    };
    let kind = obj.get("type").and_then(Value::as_str).unwrap_or("message");
    match kind {
        "message" => {
            let role = match obj.get("role").and_then(Value::as_str) {
                Some("user") => Role::User,
                Some("assistant") => Role::Assistant,
                Some("system") => Role::System,
                Some("developer") => Role::Developer,
                Some(_) => {
                    return Err(RequestError::invalid_value(
                        &format!("{path}.role"),
                        "expected one of 'user', 'assistant', 'system' or 'developer'.",
                    ));
                }
                None => return Err(RequestError::missing(&format!("{path}.role"))),
            };
            let content = match obj.get("content") {
                Some(Value::String(text)) => MessageContent::Text(text.clone()),
                Some(Value::Array(parts)) => MessageContent::Parts(
                    parts
                        .iter()
                        .enumerate()
                        .map(|(j, p)| content_part(p, &format!("{path}.content[{j}]")))
                        .collect::<Result<Vec<_>, _>>()?,
                ),
                None | Some(Value::Null) => {
                    return Err(RequestError::missing(&format!("{path}.content")));
                }
                Some(other) => {
                    return Err(RequestError::invalid_type(
                        &format!("{path}.content"),
                        "a string or an array of content parts",
                        other,
                    ));
                }
            };
            let mut message = Message::text(role, String::new());
            message.content = Some(content);
            messages.push(message);
        }
        "function_call" => {
            let call = ToolCall {
                id: required_str(obj, path, "call_id")?,
                kind: "function".to_owned(),
                function: FunctionCall {
                    name: required_str(obj, path, "name")?,
                    arguments: required_str(obj, path, "arguments")?,
                },
            };
            match messages.last_mut() {
                Some(last) if last.role == Role::Assistant => {
                    last.tool_calls.get_or_insert_with(Vec::new).push(call);
                }
                _ => {
                    let mut message = Message::text(Role::Assistant, String::new());
                    message.content = None;
                    message.tool_calls = Some(vec![call]);
                    messages.push(message);
                }
            }
        }
        "function_call_output" => {
            let call_id = required_str(obj, path, "call_id")?;
            let output = match obj.get("output") {
                Some(Value::String(text)) => text.clone(),
                Some(Value::Array(parts)) => parts
                    .iter()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join("\n"),
                None | Some(Value::Null) => {
                    return Err(RequestError::missing(&format!("{path}.output")));
                }
                Some(other) => {
                    return Err(RequestError::invalid_type(
                        &format!("{path}.output"),
                        "a string",
                        other,
                    ));
                }
            };
            let mut message = Message::text(Role::Tool, output);
            message.tool_call_id = Some(call_id);
            messages.push(message);
        }
        // Reasoning items a stateless client sends back carry nothing chat
        // can use; they are dropped rather than refused.
        "reasoning" => {}
        other => {
            return Err(unsupported(
                &format!("{path}.type"),
                &format!(
                    "input items of type '{other}' are not supported (responses are emulated over chat)"
                ),
            ));
        }
    }
    Ok(())
}

fn content_part(part: &Value, path: &str) -> Result<ContentPart, RequestError> {
    let kind = part.get("type").and_then(Value::as_str).unwrap_or_default();
    match kind {
        // Earlier assistant turns come back as `output_text`.
        "input_text" | "output_text" => Ok(ContentPart::text(
            part.get("text")
                .and_then(Value::as_str)
                .ok_or_else(|| RequestError::missing(&format!("{path}.text")))?,
        )),
        "input_image" => match part.get("image_url").and_then(Value::as_str) {
            Some(url) => Ok(ContentPart::ImageUrl {
                image_url: ImageUrl {
                    url: url.to_owned(),
                    detail: part
                        .get("detail")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    extra: Map::new(),
                },
                extra: Map::new(),
            }),
            None => Err(unsupported(
                &format!("{path}.image_url"),
                "images must be given by URL or data URL (file ids need stored files)",
            )),
        },
        // Chat's `file` part: inline data (with its file name) or an
        // uploaded file's id; a URL has no chat form.
        "input_file" => {
            let mut file = Map::new();
            for key in ["file_data", "file_id", "filename"] {
                if let Some(value) = part.get(key).filter(|v| v.is_string()) {
                    file.insert(key.to_owned(), value.clone());
                }
            }
            if !(file.contains_key("file_data") || file.contains_key("file_id")) {
                return Err(unsupported(
                    &format!("{path}.file_url"),
                    "files must be given as file_data or file_id (chat has no file URLs)",
                ));
            }
            let mut out = Map::new();
            out.insert("type".to_owned(), Value::from("file"));
            out.insert("file".to_owned(), Value::Object(file));
            Ok(ContentPart::Other(out))
        }
        other => Err(unsupported(
            &format!("{path}.type"),
            &format!("content parts of type '{other}' are not supported"),
        )),
    }
}

/// A Responses function tool (name, description, parameters and strict at
/// the top level) as a chat tool.
fn tool(value: &Value, path: &str) -> Result<Tool, RequestError> {
    let Value::Object(obj) = value else {
        return Err(RequestError::invalid_type(path, "an object", value));
    };
    match obj.get("type").and_then(Value::as_str) {
        Some("function") => {}
        Some(other) => {
            return Err(unsupported(
                &format!("{path}.type"),
                &format!(
                    "built-in tool '{other}' is not supported; only 'function' tools are (responses are emulated over chat)"
                ),
            ));
        }
        None => return Err(RequestError::missing(&format!("{path}.type"))),
    }
    Ok(Tool {
        kind: "function".to_owned(),
        function: FunctionDefinition {
            name: required_str(obj, path, "name")?,
            description: obj
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned),
            parameters: obj.get("parameters").filter(|v| !v.is_null()).cloned(),
            strict: obj.get("strict").and_then(Value::as_bool),
        },
        extra: Extra::new(),
    })
}

/// The tool as the `response` object lists it.
fn echo_tool(tool: &Tool) -> Value {
    serde_json::json!({
        "type": "function",
        "name": tool.function.name,
        "description": tool.function.description,
        "parameters": tool.function.parameters,
        "strict": tool.function.strict,
    })
}

fn tool_choice(value: &Value) -> Result<ToolChoice, RequestError> {
    let refuse = || {
        RequestError::invalid_value(
            "tool_choice",
            "expected 'none', 'auto', 'required' or {\"type\": \"function\", \"name\": ...}.",
        )
    };
    match value {
        Value::String(mode) => match mode.as_str() {
            "none" => Ok(ToolChoice::Mode(ToolChoiceMode::None)),
            "auto" => Ok(ToolChoice::Mode(ToolChoiceMode::Auto)),
            "required" => Ok(ToolChoice::Mode(ToolChoiceMode::Required)),
            _ => Err(refuse()),
        },
        Value::Object(obj) if obj.get("type").and_then(Value::as_str) == Some("function") => {
            let name = obj.get("name").and_then(Value::as_str).ok_or_else(refuse)?;
            Ok(ToolChoice::Named(NamedToolChoice {
                kind: "function".to_owned(),
                function: FunctionName {
                    name: name.to_owned(),
                },
            }))
        }
        _ => Err(refuse()),
    }
}

/// `text.format` → `response_format`; `None` inside for plain text.
fn text_format(format: &Value) -> Result<Option<ResponseFormat>, RequestError> {
    match format.get("type").and_then(Value::as_str) {
        Some("text") => Ok(None),
        Some("json_object") => Ok(Some(ResponseFormat::JsonObject)),
        Some("json_schema") => Ok(Some(ResponseFormat::JsonSchema {
            json_schema: JsonSchemaFormat {
                name: format
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| RequestError::missing("text.format.name"))?
                    .to_owned(),
                description: format
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                schema: format.get("schema").cloned(),
                strict: format.get("strict").and_then(Value::as_bool),
            },
        })),
        _ => Err(RequestError::invalid_value(
            "text.format.type",
            "expected 'text', 'json_object' or 'json_schema'.",
        )),
    }
}

fn required_str(obj: &Map<String, Value>, path: &str, name: &str) -> Result<String, RequestError> {
    let param = format!("{path}.{name}");
    match obj.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) => Err(RequestError::missing(&param)),
        Some(other) => Err(RequestError::invalid_type(&param, "a string", other)),
    }
}

fn str_field(map: &Map<String, Value>, name: &str) -> Result<Option<String>, RequestError> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(RequestError::invalid_type(name, "a string", other)),
    }
}

fn bool_field(map: &Map<String, Value>, name: &str) -> Result<Option<bool>, RequestError> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(RequestError::invalid_type(name, "a boolean", other)),
    }
}

fn number_field(
    map: &Map<String, Value>,
    name: &str,
    max: f64,
) -> Result<Option<f64>, RequestError> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(x) if (0.0..=max).contains(&x) => Ok(Some(x)),
            _ => Err(RequestError::invalid_value(
                name,
                &format!("expected a number between 0 and {max}."),
            )),
        },
        Some(other) => Err(RequestError::invalid_type(name, "a number", other)),
    }
}

fn unsupported(param: &str, why: &str) -> RequestError {
    RequestError::new(
        format!("Unsupported parameter: '{param}': {why}."),
        Some(param.to_owned()),
        Some("unsupported_parameter"),
    )
}
