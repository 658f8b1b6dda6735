//! Canonical chunk stream → Anthropic stream events.
//!
//! A complete stream is exactly: `message_start` (the message with empty
//! content and the input token count); per block `content_block_start`, one
//! or more `content_block_delta` (`text_delta`, or `input_json_delta` with
//! `partial_json` for a tool call), `content_block_stop`; then
//! `message_delta` (stop reason, stop sequence, usage) and `message_stop`.
//! A failure after the start ends the stream with one `error` event and no
//! `message_stop`.
//!
//! The canonical stream says the finish reason before the usage chunk,
//! while Anthropic's `message_delta` carries both; the encoder closes the
//! last block at the finish and holds `message_delta` until the usage chunk
//! (or the end of the stream) arrives. It never holds content.

use bytes::Bytes;

use super::response::{stop_reason, usage as message_usage};
use super::wire::{
    BlockDelta, CacheCreation, DeltaUsage, MESSAGE_TYPE, MessageDeltaBody, MessageResponse,
    MessageUsage, ResponseBlock, StopReason, StreamEvent,
};
use super::{ErrorBody, ErrorDetail};
use crate::chat::{ChatChunk, ToolCallDelta};
use crate::sse::{self, SseEvent};
use crate::usage::Usage;

/// Stateful encoder for one stream. Feed chunks in order with
/// [`push`](Self::push); call [`finish`](Self::finish) when the chunks end,
/// or [`error`](Self::error) when they fail. Only choice 0 is encoded
/// (Anthropic has no `n`).
#[derive(Debug)]
pub struct StreamEncoder {
    id: String,
    model: String,
    input_tokens: u64,
    started: bool,
    /// Blocks opened so far: the index of the next one.
    blocks: u32,
    /// The block currently open, if any.
    open: Option<u32>,
    /// Whether the open block is text (more text extends it).
    open_is_text: bool,
    /// Canonical tool call index → block index.
    tools: Vec<(u32, u32)>,
    stop: Option<(StopReason, Option<String>)>,
    usage: Option<Usage>,
    ended: bool,
}

impl StreamEncoder {
    /// An encoder for message `id` of public model `model`. `input_tokens`
    /// is what `message_start` reports (an estimate: the provider's count
    /// arrives at the end and is repeated in `message_delta`).
    pub fn new(id: impl Into<String>, model: impl Into<String>, input_tokens: u64) -> Self {
        StreamEncoder {
            id: id.into(),
            model: model.into(),
            input_tokens,
            started: false,
            blocks: 0,
            open: None,
            open_is_text: false,
            tools: Vec::new(),
            stop: None,
            usage: None,
            ended: false,
        }
    }

    /// `message_start`, the first time it is called (or chunks are pushed);
    /// nothing after.
    pub fn start(&mut self) -> Vec<StreamEvent> {
        if self.started {
            return Vec::new();
        }
        self.started = true;
        vec![StreamEvent::MessageStart {
            message: MessageResponse {
                id: self.id.clone(),
                kind: MESSAGE_TYPE.to_owned(),
                role: "assistant".to_owned(),
                model: self.model.clone(),
                content: Vec::new(),
                stop_reason: None,
                stop_sequence: None,
                usage: MessageUsage {
                    input_tokens: self.input_tokens,
                    output_tokens: 0,
                    cache_creation_input_tokens: Some(0),
                    cache_read_input_tokens: Some(0),
                    cache_creation: Some(CacheCreation::default()),
                },
            },
        }]
    }

    /// The events one chunk makes (possibly none).
    pub fn push(&mut self, chunk: &ChatChunk) -> Vec<StreamEvent> {
        let mut out = self.start();
        if self.ended {
            return out;
        }
        for choice in chunk.choices.iter().filter(|c| c.index == 0) {
            let delta = &choice.delta;
            for piece in [&delta.content, &delta.refusal].into_iter().flatten() {
                if !piece.is_empty() {
                    self.text(piece, &mut out);
                }
            }
            for call in delta.tool_calls.iter().flatten() {
                self.tool(call, &mut out);
            }
            if let Some(reason) = choice.finish_reason {
                self.close(&mut out);
                self.stop = Some(stop_reason(Some(reason), &delta.extra));
            }
        }
        if let Some(usage) = &chunk.usage {
            self.usage = Some(usage.clone());
        }
        if self.stop.is_some() && self.usage.is_some() {
            self.end(&mut out);
        }
        out
    }

    /// The closing events when the chunks ended normally: whatever is still
    /// open is closed, then `message_delta` and `message_stop` (if not sent
    /// yet). Without a finish chunk the stop reason is `end_turn`; without
    /// a usage chunk (providers must send one) `output_tokens` is 0.
    pub fn finish(&mut self) -> Vec<StreamEvent> {
        let mut out = self.start();
        if !self.ended {
            self.end(&mut out);
        }
        out
    }

    /// The `error` event ending a failed stream; nothing if it already
    /// ended.
    pub fn error(&mut self, error: ErrorDetail) -> Vec<StreamEvent> {
        if self.ended {
            return Vec::new();
        }
        self.ended = true;
        vec![StreamEvent::Error { error }]
    }

    /// The usage reported by the provider so far.
    pub fn usage(&self) -> Option<&Usage> {
        self.usage.as_ref()
    }

    fn text(&mut self, piece: &str, out: &mut Vec<StreamEvent>) {
        let index = match self.open {
            Some(index) if self.open_is_text => index,
            _ => {
                self.close(out);
                self.open_block(
                    ResponseBlock::Text {
                        text: String::new(),
                    },
                    true,
                    out,
                )
            }
        };
        out.push(StreamEvent::ContentBlockDelta {
            index,
            delta: BlockDelta::TextDelta {
                text: piece.to_owned(),
            },
        });
    }

    /// A piece of a tool call. The first piece of a call opens its block;
    /// later pieces add `input_json_delta`s to it. (Should a provider
    /// interleave calls, a piece for an already closed block still goes to
    /// that block's index, which Anthropic clients accumulate by.)
    fn tool(&mut self, call: &ToolCallDelta, out: &mut Vec<StreamEvent>) {
        let known = self
            .tools
            .iter()
            .find(|(tool, _)| *tool == call.index)
            .map(|(_, block)| *block);
        let function = call.function.as_ref();
        let index = match known {
            Some(index) => index,
            None => {
                self.close(out);
                let id = call
                    .id
                    .clone()
                    .unwrap_or_else(|| format!("toolu_{}", call.index));
                let name = function.and_then(|f| f.name.clone()).unwrap_or_default();
                let index = self.open_block(
                    ResponseBlock::ToolUse {
                        id,
                        name,
                        input: serde_json::Value::Object(serde_json::Map::new()),
                    },
                    false,
                    out,
                );
                self.tools.push((call.index, index));
                index
            }
        };
        if let Some(args) = function.and_then(|f| f.arguments.as_deref())
            && !args.is_empty()
        {
            out.push(StreamEvent::ContentBlockDelta {
                index,
                delta: BlockDelta::InputJsonDelta {
                    partial_json: args.to_owned(),
                },
            });
        }
    }

    fn open_block(
        &mut self,
        block: ResponseBlock,
        is_text: bool,
        out: &mut Vec<StreamEvent>,
    ) -> u32 {
        let index = self.blocks;
        self.blocks += 1;
        self.open = Some(index);
        self.open_is_text = is_text;
        out.push(StreamEvent::ContentBlockStart {
            index,
            content_block: block,
        });
        index
    }

    fn close(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some(index) = self.open.take() {
            out.push(StreamEvent::ContentBlockStop { index });
        }
    }

    fn end(&mut self, out: &mut Vec<StreamEvent>) {
        self.close(out);
        if self.blocks == 0 {
            // As in whole answers: an empty answer is one empty text block.
            self.open_block(
                ResponseBlock::Text {
                    text: String::new(),
                },
                true,
                out,
            );
            self.close(out);
        }
        let (stop_reason, stop_sequence) = self.stop.take().unwrap_or((StopReason::EndTurn, None));
        let usage = match &self.usage {
            Some(usage) => {
                let u = message_usage(usage);
                DeltaUsage {
                    output_tokens: u.output_tokens,
                    input_tokens: Some(u.input_tokens),
                    cache_creation_input_tokens: u.cache_creation_input_tokens,
                    cache_read_input_tokens: u.cache_read_input_tokens,
                }
            }
            None => DeltaUsage::default(),
        };
        out.push(StreamEvent::MessageDelta {
            delta: MessageDeltaBody {
                stop_reason: Some(stop_reason),
                stop_sequence,
            },
            usage,
        });
        out.push(StreamEvent::MessageStop);
        self.ended = true;
    }
}

/// One event as SSE bytes: `event: <name>` then `data: <json>`.
pub fn encode_event(event: &StreamEvent) -> Bytes {
    let data = serde_json::to_string(event).unwrap_or_else(|e| {
        ErrorBody::new(
            ErrorDetail::for_status(500, format!("encoding a stream event: {e}")),
            None,
        )
        .to_json()
    });
    sse::encode(&SseEvent {
        event: Some(event.name().to_owned()),
        data,
        id: None,
        retry: None,
    })
}
