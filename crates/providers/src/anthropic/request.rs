//! Canonical request → Messages API request.

use base64::Engine as _;
use serde_json::{Value, json};
use sy_llm::ChatRequest;
use sy_llm::chat::{
    CACHE_CONTROL, ContentPart, Extra, InlineFile, Message, MessageContent, ResponseFormat, Role,
    ToolChoice, ToolChoiceMode,
};

use super::wire::{
    Block, DocumentSource, ImageSource, MessagesRequest, WireContent, WireMessage, WireTool,
    WireToolChoice,
};
use super::{JSON_TOOL, NAME};
use crate::params::{Loss, is_off, strip, unsupported};
use crate::{ProviderEndpoint, TranslateError};

/// Anthropic's own parameters, passed through when sent as extra fields
/// (`cache_control` at the top level: automatic prompt caching).
const NATIVE: &[&str] = &["top_k", "thinking", CACHE_CONTROL];

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
) -> Result<MessagesRequest, TranslateError> {
    let policy = endpoint.unsupported_params;
    let mut extra = req.extra.clone();
    let mut native = Extra::new();
    for key in NATIVE {
        // `null` is an unset member: left out rather than sent.
        if let Some(value) = extra.remove(*key).filter(|v| !v.is_null()) {
            native.insert((*key).to_owned(), value);
        }
    }
    strip(&mut extra, SHAPE, policy, NAME)?;
    // Everything left is an OpenAI hint Anthropic lacks.
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
    if req.seed.is_some() {
        unsupported(policy, NAME, "seed", Loss::Hint)?;
    }

    let (system, messages) = messages(&req.messages)?;
    let (mut tools, mut tool_choice) = tools(req)?;
    if let Some(format) = &req.response_format
        && let Some(tool) = json_tool(format)
    {
        if tools.is_some() {
            unsupported(policy, NAME, "response_format", Loss::Shape)?;
        }
        tools = Some(vec![tool]);
        tool_choice = Some(WireToolChoice {
            kind: "tool",
            name: Some(JSON_TOOL.to_owned()),
            disable_parallel_tool_use: None,
        });
    }
    let stop_sequences = req
        .stop
        .as_ref()
        .map(|s| {
            s.sequences()
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty());
    Ok(MessagesRequest {
        model: model.to_owned(),
        max_tokens: req.completion_cap().unwrap_or(endpoint.max_tokens_default),
        system,
        messages,
        tools,
        tool_choice,
        stop_sequences,
        temperature: req.temperature,
        top_p: req.top_p,
        metadata: req.user.as_ref().map(|user| json!({ "user_id": user })),
        stream: req.is_stream().then_some(true),
        extra: native,
    })
}

/// The system prompt and the turns.
fn messages(input: &[Message]) -> Result<(Option<WireContent>, Vec<WireMessage>), TranslateError> {
    let mut system: Vec<&Message> = Vec::new();
    let mut turns: Vec<WireMessage> = Vec::new();
    for (i, message) in input.iter().enumerate() {
        let (role, content) = match message.role {
            Role::System | Role::Developer => {
                system.push(message);
                continue;
            }
            Role::User => ("user", content(message.content.as_ref(), i)?),
            Role::Assistant => ("assistant", assistant(message, i)?),
            Role::Tool => {
                // A breakpoint on the result's text (empty text included)
                // moves onto the result.
                let cache_control = match &message.content {
                    Some(MessageContent::Parts(parts)) => parts.iter().rev().find_map(breakpoint),
                    _ => None,
                };
                let mut content = content(message.content.as_ref(), i)?;
                if let WireContent::Blocks(blocks) = &mut content {
                    blocks.iter_mut().for_each(Block::clear_breakpoint);
                }
                let result = Block::ToolResult {
                    tool_use_id: message.tool_call_id.clone().unwrap_or_default(),
                    content,
                    cache_control,
                };
                ("user", WireContent::Blocks(vec![result]))
            }
            Role::Function => {
                return Err(TranslateError::Unsupported {
                    param: format!("messages[{i}].role"),
                    provider: NAME,
                });
            }
        };
        push(&mut turns, role, content);
    }
    Ok((system_prompt(&system), turns))
}

/// A text or image part's prompt-caching breakpoint, if it marks one.
fn breakpoint(part: &ContentPart) -> Option<Value> {
    part.cache_control().cloned()
}

/// The system and developer messages as Anthropic's `system`: their texts
/// joined into one string, or, when a text part carries `cache_control`,
/// one text block per part (and per string message) with its breakpoint,
/// empty texts left out as Anthropic refuses them.
fn system_prompt(messages: &[&Message]) -> Option<WireContent> {
    // Images have no place in `system`: only a text part's breakpoint
    // counts.
    let cached = messages.iter().any(|m| match &m.content {
        Some(MessageContent::Parts(parts)) => parts
            .iter()
            .any(|p| matches!(p, ContentPart::Text { .. }) && p.cache_control().is_some()),
        _ => false,
    });
    if !cached {
        let texts: Vec<String> = messages.iter().map(|m| m.text_content()).collect();
        return (!texts.is_empty()).then(|| WireContent::Text(texts.join("\n\n")));
    }
    let mut blocks = Vec::new();
    for message in messages {
        match &message.content {
            Some(MessageContent::Text(text)) if !text.is_empty() => blocks.push(Block::Text {
                text: text.clone(),
                cache_control: None,
            }),
            Some(MessageContent::Parts(parts)) => {
                for part in parts {
                    if let ContentPart::Text { text, .. } = part
                        && !text.is_empty()
                    {
                        blocks.push(Block::Text {
                            text: text.clone(),
                            cache_control: breakpoint(part),
                        });
                    }
                }
            }
            _ => {}
        }
    }
    Some(WireContent::Blocks(blocks))
}

/// Append a turn, merging it into the previous one when the role repeats
/// (Anthropic wants alternating turns; tool results answering one
/// assistant turn belong in one user turn).
fn push(turns: &mut Vec<WireMessage>, role: &'static str, content: WireContent) {
    if let Some(last) = turns.last_mut().filter(|t| t.role == role) {
        let mut blocks = into_blocks(std::mem::replace(
            &mut last.content,
            WireContent::Blocks(Vec::new()),
        ));
        blocks.extend(into_blocks(content));
        last.content = WireContent::Blocks(blocks);
        return;
    }
    turns.push(WireMessage { role, content });
}

fn into_blocks(content: WireContent) -> Vec<Block> {
    match content {
        WireContent::Text(text) if text.is_empty() => Vec::new(),
        WireContent::Text(text) => vec![Block::Text {
            text,
            cache_control: None,
        }],
        WireContent::Blocks(blocks) => blocks,
    }
}

/// User or tool content: a string stays a string; parts become blocks.
fn content(content: Option<&MessageContent>, i: usize) -> Result<WireContent, TranslateError> {
    let parts = match content {
        None => return Ok(WireContent::Text(String::new())),
        Some(MessageContent::Text(text)) => return Ok(WireContent::Text(text.clone())),
        Some(MessageContent::Parts(parts)) => parts,
    };
    let mut blocks = Vec::with_capacity(parts.len());
    for (j, part) in parts.iter().enumerate() {
        match part {
            ContentPart::Text { text, .. } if text.is_empty() => {}
            ContentPart::Text { text, .. } => blocks.push(Block::Text {
                text: text.clone(),
                cache_control: breakpoint(part),
            }),
            ContentPart::ImageUrl { image_url, .. } => blocks.push(Block::Image {
                source: image_source(&image_url.url, i, j)?,
                cache_control: breakpoint(part),
            }),
            ContentPart::Other(_) if let Some(file) = part.inline_file() => {
                blocks.push(Block::Document {
                    source: document_source(file, i, j)?,
                    cache_control: breakpoint(part),
                });
            }
            ContentPart::Other(block) if native(block) => {
                blocks.push(Block::Native(Value::Object(block.clone())));
            }
            ContentPart::Other(_) => {
                return Err(TranslateError::Unsupported {
                    param: format!("messages[{i}].content[{j}].type"),
                    provider: NAME,
                });
            }
        }
    }
    Ok(WireContent::Blocks(blocks))
}

/// Whether a part the gateway does not model is one of Anthropic's own
/// blocks (as `/v1/messages` keeps them), to pass on as it came: any
/// `type` but OpenAI's other part types, which Anthropic has no form for.
fn native(part: &Extra) -> bool {
    part.get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| !matches!(t, "file" | "input_audio" | "refusal" | "image_url" | "text"))
}

/// An inline file as a document: Anthropic reads PDFs as base64 and plain
/// text as the text itself; it reads no other kind of file.
fn document_source(
    file: InlineFile<'_>,
    i: usize,
    j: usize,
) -> Result<DocumentSource, TranslateError> {
    let param = || format!("messages[{i}].content[{j}].file.file_data");
    let media_type = file.media_type.to_ascii_lowercase();
    if media_type == "application/pdf" {
        return Ok(DocumentSource::Base64 {
            media_type,
            data: file.data.to_owned(),
        });
    }
    if media_type == "text/plain" {
        let text = base64::engine::general_purpose::STANDARD
            .decode(file.data)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| TranslateError::Invalid {
                param: param(),
                message: "a text/plain file must be UTF-8 text in base64".to_owned(),
            })?;
        return Ok(DocumentSource::Text {
            media_type: "text/plain".to_owned(),
            data: text,
        });
    }
    Err(TranslateError::Invalid {
        param: param(),
        message: format!(
            "provider {NAME} reads PDF (application/pdf) and text/plain files, not {}",
            file.media_type
        ),
    })
}

/// `data:<media type>;base64,<data>` → a base64 source; anything else is
/// a URL source Anthropic fetches itself.
fn image_source(url: &str, i: usize, j: usize) -> Result<ImageSource, TranslateError> {
    let Some(rest) = url.strip_prefix("data:") else {
        return Ok(ImageSource::Url {
            url: url.to_owned(),
        });
    };
    let parsed = rest
        .split_once(',')
        .and_then(|(meta, data)| Some((meta.strip_suffix(";base64")?, data)));
    match parsed {
        Some((media_type, data)) if !media_type.is_empty() => Ok(ImageSource::Base64 {
            media_type: media_type.to_owned(),
            data: data.to_owned(),
        }),
        _ => Err(TranslateError::Invalid {
            param: format!("messages[{i}].content[{j}].image_url.url"),
            message: "a data URL must look like `data:image/png;base64,...`".to_owned(),
        }),
    }
}

/// An assistant turn: its text, then its tool calls as `tool_use` blocks.
fn assistant(message: &Message, i: usize) -> Result<WireContent, TranslateError> {
    let Some(calls) = message.tool_calls.as_ref().filter(|c| !c.is_empty()) else {
        return content(message.content.as_ref(), i);
    };
    let mut blocks = into_blocks(content(message.content.as_ref(), i)?);
    for (k, call) in calls.iter().enumerate() {
        let arguments = call.function.arguments.trim();
        let input = if arguments.is_empty() {
            Value::Object(Extra::new())
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
        blocks.push(Block::ToolUse {
            id: call.id.clone(),
            name: call.function.name.clone(),
            input,
        });
    }
    Ok(WireContent::Blocks(blocks))
}

type Tools = (Option<Vec<WireTool>>, Option<WireToolChoice>);

/// `tools`, `tool_choice` and `parallel_tool_calls`.
fn tools(req: &ChatRequest) -> Result<Tools, TranslateError> {
    let mut tools = Vec::new();
    for (i, tool) in req.tools().iter().enumerate() {
        if tool.kind != "function" {
            return Err(TranslateError::Unsupported {
                param: format!("tools[{i}].type"),
                provider: NAME,
            });
        }
        let f = &tool.function;
        tools.push(WireTool {
            name: f.name.clone(),
            description: f.description.clone(),
            input_schema: f
                .parameters
                .clone()
                .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
            cache_control: sy_llm::chat::breakpoint(&tool.extra).cloned(),
        });
    }
    if tools.is_empty() {
        return Ok((None, None));
    }
    let mut choice = req.tool_choice.as_ref().map(|choice| match choice {
        ToolChoice::Mode(ToolChoiceMode::Auto) => tool_choice("auto", None),
        ToolChoice::Mode(ToolChoiceMode::Required) => tool_choice("any", None),
        ToolChoice::Mode(ToolChoiceMode::None) => tool_choice("none", None),
        ToolChoice::Named(named) => tool_choice("tool", Some(named.function.name.clone())),
    });
    if req.parallel_tool_calls == Some(false) {
        let choice = choice.get_or_insert_with(|| tool_choice("auto", None));
        if choice.kind != "none" {
            choice.disable_parallel_tool_use = Some(true);
        }
    }
    Ok((Some(tools), choice))
}

fn tool_choice(kind: &'static str, name: Option<String>) -> WireToolChoice {
    WireToolChoice {
        kind,
        name,
        disable_parallel_tool_use: None,
    }
}

/// The forced tool emulating JSON output, or `None` for plain text.
fn json_tool(format: &ResponseFormat) -> Option<WireTool> {
    match format {
        ResponseFormat::Text => None,
        ResponseFormat::JsonObject => Some(WireTool {
            name: JSON_TOOL.to_owned(),
            description: Some("Respond with a JSON object.".to_owned()),
            input_schema: json!({"type": "object"}),
            cache_control: None,
        }),
        ResponseFormat::JsonSchema { json_schema } => Some(WireTool {
            name: JSON_TOOL.to_owned(),
            description: Some(json_schema.description.clone().unwrap_or_else(|| {
                format!(
                    "Respond with JSON following the `{}` schema.",
                    json_schema.name
                )
            })),
            input_schema: json_schema
                .schema
                .clone()
                .unwrap_or_else(|| json!({"type": "object"})),
            cache_control: None,
        }),
    }
}
