//! v2 Chat event stream → canonical chunks (event types from "A Guide to
//! Streaming Responses" and the Chat with Streaming reference).
//!
//! | Cohere event | canonical chunk |
//! |---|---|
//! | `message-start` | `delta.role: assistant`, `content: ""`; id kept |
//! | `content-start` / `content-delta` text | `delta.content` (when non-empty) |
//! | `content-start` / `content-delta` thinking | `delta.reasoning_content` |
//! | `tool-plan-delta` | `delta.reasoning_content` |
//! | `tool-call-start` | a tool call's first piece (`id`, name, arguments so far) |
//! | `tool-call-delta` | `delta.tool_calls[].function.arguments` |
//! | `message-end` | the finish chunk, then the usage-only chunk; `ERROR` / `TIMEOUT` end the stream with an error |
//! | `content-end`, `tool-call-end`, citations, `debug` | nothing |

use sy_llm::ChatChunk;
use sy_llm::chat::{ChunkChoice, Delta, FunctionCallDelta, Role, ToolCallDelta};
use sy_llm::sse::{SseDecoder, SseEvent};

use super::NAME;
use super::response::{REASONING, finish_reason, usage};
use super::wire::{ContentItem, EventDelta, StreamEvent};
use crate::{StreamDecoder, TranslateError};

/// The decoder.
#[derive(Debug, Default)]
pub(super) struct CohereStream {
    sse: SseDecoder,
    id: String,
    /// Tool calls started so far; the open one is the last.
    tool_calls: u32,
    ended: bool,
    /// An error held back until the chunks decoded before it are out.
    failed: Option<TranslateError>,
}

impl CohereStream {
    fn chunk(&self, delta: Delta) -> ChatChunk {
        ChatChunk::new(
            self.id.clone(),
            0,
            String::new(),
            vec![ChunkChoice::delta(0, delta)],
        )
    }

    fn content(&self, item: Option<ContentItem>, out: &mut Vec<ChatChunk>) {
        let Some(item) = item else { return };
        let mut delta = Delta::default();
        if item.kind == "thinking" || item.thinking.is_some() {
            match item.thinking.or(item.text).filter(|t| !t.is_empty()) {
                Some(text) => delta.extra.insert(REASONING.to_owned(), text.into()),
                None => return,
            };
        } else {
            match item.text.filter(|t| !t.is_empty()) {
                Some(text) => delta.content = Some(text),
                None => return,
            }
        }
        out.push(self.chunk(delta));
    }

    fn event(&mut self, event: SseEvent, out: &mut Vec<ChatChunk>) -> Result<(), TranslateError> {
        if self.ended || event.data.trim().is_empty() {
            return Ok(());
        }
        let parsed: StreamEvent =
            serde_json::from_str(&event.data).map_err(|e| TranslateError::malformed(NAME, e))?;
        let message = |delta: Option<EventDelta>| delta.and_then(|d| d.message).unwrap_or_default();
        match parsed {
            StreamEvent::MessageStart { id } => {
                self.id = id.unwrap_or_default();
                out.push(self.chunk(Delta {
                    role: Some(Role::Assistant),
                    content: Some(String::new()),
                    ..Delta::default()
                }));
            }
            StreamEvent::ContentStart { delta } | StreamEvent::ContentDelta { delta } => {
                self.content(message(delta).content, out);
            }
            StreamEvent::ToolPlanDelta { delta } => {
                if let Some(plan) = message(delta).tool_plan.filter(|p| !p.is_empty()) {
                    let mut delta = Delta::default();
                    delta.extra.insert(REASONING.to_owned(), plan.into());
                    out.push(self.chunk(delta));
                }
            }
            StreamEvent::ToolCallStart { delta } => {
                let call = message(delta).tool_calls.unwrap_or_default();
                let function = call.function.unwrap_or_default();
                let index = self.tool_calls;
                self.tool_calls += 1;
                out.push(self.tool(ToolCallDelta {
                    index,
                    id: call.id,
                    kind: Some("function".to_owned()),
                    function: Some(FunctionCallDelta {
                        name: function.name,
                        arguments: Some(function.arguments.unwrap_or_default()),
                    }),
                }));
            }
            StreamEvent::ToolCallDelta { delta } => {
                let arguments = message(delta)
                    .tool_calls
                    .and_then(|c| c.function)
                    .and_then(|f| f.arguments)
                    .filter(|a| !a.is_empty());
                if let Some(arguments) = arguments {
                    out.push(self.tool(ToolCallDelta {
                        index: self.tool_calls.saturating_sub(1),
                        id: None,
                        kind: None,
                        function: Some(FunctionCallDelta {
                            name: None,
                            arguments: Some(arguments),
                        }),
                    }));
                }
            }
            StreamEvent::MessageEnd { delta } => {
                self.ended = true;
                let delta = delta.unwrap_or_default();
                let reason = finish_reason(delta.finish_reason.as_deref(), delta.error)?;
                out.push(ChatChunk::new(
                    self.id.clone(),
                    0,
                    String::new(),
                    vec![ChunkChoice::finish(0, reason)],
                ));
                if let Some(wire) = delta.usage {
                    let mut chunk = ChatChunk::new(self.id.clone(), 0, String::new(), Vec::new());
                    chunk.usage = Some(usage(&wire));
                    out.push(chunk);
                }
            }
            StreamEvent::Other => {}
        }
        Ok(())
    }

    fn tool(&self, piece: ToolCallDelta) -> ChatChunk {
        self.chunk(Delta {
            tool_calls: Some(vec![piece]),
            ..Delta::default()
        })
    }
}

impl StreamDecoder for CohereStream {
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
        if !self.ended {
            return Err(TranslateError::malformed(
                NAME,
                "the stream ended before `message-end`",
            ));
        }
        Ok(out)
    }
}
