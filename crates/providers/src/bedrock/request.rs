//! Canonical request → Converse request.

use serde_json::{Value, json};
use sy_llm::ChatRequest;
use sy_llm::chat::{
    ContentPart, Extra, InlineFile, Message, MessageContent, ResponseFormat, Role, ToolChoice,
    ToolChoiceMode, breakpoint,
};

use super::wire::{
    Block, CachePoint, ConverseRequest, DocumentBlock, Empty, ImageBlock, ImageSource,
    InferenceConfig, InputSchema, NamedTool, SystemBlock, ToolConfig, ToolResultBlock,
    ToolResultContent, ToolSpec, ToolUseBlock, WireMessage, WireTool, WireToolChoice,
};
use super::{JSON_TOOL, NAME};
use crate::params::{Loss, is_off, strip, unsupported};
use crate::{ProviderEndpoint, TranslateError};

/// Bedrock's own top-level fields, passed through when sent as extra
/// fields.
const NATIVE: &[&str] = &[
    "additionalModelRequestFields",
    "additionalModelResponseFieldPaths",
    "guardrailConfig",
    "performanceConfig",
    "promptVariables",
    "requestMetadata",
];

/// Extra fields whose loss changes the answer's shape.
const SHAPE: &[(&str, Loss)] = &[
    ("logprobs", Loss::Shape),
    ("top_logprobs", Loss::Shape),
    ("audio", Loss::Shape),
];

/// `cache`: whether the model takes prompt-caching checkpoints (Claude and
/// Nova do; others refuse them), which are then written where the client
/// marked `cache_control`.
pub(super) fn build(
    endpoint: &ProviderEndpoint,
    req: &ChatRequest,
    cache: bool,
) -> Result<ConverseRequest, TranslateError> {
    let policy = endpoint.unsupported_params;
    let mut extra = req.extra.clone();
    let mut native = Extra::new();
    for key in NATIVE {
        if let Some(value) = extra.remove(*key) {
            native.insert((*key).to_owned(), value);
        }
    }
    strip(&mut extra, SHAPE, policy, NAME)?;
    // Everything left is an OpenAI hint Bedrock lacks (`presence_penalty`,
    // `user`, `stream_options`, ...).
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
    if req.user.is_some() {
        unsupported(policy, NAME, "user", Loss::Hint)?;
    }
    if req.parallel_tool_calls == Some(false) {
        unsupported(policy, NAME, "parallel_tool_calls", Loss::Hint)?;
    }

    let (system, messages) = messages(&req.messages, cache)?;
    let mut tool_config = tools(req, &messages, cache)?;
    if let Some(tool) = req.response_format.as_ref().and_then(json_tool) {
        if tool_config.is_some() {
            unsupported(policy, NAME, "response_format", Loss::Shape)?;
        }
        tool_config = Some(ToolConfig {
            tools: vec![tool],
            tool_choice: Some(WireToolChoice::Tool(NamedTool {
                name: JSON_TOOL.to_owned(),
            })),
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
    let config = InferenceConfig {
        max_tokens: req.completion_cap(),
        temperature: req.temperature,
        top_p: req.top_p,
        stop_sequences,
    };
    let empty = config.max_tokens.is_none()
        && config.temperature.is_none()
        && config.top_p.is_none()
        && config.stop_sequences.is_none();
    Ok(ConverseRequest {
        system,
        messages,
        inference_config: (!empty).then_some(config),
        tool_config,
        extra: native,
    })
}

/// The checkpoint for a breakpoint (a `cache_control` value), if there is
/// one. Its `ttl` is carried when Bedrock takes it (`5m`, `1h`), so a client
/// paying for an hour gets an hour; any other lifetime is left out, and
/// Bedrock's five minutes apply, rather than the request being refused.
///
/// Bedrock refuses a checkpoint with a longer lifetime than one before it
/// (in the order `toolConfig`, `system`, `messages`). The lifetimes are the
/// client's, as at Anthropic, which has the same rule: they are passed on
/// as written, neither reordered nor shortened.
fn checkpoint(cache_control: Option<&Value>) -> Option<CachePoint> {
    let ttl = cache_control?.get("ttl").and_then(Value::as_str);
    Some(CachePoint {
        kind: "default",
        ttl: match ttl {
            Some("5m") => Some("5m"),
            Some("1h") => Some("1h"),
            _ => None,
        },
    })
}

/// The system blocks and the turns; checkpoints after marked parts when
/// `cache`.
fn messages(
    input: &[Message],
    cache: bool,
) -> Result<(Vec<SystemBlock>, Vec<WireMessage>), TranslateError> {
    let mut system = Vec::new();
    let mut turns: Vec<WireMessage> = Vec::new();
    for (i, message) in input.iter().enumerate() {
        let (role, content) = match message.role {
            Role::System | Role::Developer => {
                let marked = match &message.content {
                    Some(MessageContent::Parts(parts)) if cache => parts.iter().any(|p| {
                        matches!(p, ContentPart::Text { .. }) && p.cache_control().is_some()
                    }),
                    _ => false,
                };
                if marked && let Some(MessageContent::Parts(parts)) = &message.content {
                    // Part by part, so the checkpoint follows its part.
                    for part in parts {
                        if let ContentPart::Text { text, .. } = part {
                            if !text.is_empty() {
                                system.push(SystemBlock::Text(text.clone()));
                            }
                            if let Some(point) = checkpoint(part.cache_control()) {
                                system.push(SystemBlock::CachePoint(point));
                            }
                        }
                    }
                    continue;
                }
                let text = message.text_content();
                if !text.is_empty() {
                    system.push(SystemBlock::Text(text));
                }
                continue;
            }
            Role::User => ("user", blocks(message.content.as_ref(), i, cache)?),
            Role::Assistant => ("assistant", assistant(message, i, cache)?),
            Role::Tool => {
                let content = blocks(message.content.as_ref(), i, false)?
                    .into_iter()
                    .filter_map(|block| match block {
                        Block::Text(text) => Some(ToolResultContent::Text(text)),
                        Block::Image(image) => Some(ToolResultContent::Image(image)),
                        Block::Document(document) => Some(ToolResultContent::Document(document)),
                        Block::ToolUse(_) | Block::ToolResult(_) | Block::CachePoint(_) => None,
                    })
                    .collect();
                let result = Block::ToolResult(ToolResultBlock {
                    tool_use_id: message.tool_call_id.clone().unwrap_or_default(),
                    content,
                    status: None,
                });
                // A checkpoint cannot sit inside a tool result: a marked
                // part of one puts it right after the result, as the
                // Anthropic adapter moves it onto the result block.
                let point = match &message.content {
                    Some(MessageContent::Parts(parts)) if cache => parts
                        .iter()
                        .rev()
                        .find_map(|p| checkpoint(p.cache_control())),
                    _ => None,
                };
                let mut turn = vec![result];
                turn.extend(point.map(Block::CachePoint));
                ("user", turn)
            }
            Role::Function => {
                return Err(TranslateError::Unsupported {
                    param: format!("messages[{i}].role"),
                    provider: NAME,
                });
            }
        };
        // Bedrock wants alternating turns: tool results answering one
        // assistant turn belong in one user turn.
        match turns.last_mut().filter(|t| t.role == role) {
            Some(last) => last.content.extend(content),
            None => turns.push(WireMessage { role, content }),
        }
    }
    Ok((system, turns))
}

/// User or tool content as blocks (a string is one text block), with a
/// checkpoint after each marked text or image part when `cache`.
fn blocks(
    content: Option<&MessageContent>,
    i: usize,
    cache: bool,
) -> Result<Vec<Block>, TranslateError> {
    let parts = match content {
        None => return Ok(Vec::new()),
        Some(MessageContent::Text(text)) if text.is_empty() => return Ok(Vec::new()),
        Some(MessageContent::Text(text)) => return Ok(vec![Block::Text(text.clone())]),
        Some(MessageContent::Parts(parts)) => parts,
    };
    let mut out = Vec::with_capacity(parts.len());
    for (j, part) in parts.iter().enumerate() {
        match part {
            ContentPart::Text { text, .. } => {
                if !text.is_empty() {
                    out.push(Block::Text(text.clone()));
                }
            }
            ContentPart::ImageUrl { image_url, .. } => {
                out.push(Block::Image(image(&image_url.url, i, j)?));
            }
            ContentPart::Other(_) if let Some(file) = part.inline_file() => {
                out.push(Block::Document(document(file, i, j)?));
            }
            ContentPart::Other(_) => {
                return Err(TranslateError::Unsupported {
                    param: format!("messages[{i}].content[{j}].type"),
                    provider: NAME,
                });
            }
        }
        if cache && let Some(point) = checkpoint(part.cache_control()) {
            out.push(Block::CachePoint(point));
        }
    }
    Ok(out)
}

/// An inline file → a document block. Converse takes a document's format
/// from a fixed list and requires a name of restricted characters: the
/// client's file name, cleaned, with the part's place so that two files of
/// one name stay apart.
fn document(file: InlineFile<'_>, i: usize, j: usize) -> Result<DocumentBlock, TranslateError> {
    let format = match file.media_type.to_ascii_lowercase().as_str() {
        "application/pdf" => "pdf",
        "text/csv" => "csv",
        "application/msword" => "doc",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        "text/html" => "html",
        "text/plain" => "txt",
        "text/markdown" => "md",
        _ => {
            return Err(TranslateError::Invalid {
                param: format!("messages[{i}].content[{j}].file.file_data"),
                message: format!(
                    "provider {NAME} reads pdf, csv, doc, docx, xls, xlsx, html, txt and md documents, not {}",
                    file.media_type
                ),
            });
        }
    };
    let stem = file
        .filename
        .map(|f| f.rsplit_once('.').map_or(f, |(stem, _)| stem))
        .unwrap_or_default();
    let mut name = String::with_capacity(stem.len() + 16);
    for c in stem.chars() {
        let c = match c {
            c if c.is_ascii_alphanumeric() || "-()[]".contains(c) => c,
            _ => ' ',
        };
        if c != ' ' || !(name.is_empty() || name.ends_with(' ')) {
            name.push(c);
        }
    }
    let name = match name.trim_end() {
        "" => format!("document ({i}-{j})"),
        cleaned => format!("{cleaned} ({i}-{j})"),
    };
    Ok(DocumentBlock {
        format,
        name,
        source: ImageSource {
            bytes: file.data.to_owned(),
        },
    })
}

/// `data:image/<format>;base64,<data>` → an inline image. Bedrock takes
/// bytes (or S3 locations), never an HTTP URL, and the gateway does not
/// fetch: a remote URL is refused.
fn image(url: &str, i: usize, j: usize) -> Result<ImageBlock, TranslateError> {
    let param = || format!("messages[{i}].content[{j}].image_url.url");
    let Some(rest) = url.strip_prefix("data:") else {
        return Err(TranslateError::Unsupported {
            param: param(),
            provider: NAME,
        });
    };
    let parsed = rest
        .split_once(',')
        .and_then(|(meta, data)| Some((meta.strip_suffix(";base64")?, data)));
    let Some((media_type, data)) = parsed else {
        return Err(TranslateError::Invalid {
            param: param(),
            message: "a data URL must look like `data:image/png;base64,...`".to_owned(),
        });
    };
    let format = match media_type {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpeg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => {
            return Err(TranslateError::Invalid {
                param: param(),
                message: format!("provider {NAME} takes png, jpeg, gif or webp images"),
            });
        }
    };
    Ok(ImageBlock {
        format,
        source: ImageSource {
            bytes: data.to_owned(),
        },
    })
}

/// An assistant turn: its text, then its tool calls as `toolUse` blocks.
fn assistant(message: &Message, i: usize, cache: bool) -> Result<Vec<Block>, TranslateError> {
    let mut out = blocks(message.content.as_ref(), i, cache)?;
    for (k, call) in message.tool_calls.iter().flatten().enumerate() {
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
        out.push(Block::ToolUse(ToolUseBlock {
            tool_use_id: call.id.clone(),
            name: call.function.name.clone(),
            input,
        }));
    }
    Ok(out)
}

/// `tools` and `tool_choice` → `toolConfig`.
///
/// Bedrock has no `none` choice: with `tool_choice: none` the tools are
/// left out, unless the conversation already holds tool calls (Bedrock
/// then requires `toolConfig`), where the request is refused rather than
/// letting the model call tools the client ruled out.
fn tools(
    req: &ChatRequest,
    turns: &[WireMessage],
    cache: bool,
) -> Result<Option<ToolConfig>, TranslateError> {
    let mut tools = Vec::new();
    for (i, tool) in req.tools().iter().enumerate() {
        if tool.kind != "function" {
            return Err(TranslateError::Unsupported {
                param: format!("tools[{i}].type"),
                provider: NAME,
            });
        }
        let f = &tool.function;
        tools.push(WireTool::ToolSpec(ToolSpec {
            name: f.name.clone(),
            description: f.description.clone(),
            input_schema: InputSchema {
                json: f
                    .parameters
                    .clone()
                    .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
            },
        }));
        if cache && let Some(point) = checkpoint(breakpoint(&tool.extra)) {
            tools.push(WireTool::CachePoint(point));
        }
    }
    if tools.is_empty() {
        return Ok(None);
    }
    let tool_choice = match &req.tool_choice {
        None => None,
        Some(ToolChoice::Mode(ToolChoiceMode::Auto)) => Some(WireToolChoice::Auto(Empty {})),
        Some(ToolChoice::Mode(ToolChoiceMode::Required)) => Some(WireToolChoice::Any(Empty {})),
        Some(ToolChoice::Named(named)) => Some(WireToolChoice::Tool(NamedTool {
            name: named.function.name.clone(),
        })),
        Some(ToolChoice::Mode(ToolChoiceMode::None)) => {
            let used = turns
                .iter()
                .flat_map(|t| &t.content)
                .any(|b| matches!(b, Block::ToolUse(_) | Block::ToolResult(_)));
            if used {
                return Err(TranslateError::Unsupported {
                    param: "tool_choice".to_owned(),
                    provider: NAME,
                });
            }
            return Ok(None);
        }
    };
    Ok(Some(ToolConfig { tools, tool_choice }))
}

/// The forced tool emulating JSON output, or `None` for plain text.
fn json_tool(format: &ResponseFormat) -> Option<WireTool> {
    let (description, schema) = match format {
        ResponseFormat::Text => return None,
        ResponseFormat::JsonObject => (
            "Respond with a JSON object.".to_owned(),
            json!({"type": "object"}),
        ),
        ResponseFormat::JsonSchema { json_schema } => (
            json_schema.description.clone().unwrap_or_else(|| {
                format!(
                    "Respond with JSON following the `{}` schema.",
                    json_schema.name
                )
            }),
            json_schema
                .schema
                .clone()
                .unwrap_or_else(|| json!({"type": "object"})),
        ),
    };
    Some(WireTool::ToolSpec(ToolSpec {
        name: JSON_TOOL.to_owned(),
        description: Some(description),
        input_schema: InputSchema { json: schema },
    }))
}
