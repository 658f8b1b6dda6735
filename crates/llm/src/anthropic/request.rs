//! Anthropic request → canonical [`ChatRequest`].
//!
//! Mapping:
//! - `system` (string or text blocks, joined with `\n`) → a leading
//!   `system` message;
//! - message blocks: `text` → text parts, `image` → `image_url` parts
//!   (base64 as a `data:` URL), `document` → a `file` part (PDF) or a text
//!   part (plain text); a text or image block's `cache_control` (a
//!   prompt-caching breakpoint) rides on its part; a content list holding a
//!   single text part collapses to a plain string, which every provider
//!   accepts;
//! - assistant `tool_use` blocks → the message's `tool_calls` (input object
//!   re-encoded as the arguments text);
//! - user `tool_result` blocks → one `tool` message each, placed before the
//!   rest of the user message (OpenAI requires tool messages right after
//!   the assistant's calls); a failed result's text is prefixed with
//!   `Error: `, as there is no `is_error` field elsewhere; images and
//!   documents in a result move to a user message after the tool
//!   messages, blocks kept whole stay in it after its text;
//! - `thinking` blocks echoed back are dropped (only Anthropic reads them);
//! - any other block (`search_result`, a document by URL or file id, a
//!   newer block type) → a part of its own type, kept whole, which the
//!   Anthropic adapter sends on as it came and other providers refuse;
//! - `tools` → function tools (server tools are refused); `tool_choice`
//!   `auto`/`any`/`tool`/`none` → `auto`/`required`/named/`none`, and
//!   `disable_parallel_tool_use` → `parallel_tool_calls: false`;
//! - `max_tokens`, `stop_sequences`, `temperature`, `top_p`, `stream`
//!   field to field; `metadata.user_id` → `user`; `top_k` and `thinking`
//!   ride in `extra` under their own names, with every unknown field;
//! - a stream asks for the usage chunk, as Anthropic streams always end with
//!   usage.

use serde_json::Value;

use super::error::RequestError;
use super::wire::{
    DocumentSource, ImageSource, InputBlock, InputMessage, InputRole, Kept, MessageBlock,
    MessagesRequest, SystemBlock, TextOrBlocks, ToolChoice as AnthropicToolChoice, ToolResultBlock,
};
use crate::chat::{
    CACHE_CONTROL, ChatRequest, ContentPart, Extra, FunctionCall, FunctionDefinition, FunctionName,
    ImageUrl, Message, MessageContent, NamedToolChoice, Role, Stop, StreamOptions, Tool, ToolCall,
    ToolChoice, ToolChoiceMode,
};

/// Translate a parsed request. Fails only on what no canonical request can
/// express (server tools).
pub fn to_chat_request(request: &MessagesRequest) -> Result<ChatRequest, RequestError> {
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    if let Some(system) = &request.system {
        messages.extend(system_message(system));
    }
    for message in &request.messages {
        translate_message(message, &mut messages);
    }

    let mut chat = ChatRequest::new(request.model.clone(), messages);
    chat.tools = translate_tools(request)?;
    if let Some(choice) = &request.tool_choice {
        chat.tool_choice = Some(match choice {
            AnthropicToolChoice::Auto { .. } => ToolChoice::Mode(ToolChoiceMode::Auto),
            AnthropicToolChoice::Any { .. } => ToolChoice::Mode(ToolChoiceMode::Required),
            AnthropicToolChoice::None {} => ToolChoice::Mode(ToolChoiceMode::None),
            AnthropicToolChoice::Tool { name, .. } => ToolChoice::Named(NamedToolChoice {
                kind: "function".to_owned(),
                function: FunctionName { name: name.clone() },
            }),
        });
        if choice.disables_parallel() {
            chat.parallel_tool_calls = Some(false);
        }
    }
    chat.max_tokens = request.max_tokens;
    chat.stop = request.stop_sequences.clone().map(Stop::Many);
    chat.temperature = request.temperature;
    chat.top_p = request.top_p;
    chat.user = request.metadata.as_ref().and_then(|m| m.user_id.clone());
    chat.stream = request.stream;
    if request.stream == Some(true) {
        chat.stream_options = Some(StreamOptions {
            include_usage: Some(true),
            extra: Extra::new(),
        });
    }
    chat.extra = request.extra.clone();
    if let Some(top_k) = request.top_k {
        chat.extra.insert("top_k".to_owned(), Value::from(top_k));
    }
    if let Some(thinking) = &request.thinking {
        chat.extra.insert("thinking".to_owned(), thinking.clone());
    }
    Ok(chat)
}

/// The system prompt as one system message: its blocks joined into one
/// text, or, when a block marks a prompt-caching breakpoint, kept as text
/// parts each with its own `cache_control` (joined, the breakpoint would
/// have nowhere to go). `None` for an empty prompt.
fn system_message(system: &TextOrBlocks<SystemBlock>) -> Option<Message> {
    let content = match system {
        TextOrBlocks::Text(text) => MessageContent::Text(text.clone()),
        TextOrBlocks::Blocks(blocks)
            if blocks
                .iter()
                .any(|SystemBlock::Text { cache_control, .. }| cache_control.is_some()) =>
        {
            MessageContent::Parts(
                blocks
                    .iter()
                    .map(
                        |SystemBlock::Text {
                             text,
                             cache_control,
                         }| { text_part(text, cache_control.as_ref()) },
                    )
                    .collect(),
            )
        }
        TextOrBlocks::Blocks(blocks) => MessageContent::Text(
            blocks
                .iter()
                .map(|SystemBlock::Text { text, .. }| text.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    };
    if matches!(&content, MessageContent::Text(text) if text.is_empty()) {
        return None;
    }
    Some(Message {
        content: Some(content),
        ..Message::text(Role::System, "")
    })
}

/// A text part, with its prompt-caching breakpoint when it has one.
fn text_part(text: &str, cache_control: Option<&Value>) -> ContentPart {
    ContentPart::Text {
        text: text.to_owned(),
        extra: breakpoint_members(cache_control),
    }
}

/// A part's members: its prompt-caching breakpoint, if it has one.
fn breakpoint_members(cache_control: Option<&Value>) -> Extra {
    cache_control
        .map(|c| Extra::from_iter([(CACHE_CONTROL.to_owned(), c.clone())]))
        .unwrap_or_default()
}

fn translate_tools(request: &MessagesRequest) -> Result<Option<Vec<Tool>>, RequestError> {
    let Some(tools) = &request.tools else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        if let Some(kind) = tool.kind.as_deref().filter(|k| *k != "custom") {
            return Err(RequestError::at(
                &format!("tools.{i}.type"),
                format!(
                    "server tool '{kind}' is not supported by this gateway; declare a client tool with an input_schema"
                ),
            ));
        }
        let Some(schema) = &tool.input_schema else {
            return Err(RequestError::at(
                &format!("tools.{i}.input_schema"),
                "Field required",
            ));
        };
        out.push(Tool {
            kind: "function".to_owned(),
            function: FunctionDefinition {
                name: tool.name.clone(),
                description: tool.description.clone(),
                parameters: Some(schema.clone()),
                strict: None,
            },
            // A prompt-caching breakpoint after the tool definitions.
            extra: breakpoint_members(crate::chat::breakpoint(&tool.extra)),
        });
    }
    Ok(Some(out))
}

/// Append the canonical messages for one Anthropic message.
fn translate_message(message: &InputMessage, out: &mut Vec<Message>) {
    let role = match message.role {
        InputRole::User => Role::User,
        InputRole::Assistant => Role::Assistant,
    };
    let blocks = match &message.content {
        TextOrBlocks::Text(text) => {
            out.push(Message::text(role, text.clone()));
            return;
        }
        TextOrBlocks::Blocks(blocks) => blocks,
    };
    let mut parts = Vec::new();
    let mut calls = Vec::new();
    // Images and documents returned inside tool results: shown to the
    // model as a user message after the tool messages.
    let mut result_images = Vec::new();
    for block in blocks {
        let block = match block {
            MessageBlock::Read(block) => block,
            // Kept whole as a part of its own type: only Anthropic reads it.
            MessageBlock::Native(block) => {
                parts.push(ContentPart::Other(block.clone()));
                continue;
            }
        };
        match block {
            InputBlock::Text {
                text,
                cache_control,
            } => parts.push(text_part(text, cache_control.as_ref())),
            InputBlock::Image {
                source,
                cache_control,
            } => parts.push(image_part(source, cache_control.as_ref())),
            InputBlock::Document {
                source,
                cache_control,
            } => parts.push(document_part(source, cache_control.as_ref())),
            InputBlock::ToolUse { id, name, input } => calls.push(ToolCall {
                id: id.clone(),
                kind: "function".to_owned(),
                function: FunctionCall {
                    name: name.clone(),
                    arguments: input.to_string(),
                },
            }),
            InputBlock::ToolResult {
                tool_use_id,
                content,
                is_error,
                cache_control,
            } => {
                let mut texts = Vec::new();
                let mut natives = Vec::new();
                // A breakpoint on the result's text marks the result.
                let mut cache_control = cache_control.as_ref();
                match content {
                    None => {}
                    Some(TextOrBlocks::Text(text)) => texts.push(text.as_str()),
                    Some(TextOrBlocks::Blocks(items)) => {
                        for item in items {
                            let item = match item {
                                Kept::Read(item) => item,
                                // Stays in the result (a `search_result`
                                // belongs there), kept whole for Anthropic.
                                Kept::Native(block) => {
                                    natives.push(ContentPart::Other(block.clone()));
                                    continue;
                                }
                            };
                            match item {
                                ToolResultBlock::Text {
                                    text,
                                    cache_control: c,
                                } => {
                                    texts.push(text);
                                    cache_control = cache_control.or(c.as_ref());
                                }
                                ToolResultBlock::Image {
                                    source,
                                    cache_control: c,
                                } => {
                                    result_images.push(image_part(source, c.as_ref()));
                                }
                                ToolResultBlock::Document {
                                    source,
                                    cache_control: c,
                                } => {
                                    result_images.push(document_part(source, c.as_ref()));
                                }
                            }
                        }
                    }
                }
                let mut text = texts.join("\n");
                if is_error.unwrap_or(false) {
                    text = format!("Error: {text}");
                }
                let mut tool = Message::text(Role::Tool, "");
                // A breakpoint rides on the result's text part.
                tool.content = Some(match (cache_control, natives.is_empty()) {
                    (None, true) => MessageContent::Text(text),
                    (c, true) => MessageContent::Parts(vec![text_part(&text, c)]),
                    // The text (if any) first, then the blocks kept whole.
                    (c, false) => {
                        let mut parts = Vec::with_capacity(natives.len() + 1);
                        if !text.is_empty() || c.is_some() {
                            parts.push(text_part(&text, c));
                        }
                        parts.extend(natives);
                        MessageContent::Parts(parts)
                    }
                });
                tool.tool_call_id = Some(tool_use_id.clone());
                out.push(tool);
            }
            InputBlock::Thinking {} | InputBlock::RedactedThinking {} => {}
        }
    }
    if !result_images.is_empty() {
        out.push(Message {
            content: Some(MessageContent::Parts(result_images)),
            ..Message::text(Role::User, "")
        });
    }
    if parts.is_empty() && calls.is_empty() {
        return;
    }
    let content = match parts.as_slice() {
        [] => None,
        [ContentPart::Text { text, extra }] if extra.is_empty() => {
            Some(MessageContent::Text(text.clone()))
        }
        _ => Some(MessageContent::Parts(parts)),
    };
    out.push(Message {
        role,
        content,
        name: None,
        tool_calls: (!calls.is_empty()).then_some(calls),
        tool_call_id: None,
        extra: Extra::new(),
    });
}

/// An image part, with its prompt-caching breakpoint (on the part, as a
/// text part's) when it has one.
fn image_part(source: &ImageSource, cache_control: Option<&Value>) -> ContentPart {
    let url = match source {
        ImageSource::Base64 { media_type, data } => format!("data:{media_type};base64,{data}"),
        ImageSource::Url { url } => url.clone(),
    };
    ContentPart::ImageUrl {
        image_url: ImageUrl {
            url,
            detail: None,
            extra: Extra::new(),
        },
        extra: breakpoint_members(cache_control),
    }
}

/// A document as OpenAI's inline `file` part (PDF), or a text part (plain
/// text), with its prompt-caching breakpoint on the part.
fn document_part(source: &DocumentSource, cache_control: Option<&Value>) -> ContentPart {
    match source {
        DocumentSource::Base64 { media_type, data } => {
            let mut file = Extra::new();
            file.insert(
                "file_data".to_owned(),
                Value::from(format!("data:{media_type};base64,{data}")),
            );
            let mut part = breakpoint_members(cache_control);
            part.insert("type".to_owned(), Value::from("file"));
            part.insert("file".to_owned(), Value::Object(file));
            ContentPart::Other(part)
        }
        DocumentSource::Text { data, .. } => text_part(data, cache_control),
    }
}
