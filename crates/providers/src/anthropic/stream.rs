//! Messages API event stream → canonical chunks.
//!
//! | Anthropic event | canonical chunk |
//! |---|---|
//! | `message_start` | `delta.role: assistant`, `content: ""`; input usage kept |
//! | `content_block_start` text / tool_use / thinking | text if any / a tool call's first piece (`id`, name) / nothing |
//! | `content_block_delta` `text_delta` | `delta.content` |
//! | `content_block_delta` `input_json_delta` | `delta.tool_calls[].function.arguments` (text for the JSON tool) |
//! | `content_block_delta` `thinking_delta` | `delta.reasoning_content` |
//! | `message_delta` | the finish chunk (`stop_reason` mapped); output usage kept |
//! | `message_stop` | the usage-only chunk |
//! | `ping`, `content_block_stop`, unknown events | nothing |
//! | `error` | the stream's error |

use std::collections::HashMap;

use sy_llm::ChatChunk;
use sy_llm::chat::{ChunkChoice, Delta, FinishReason, FunctionCallDelta, Role, ToolCallDelta};
use sy_llm::sse::{SseDecoder, SseEvent};

use super::response::{REASONING, finish_reason, stream_error, usage};
use super::wire::{BlockDelta, ResponseBlock, StreamEvent, WireUsage};
use super::{JSON_TOOL, NAME};
use crate::{StreamDecoder, TranslateError};

/// What a content block index stands for.
#[derive(Debug, Clone, Copy)]
enum BlockKind {
    Text,
    /// A client tool call, with its position among the message's calls.
    Tool(u32),
    /// The JSON-output emulation tool: its input is the answer text.
    Json,
    Thinking,
    Other,
}

/// The decoder.
#[derive(Debug, Default)]
pub(super) struct AnthropicStream {
    sse: SseDecoder,
    id: String,
    model: String,
    usage: WireUsage,
    blocks: HashMap<u32, BlockKind>,
    tool_calls: u32,
    finished: bool,
    stopped: bool,
    /// An error held back until the chunks decoded before it are out.
    failed: Option<TranslateError>,
}

impl AnthropicStream {
    fn chunk(&self, delta: Delta) -> ChatChunk {
        ChatChunk::new(
            self.id.clone(),
            0,
            self.model.clone(),
            vec![ChunkChoice::delta(0, delta)],
        )
    }

    fn text(&self, text: String) -> ChatChunk {
        self.chunk(Delta {
            content: Some(text),
            ..Delta::default()
        })
    }

    fn tool(&self, piece: ToolCallDelta) -> ChatChunk {
        self.chunk(Delta {
            tool_calls: Some(vec![piece]),
            ..Delta::default()
        })
    }

    fn event(&mut self, event: SseEvent, out: &mut Vec<ChatChunk>) -> Result<(), TranslateError> {
        if self.stopped {
            return Ok(());
        }
        let parsed: StreamEvent =
            serde_json::from_str(&event.data).map_err(|e| TranslateError::malformed(NAME, e))?;
        match parsed {
            StreamEvent::MessageStart { message } => {
                self.id = message.id;
                self.model = message.model;
                self.usage = message.usage;
                out.push(self.chunk(Delta {
                    role: Some(Role::Assistant),
                    content: Some(String::new()),
                    ..Delta::default()
                }));
            }
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => self.block_start(index, content_block, out),
            StreamEvent::ContentBlockDelta { index, delta } => self.block_delta(index, delta, out),
            StreamEvent::MessageDelta { delta, usage } => {
                if let Some(update) = usage {
                    merge(&mut self.usage, update);
                }
                let reason = finish_reason(delta.stop_reason.as_deref(), self.tool_calls > 0);
                self.finish(reason, out);
            }
            StreamEvent::MessageStop {} => {
                self.finish(FinishReason::Stop, out);
                self.stopped = true;
                let mut chunk = ChatChunk::new(self.id.clone(), 0, self.model.clone(), Vec::new());
                chunk.usage = Some(usage(&self.usage));
                out.push(chunk);
            }
            StreamEvent::Error { error } => {
                return Err(TranslateError::Upstream(stream_error(
                    &error.kind,
                    error.message,
                )));
            }
            StreamEvent::ContentBlockStop {} | StreamEvent::Ping {} | StreamEvent::Unknown => {}
        }
        Ok(())
    }

    fn block_start(&mut self, index: u32, block: ResponseBlock, out: &mut Vec<ChatChunk>) {
        let kind = match block {
            ResponseBlock::Text { text } => {
                if !text.is_empty() {
                    out.push(self.text(text));
                }
                BlockKind::Text
            }
            ResponseBlock::ToolUse { name, .. } if name == JSON_TOOL => BlockKind::Json,
            ResponseBlock::ToolUse { id, name, .. } => {
                let position = self.tool_calls;
                self.tool_calls += 1;
                out.push(self.tool(ToolCallDelta {
                    index: position,
                    id: Some(id),
                    kind: Some("function".to_owned()),
                    function: Some(FunctionCallDelta {
                        name: Some(name),
                        arguments: Some(String::new()),
                    }),
                }));
                BlockKind::Tool(position)
            }
            ResponseBlock::Thinking { thinking } => {
                if !thinking.is_empty() {
                    out.push(self.reasoning(thinking));
                }
                BlockKind::Thinking
            }
            ResponseBlock::Other => BlockKind::Other,
        };
        self.blocks.insert(index, kind);
    }

    fn block_delta(&mut self, index: u32, delta: BlockDelta, out: &mut Vec<ChatChunk>) {
        let kind = self.blocks.get(&index).copied().unwrap_or(BlockKind::Text);
        match (delta, kind) {
            (BlockDelta::TextDelta { text }, _) => out.push(self.text(text)),
            (BlockDelta::InputJsonDelta { partial_json }, _) if partial_json.is_empty() => {}
            (BlockDelta::InputJsonDelta { partial_json }, BlockKind::Json) => {
                out.push(self.text(partial_json));
            }
            (BlockDelta::InputJsonDelta { partial_json }, BlockKind::Tool(position)) => {
                out.push(self.tool(ToolCallDelta {
                    index: position,
                    id: None,
                    kind: None,
                    function: Some(FunctionCallDelta {
                        name: None,
                        arguments: Some(partial_json),
                    }),
                }));
            }
            (BlockDelta::ThinkingDelta { thinking }, _) => out.push(self.reasoning(thinking)),
            _ => {}
        }
    }

    fn reasoning(&self, text: String) -> ChatChunk {
        let mut delta = Delta::default();
        delta.extra.insert(REASONING.to_owned(), text.into());
        self.chunk(delta)
    }

    /// The finish chunk, once.
    fn finish(&mut self, reason: FinishReason, out: &mut Vec<ChatChunk>) {
        if !self.finished {
            self.finished = true;
            out.push(ChatChunk::new(
                self.id.clone(),
                0,
                self.model.clone(),
                vec![ChunkChoice::finish(0, reason)],
            ));
        }
    }
}

/// `message_delta` usage is cumulative: its figures replace earlier ones.
fn merge(usage: &mut WireUsage, update: WireUsage) {
    if update.input_tokens.is_some() {
        usage.input_tokens = update.input_tokens;
    }
    if update.output_tokens.is_some() {
        usage.output_tokens = update.output_tokens;
    }
    if update.cache_read_input_tokens.is_some() {
        usage.cache_read_input_tokens = update.cache_read_input_tokens;
    }
    if update.cache_creation_input_tokens.is_some() {
        usage.cache_creation_input_tokens = update.cache_creation_input_tokens;
    }
    if update.cache_creation.is_some() {
        usage.cache_creation = update.cache_creation;
    }
}

impl StreamDecoder for AnthropicStream {
    fn push(&mut self, bytes: &[u8]) -> Result<Vec<ChatChunk>, TranslateError> {
        if let Some(error) = self.failed.take() {
            return Err(error);
        }
        let events = self
            .sse
            .push(bytes)
            .map_err(|e| TranslateError::malformed(NAME, e))?;
        let mut out = Vec::new();
        for event in events {
            if let Err(error) = self.event(event, &mut out) {
                if out.is_empty() {
                    return Err(error);
                }
                // Hand out what came before the error first.
                self.failed = Some(error);
                break;
            }
        }
        Ok(out)
    }

    fn finish(&mut self) -> Result<Vec<ChatChunk>, TranslateError> {
        if let Some(error) = self.failed.take() {
            return Err(error);
        }
        let mut out = Vec::new();
        if let Some(event) = self.sse.finish() {
            // An event without its closing blank line that does not parse
            // was cut in the middle: reported as the truncation below.
            if let Err(error @ TranslateError::Upstream(_)) = self.event(event, &mut out) {
                return Err(error);
            }
        }
        if !self.stopped && self.finished {
            // Cut after the finish: only `message_stop` is missing, and
            // the usage it would have closed with is known.
            self.event(SseEvent::data(r#"{"type":"message_stop"}"#), &mut out)?;
        }
        if !self.stopped {
            return Err(TranslateError::malformed(
                NAME,
                "the stream ended before `message_stop`",
            ));
        }
        Ok(out)
    }
}
