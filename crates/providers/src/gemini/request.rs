//! Canonical request → `GenerateContentRequest`.

use serde_json::{Map, Value};
use sy_llm::ChatRequest;
use sy_llm::chat::ToolChoiceMode;
use sy_llm::chat::{ContentPart, Message, MessageContent, ResponseFormat, Role, ToolChoice};

use super::NAME;
use super::wire::{
    Blob, Content, FileData, FunctionCall, FunctionCallingConfig, FunctionDeclaration,
    FunctionResponse, GenerateRequest, GenerationConfig, Part, ToolConfig, WireTool,
};
use crate::params::{Loss, is_off, strip, unsupported};
use crate::{ProviderEndpoint, TranslateError};

/// Gemini `generationConfig` fields a client may send as extra fields
/// (snake_case as OpenAI clients write them → Gemini's names).
const NATIVE: &[(&str, &str)] = &[("thinking_config", "thinkingConfig")];

/// Extra fields whose loss changes the answer's shape.
const SHAPE: &[(&str, Loss)] = &[
    ("logprobs", Loss::Shape),
    ("top_logprobs", Loss::Shape),
    ("audio", Loss::Shape),
];

/// Files API URIs, the URLs `fileData` takes on the Gemini API.
const FILES_PREFIX: &str = "https://generativelanguage.googleapis.com/";

pub(super) fn build(
    endpoint: &ProviderEndpoint,
    req: &ChatRequest,
) -> Result<GenerateRequest, TranslateError> {
    let policy = endpoint.unsupported_params;
    let mut extra = req.extra.clone();
    let mut config = GenerationConfig {
        top_k: extra.remove("top_k"),
        presence_penalty: extra.remove("presence_penalty").filter(|v| !v.is_null()),
        frequency_penalty: extra.remove("frequency_penalty").filter(|v| !v.is_null()),
        ..GenerationConfig::default()
    };
    for (key, native) in NATIVE {
        if let Some(value) = extra.remove(*key) {
            config.extra.insert((*native).to_owned(), value);
        }
    }
    strip(&mut extra, SHAPE, policy, NAME)?;
    // Everything left is an OpenAI hint Gemini lacks.
    let mut hints: Vec<&str> = extra
        .iter()
        .filter(|(_, value)| !is_off(value))
        .map(|(key, _)| key.as_str())
        .collect();
    hints.sort_unstable();
    for key in hints {
        unsupported(policy, NAME, key, Loss::Hint)?;
    }
    if req.user.is_some() {
        unsupported(policy, NAME, "user", Loss::Hint)?;
    }
    if req.parallel_tool_calls == Some(false) {
        unsupported(policy, NAME, "parallel_tool_calls", Loss::Hint)?;
    }

    let (system, contents) = contents(&req.messages)?;
    let (tools, tool_config) = tools(req)?;
    match &req.response_format {
        Some(ResponseFormat::JsonObject) => config.response_mime_type = Some("application/json"),
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            config.response_mime_type = Some("application/json");
            config.response_schema = json_schema.schema.clone().map(schema);
        }
        Some(ResponseFormat::Text) | None => {}
    }
    config.stop_sequences = req
        .stop
        .as_ref()
        .map(|s| {
            s.sequences()
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty());
    config.candidate_count = (req.choice_count() > 1).then(|| req.choice_count());
    config.max_output_tokens = req.completion_cap();
    config.temperature = req.temperature;
    config.top_p = req.top_p;
    config.seed = req.seed;
    Ok(GenerateRequest {
        contents,
        system_instruction: system,
        tools,
        tool_config,
        generation_config: (!config.is_empty()).then_some(config),
    })
}

/// `systemInstruction` and `contents`.
fn contents(input: &[Message]) -> Result<(Option<Content>, Vec<Content>), TranslateError> {
    let mut system: Vec<String> = Vec::new();
    let mut turns: Vec<Content> = Vec::new();
    for (i, message) in input.iter().enumerate() {
        let (role, parts) = match message.role {
            Role::System | Role::Developer => {
                system.push(message.text_content());
                continue;
            }
            Role::User => ("user", parts(message.content.as_ref(), i)?),
            Role::Assistant => ("model", assistant(message, i)?),
            Role::Tool => ("user", vec![tool_result(input, i)?]),
            Role::Function => {
                return Err(TranslateError::Unsupported {
                    param: format!("messages[{i}].role"),
                    provider: NAME,
                });
            }
        };
        push(&mut turns, role, parts);
    }
    let system = (!system.is_empty()).then(|| Content {
        role: None,
        parts: vec![text(system.join("\n\n"))],
    });
    Ok((system, turns))
}

/// Append a turn, merging it into the previous one when the role repeats.
fn push(turns: &mut Vec<Content>, role: &str, parts: Vec<Part>) {
    if let Some(last) = turns.last_mut().filter(|t| t.role.as_deref() == Some(role)) {
        last.parts.extend(parts);
        return;
    }
    turns.push(Content {
        role: Some(role.to_owned()),
        parts,
    });
}

fn text(text: String) -> Part {
    Part {
        text: Some(text),
        ..Part::default()
    }
}

/// User content as parts.
fn parts(content: Option<&MessageContent>, i: usize) -> Result<Vec<Part>, TranslateError> {
    let items = match content {
        None => return Ok(Vec::new()),
        Some(MessageContent::Text(t)) if t.is_empty() => return Ok(Vec::new()),
        Some(MessageContent::Text(t)) => return Ok(vec![text(t.clone())]),
        Some(MessageContent::Parts(items)) => items,
    };
    let mut out = Vec::with_capacity(items.len());
    for (j, item) in items.iter().enumerate() {
        match item {
            ContentPart::Text { text: t, .. } if t.is_empty() => {}
            ContentPart::Text { text: t, .. } => out.push(text(t.clone())),
            ContentPart::ImageUrl { image_url, .. } => out.push(image(&image_url.url, i, j)?),
            // An inline file (a PDF, a text file): Gemini reads documents
            // as inline data of their media type, as it reads images.
            ContentPart::Other(_) if let Some(file) = item.inline_file() => out.push(Part {
                inline_data: Some(Blob {
                    mime_type: file.media_type.to_owned(),
                    data: file.data.to_owned(),
                }),
                ..Part::default()
            }),
            ContentPart::Other(_) => {
                return Err(TranslateError::Unsupported {
                    param: format!("messages[{i}].content[{j}].type"),
                    provider: NAME,
                });
            }
        }
    }
    Ok(out)
}

/// `data:` URL → `inlineData`; Files API URI → `fileData`; anything else
/// refused (Gemini does not fetch web URLs for `generateContent`).
fn image(url: &str, i: usize, j: usize) -> Result<Part, TranslateError> {
    let param = || format!("messages[{i}].content[{j}].image_url.url");
    if url.starts_with(FILES_PREFIX) {
        return Ok(Part {
            file_data: Some(FileData {
                mime_type: None,
                file_uri: url.to_owned(),
            }),
            ..Part::default()
        });
    }
    let Some(rest) = url.strip_prefix("data:") else {
        return Err(TranslateError::Unsupported {
            param: param(),
            provider: NAME,
        });
    };
    match rest
        .split_once(',')
        .and_then(|(meta, data)| Some((meta.strip_suffix(";base64")?, data)))
    {
        Some((mime, data)) if !mime.is_empty() => Ok(Part {
            inline_data: Some(Blob {
                mime_type: mime.to_owned(),
                data: data.to_owned(),
            }),
            ..Part::default()
        }),
        _ => Err(TranslateError::Invalid {
            param: param(),
            message: "a data URL must look like `data:image/png;base64,...`".to_owned(),
        }),
    }
}

/// An assistant turn: its text, then its tool calls as `functionCall`s.
fn assistant(message: &Message, i: usize) -> Result<Vec<Part>, TranslateError> {
    let mut out = parts(message.content.as_ref(), i)?;
    for (k, call) in message.tool_calls.iter().flatten().enumerate() {
        let arguments = call.function.arguments.trim();
        let args = if arguments.is_empty() {
            Value::Object(Map::new())
        } else {
            match serde_json::from_str::<Value>(arguments) {
                Ok(value @ Value::Object(_)) => value,
                _ => {
                    return Err(TranslateError::Invalid {
                        param: format!("messages[{i}].tool_calls[{k}].function.arguments"),
                        message: format!("provider {NAME} needs a JSON object"),
                    });
                }
            }
        };
        out.push(Part {
            function_call: Some(FunctionCall {
                name: call.function.name.clone(),
                args,
            }),
            ..Part::default()
        });
    }
    Ok(out)
}

/// A tool message as a `functionResponse`: the function name comes from
/// the nearest earlier assistant call with the same id (ids are
/// synthesized per answer and may repeat across turns). A JSON object
/// result is sent as is; anything else as `{"content": <text>}`.
fn tool_result(input: &[Message], i: usize) -> Result<Part, TranslateError> {
    let message = &input[i];
    let id = message.tool_call_id.as_deref().unwrap_or_default();
    let name = input[..i]
        .iter()
        .rev()
        .filter(|m| m.role == Role::Assistant)
        .flat_map(|m| m.tool_calls.iter().flatten())
        .find(|call| call.id == id)
        .map(|call| call.function.name.clone())
        .ok_or_else(|| TranslateError::Invalid {
            param: format!("messages[{i}].tool_call_id"),
            message: format!(
                "provider {NAME} needs the function name, and no earlier assistant turn has a tool call with id `{id}`"
            ),
        })?;
    let text = message.text_content();
    let response = match serde_json::from_str::<Value>(&text) {
        Ok(value @ Value::Object(_)) => value,
        _ => {
            let mut map = Map::new();
            map.insert("content".to_owned(), Value::String(text));
            Value::Object(map)
        }
    };
    Ok(Part {
        function_response: Some(FunctionResponse { name, response }),
        ..Part::default()
    })
}

type Tools = (Option<Vec<WireTool>>, Option<ToolConfig>);

/// `tools` → one `Tool` with every declaration; `tool_choice` →
/// `functionCallingConfig` (auto → AUTO, required → ANY, none → NONE, a
/// named function → ANY limited to it).
fn tools(req: &ChatRequest) -> Result<Tools, TranslateError> {
    let mut declarations = Vec::new();
    for (i, tool) in req.tools().iter().enumerate() {
        if tool.kind != "function" {
            return Err(TranslateError::Unsupported {
                param: format!("tools[{i}].type"),
                provider: NAME,
            });
        }
        let f = &tool.function;
        declarations.push(FunctionDeclaration {
            name: f.name.clone(),
            description: f.description.clone(),
            parameters: f.parameters.clone().map(schema),
        });
    }
    if declarations.is_empty() {
        return Ok((None, None));
    }
    let config = req.tool_choice.as_ref().map(|choice| {
        let (mode, names) = match choice {
            ToolChoice::Mode(ToolChoiceMode::Auto) => ("AUTO", None),
            ToolChoice::Mode(ToolChoiceMode::Required) => ("ANY", None),
            ToolChoice::Mode(ToolChoiceMode::None) => ("NONE", None),
            ToolChoice::Named(named) => ("ANY", Some(vec![named.function.name.clone()])),
        };
        ToolConfig {
            function_calling_config: FunctionCallingConfig {
                mode,
                allowed_function_names: names,
            },
        }
    });
    Ok((
        Some(vec![WireTool {
            function_declarations: declarations,
        }]),
        config,
    ))
}

/// A JSON Schema for Gemini's OpenAPI-subset `Schema`: drops
/// `additionalProperties: false` (unknown to it, and Gemini never adds
/// undeclared properties) and `$schema`, at every depth.
fn schema(mut value: Value) -> Value {
    fn clean(value: &mut Value) {
        match value {
            Value::Object(map) => {
                if map.get("additionalProperties") == Some(&Value::Bool(false)) {
                    map.remove("additionalProperties");
                }
                map.remove("$schema");
                map.values_mut().for_each(clean);
            }
            Value::Array(items) => items.iter_mut().for_each(clean),
            _ => {}
        }
    }
    clean(&mut value);
    value
}
