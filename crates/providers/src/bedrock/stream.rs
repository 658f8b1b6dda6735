//! ConverseStream body → canonical chunks.
//!
//! Framing: the body is `application/vnd.amazon.eventstream`, a sequence
//! of binary messages, each:
//!
//! ```text
//! total length   u32 BE   (whole message, these 4 bytes and the CRC included)
//! headers length u32 BE
//! prelude CRC    u32 BE   (CRC-32 of the 8 bytes above)
//! headers        name len u8, name, value type u8, value (strings: u16 BE len + bytes)
//! payload        JSON
//! message CRC    u32 BE   (CRC-32 of everything before it)
//! ```
//!
//! Frames are decoded, both CRCs verified, by `aws-smithy-eventstream`'s
//! `MessageFrameDecoder` (the AWS SDK's own, without the SDK); this file
//! buffers bytes split anywhere and reads the headers `:message-type`
//! (`event`, `exception`, `error`), `:event-type` / `:exception-type`.
//!
//! | Bedrock frame | canonical chunk |
//! |---|---|
//! | `messageStart` | `delta.role: assistant`, `content: ""` |
//! | `contentBlockStart` with `toolUse` | a tool call's first piece (`id`, name); nothing for the JSON tool |
//! | `contentBlockDelta` `text` | `delta.content` |
//! | `contentBlockDelta` `toolUse.input` | `delta.tool_calls[].function.arguments` (text for the JSON tool) |
//! | `contentBlockDelta` `reasoningContent.text` | `delta.reasoning_content` |
//! | `messageStop` | the finish chunk (`stopReason` mapped) |
//! | `metadata` | the usage-only chunk; the stream is complete |
//! | `contentBlockStop`, unknown events | nothing |
//! | exception (`throttlingException`, ...), error | the stream's error |

use std::collections::HashMap;

use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
use aws_smithy_types::event_stream::Message;
use bytes::{Buf, BytesMut};
use serde::de::DeserializeOwned;
use sy_llm::ChatChunk;
use sy_llm::chat::{ChunkChoice, Delta, FinishReason, FunctionCallDelta, Role, ToolCallDelta};

use super::response::{REASONING, finish_reason, stream_error, usage};
use super::wire::{BlockDeltaEvent, BlockStartEvent, ErrorBody, MessageStopEvent, MetadataEvent};
use super::{JSON_TOOL, NAME};
use crate::{ProviderError, ProviderErrorKind, StreamDecoder, TranslateError};

/// Largest message accepted (the event stream format's own limit is
/// 16 MiB); a larger announced length is garbage, not a reason to buffer.
const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// What a content block index stands for.
#[derive(Debug, Clone, Copy)]
enum BlockKind {
    Text,
    /// A client tool call, with its position among the message's calls.
    Tool(u32),
    /// The JSON-output emulation tool: its input is the answer text.
    Json,
}

/// The decoder.
#[derive(Debug, Default)]
pub(super) struct BedrockStream {
    buffer: BytesMut,
    frames: MessageFrameDecoder,
    /// The frame decoder holds a prelude and waits for the rest.
    mid_frame: bool,
    blocks: HashMap<u32, BlockKind>,
    tool_calls: u32,
    finished: bool,
    stopped: bool,
    /// An error held back until the chunks decoded before it are out.
    failed: Option<TranslateError>,
}

fn chunk(delta: Delta) -> ChatChunk {
    ChatChunk::new(
        String::new(),
        0,
        String::new(),
        vec![ChunkChoice::delta(0, delta)],
    )
}

fn text(text: String) -> ChatChunk {
    chunk(Delta {
        content: Some(text),
        ..Delta::default()
    })
}

fn tool(piece: ToolCallDelta) -> ChatChunk {
    chunk(Delta {
        tool_calls: Some(vec![piece]),
        ..Delta::default()
    })
}

/// A header's string value.
fn header<'m>(message: &'m Message, name: &str) -> Option<&'m str> {
    message
        .headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| h.value().as_string().ok())
        .map(|s| s.as_str())
}

fn payload<T: DeserializeOwned>(message: &Message) -> Result<T, TranslateError> {
    sy_llm::from_json(message.payload()).map_err(|e| TranslateError::malformed(NAME, e))
}

impl BedrockStream {
    /// The next whole message in the buffer, if there is one.
    fn next_message(&mut self) -> Result<Option<Message>, TranslateError> {
        if !self.mid_frame && self.buffer.len() >= 4 {
            let total = (&self.buffer[..4]).get_u32() as usize;
            if total > MAX_MESSAGE {
                return Err(TranslateError::malformed(
                    NAME,
                    format!("an event stream message announces {total} bytes"),
                ));
            }
        }
        let had_prelude = self.mid_frame || self.buffer.len() >= 12;
        match self.frames.decode_frame(&mut self.buffer) {
            Ok(DecodedFrame::Complete(message)) => {
                self.mid_frame = false;
                Ok(Some(message))
            }
            Ok(DecodedFrame::Incomplete) => {
                self.mid_frame = had_prelude;
                Ok(None)
            }
            Err(e) => Err(TranslateError::malformed(NAME, e)),
        }
    }

    fn message(
        &mut self,
        message: &Message,
        out: &mut Vec<ChatChunk>,
    ) -> Result<(), TranslateError> {
        match header(message, ":message-type") {
            Some("event") => {}
            Some("exception") => {
                let kind = header(message, ":exception-type").unwrap_or_default();
                let body: ErrorBody = payload(message).unwrap_or_default();
                return Err(TranslateError::Upstream(stream_error(kind, body.message)));
            }
            Some("error") => {
                let code = header(message, ":error-code").unwrap_or("error");
                let text = header(message, ":error-message").unwrap_or(code);
                let mut error = ProviderError::new(500, ProviderErrorKind::Server, text);
                error.code = Some(code.to_owned());
                return Err(TranslateError::Upstream(error));
            }
            other => {
                return Err(TranslateError::malformed(
                    NAME,
                    format!("unknown event stream message type {other:?}"),
                ));
            }
        }
        if self.stopped {
            return Ok(());
        }
        match header(message, ":event-type").unwrap_or_default() {
            "messageStart" => out.push(chunk(Delta {
                role: Some(Role::Assistant),
                content: Some(String::new()),
                ..Delta::default()
            })),
            "contentBlockStart" => {
                let event: BlockStartEvent = payload(message)?;
                self.block_start(event, out);
            }
            "contentBlockDelta" => {
                let event: BlockDeltaEvent = payload(message)?;
                self.block_delta(event, out);
            }
            "messageStop" => {
                let event: MessageStopEvent = payload(message)?;
                let reason = finish_reason(event.stop_reason.as_deref(), self.tool_calls > 0);
                self.finish(reason, out);
            }
            "metadata" => {
                let event: MetadataEvent = payload(message)?;
                self.finish(FinishReason::Stop, out);
                self.stopped = true;
                let mut last = ChatChunk::new(String::new(), 0, String::new(), Vec::new());
                last.usage = Some(usage(&event.usage.unwrap_or_default()));
                out.push(last);
            }
            _ => {}
        }
        Ok(())
    }

    fn block_start(&mut self, event: BlockStartEvent, out: &mut Vec<ChatChunk>) {
        let kind = match event.start.tool_use {
            Some(start) if start.name == JSON_TOOL => BlockKind::Json,
            Some(start) => {
                let position = self.tool_calls;
                self.tool_calls += 1;
                out.push(tool(ToolCallDelta {
                    index: position,
                    id: Some(start.tool_use_id),
                    kind: Some("function".to_owned()),
                    function: Some(FunctionCallDelta {
                        name: Some(start.name),
                        arguments: Some(String::new()),
                    }),
                }));
                BlockKind::Tool(position)
            }
            None => BlockKind::Text,
        };
        self.blocks.insert(event.content_block_index, kind);
    }

    fn block_delta(&mut self, event: BlockDeltaEvent, out: &mut Vec<ChatChunk>) {
        let kind = self
            .blocks
            .get(&event.content_block_index)
            .copied()
            .unwrap_or(BlockKind::Text);
        let delta = event.delta;
        if let Some(t) = delta.text {
            out.push(text(t));
        }
        if let Some(r) = delta.reasoning_content.and_then(|r| r.text) {
            let mut d = Delta::default();
            d.extra.insert(REASONING.to_owned(), r.into());
            out.push(chunk(d));
        }
        match (delta.tool_use, kind) {
            (Some(piece), _) if piece.input.is_empty() => {}
            (Some(piece), BlockKind::Json) => out.push(text(piece.input)),
            (Some(piece), BlockKind::Tool(position)) => out.push(tool(ToolCallDelta {
                index: position,
                id: None,
                kind: None,
                function: Some(FunctionCallDelta {
                    name: None,
                    arguments: Some(piece.input),
                }),
            })),
            _ => {}
        }
    }

    /// The finish chunk, once.
    fn finish(&mut self, reason: FinishReason, out: &mut Vec<ChatChunk>) {
        if !self.finished {
            self.finished = true;
            out.push(ChatChunk::new(
                String::new(),
                0,
                String::new(),
                vec![ChunkChoice::finish(0, reason)],
            ));
        }
    }
}

impl StreamDecoder for BedrockStream {
    fn push(&mut self, bytes: &[u8]) -> Result<Vec<ChatChunk>, TranslateError> {
        if let Some(error) = self.failed.take() {
            return Err(error);
        }
        self.buffer.extend_from_slice(bytes);
        let mut out = Vec::new();
        loop {
            let step = match self.next_message() {
                Ok(Some(message)) => self.message(&message, &mut out),
                Ok(None) => break,
                Err(error) => Err(error),
            };
            if let Err(error) = step {
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
        if self.stopped || (self.finished && self.buffer.is_empty() && !self.mid_frame) {
            // Complete, or cut only before the optional `metadata`.
            return Ok(Vec::new());
        }
        Err(TranslateError::malformed(
            NAME,
            "the stream ended before `messageStop`",
        ))
    }
}
