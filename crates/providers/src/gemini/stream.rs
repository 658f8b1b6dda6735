//! `streamGenerateContent?alt=sse` → canonical chunks.
//!
//! Each SSE event's data is a whole `GenerateContentResponse` holding the
//! next piece of each candidate (Gemini API reference, "Method:
//! models.streamGenerateContent"); there is no closing marker, the body
//! just ends after the piece with `finishReason`.
//!
//! | Gemini piece | canonical chunk |
//! |---|---|
//! | first event | `delta.role: assistant`, `content: ""` per candidate |
//! | `text` part | `delta.content` |
//! | `text` part with `thought: true` | `delta.reasoning_content` |
//! | `functionCall` part | a whole tool call (`id` synthesized, name, arguments) |
//! | `finishReason` | the candidate's finish chunk |
//! | `usageMetadata` | kept; the last one becomes the usage-only chunk at the end |
//! | `{"error":...}` | the stream's error |

use std::collections::HashMap;

use sy_llm::ChatChunk;
use sy_llm::chat::{ChunkChoice, Delta, FunctionCallDelta, Role, ToolCallDelta};
use sy_llm::sse::{SseDecoder, SseEvent};

use super::NAME;
use super::response::{REASONING, arguments, call_id, finish_reason, from_envelope, usage};
use super::wire::{ErrorEnvelope, GenerateResponse, UsageMetadata};
use crate::{StreamDecoder, TranslateError};

/// The decoder.
#[derive(Debug, Default)]
pub(super) struct GeminiStream {
    sse: SseDecoder,
    id: String,
    model: String,
    started: bool,
    usage: Option<UsageMetadata>,
    /// Function calls so far, per candidate index.
    calls: HashMap<u32, usize>,
    /// Some candidate finished; the end of the body is then expected.
    finished: bool,
    /// The usage chunk was sent; later bytes are ignored.
    done: bool,
    /// An error held back until the chunks decoded before it are out.
    failed: Option<TranslateError>,
}

impl GeminiStream {
    fn chunk(&self, index: u32, delta: Delta) -> ChatChunk {
        ChatChunk::new(
            self.id.clone(),
            0,
            self.model.clone(),
            vec![ChunkChoice::delta(index, delta)],
        )
    }

    fn event(&mut self, event: SseEvent, out: &mut Vec<ChatChunk>) -> Result<(), TranslateError> {
        if self.done || event.data.trim().is_empty() {
            return Ok(());
        }
        let value: serde_json::Value =
            serde_json::from_str(&event.data).map_err(|e| TranslateError::malformed(NAME, e))?;
        if value.get("error").is_some() {
            let envelope: ErrorEnvelope =
                serde_json::from_value(value).map_err(|e| TranslateError::malformed(NAME, e))?;
            return Err(TranslateError::Upstream(from_envelope(0, envelope)));
        }
        let piece: GenerateResponse =
            serde_json::from_value(value).map_err(|e| TranslateError::malformed(NAME, e))?;
        if !self.started {
            self.started = true;
            self.id = piece.response_id.clone().unwrap_or_default();
            self.model = piece.model_version.clone().unwrap_or_default();
        }
        if let Some(update) = piece.usage_metadata {
            self.usage = Some(update);
        }
        let blocked = piece
            .prompt_feedback
            .as_ref()
            .is_some_and(|f| f.block_reason.is_some());
        if piece.candidates.is_empty() && blocked {
            // The prompt was blocked: one empty, filtered choice.
            self.role(0, out);
            self.finished = true;
            out.push(ChatChunk::new(
                self.id.clone(),
                0,
                self.model.clone(),
                vec![ChunkChoice::finish(
                    0,
                    sy_llm::chat::FinishReason::ContentFilter,
                )],
            ));
        }
        for (position, candidate) in piece.candidates.into_iter().enumerate() {
            let index = candidate
                .index
                .unwrap_or(u32::try_from(position).unwrap_or(u32::MAX));
            self.role(index, out);
            for part in candidate.content.map(|c| c.parts).unwrap_or_default() {
                if let Some(call) = part.function_call {
                    let k = self.calls.entry(index).or_default();
                    let position = u32::try_from(*k).unwrap_or(u32::MAX);
                    let id = call_id(*k);
                    *k += 1;
                    out.push(self.chunk(
                        index,
                        Delta {
                            tool_calls: Some(vec![ToolCallDelta {
                                index: position,
                                id: Some(id),
                                kind: Some("function".to_owned()),
                                function: Some(FunctionCallDelta {
                                    name: Some(call.name),
                                    arguments: Some(arguments(&call.args)),
                                }),
                            }]),
                            ..Delta::default()
                        },
                    ));
                } else if let Some(text) = part.text.filter(|t| !t.is_empty()) {
                    let mut delta = Delta::default();
                    if part.thought == Some(true) {
                        delta.extra.insert(REASONING.to_owned(), text.into());
                    } else {
                        delta.content = Some(text);
                    }
                    out.push(self.chunk(index, delta));
                }
            }
            if let Some(reason) = candidate.finish_reason.as_deref() {
                self.finished = true;
                let called = self.calls.get(&index).is_some_and(|k| *k > 0);
                out.push(ChatChunk::new(
                    self.id.clone(),
                    0,
                    self.model.clone(),
                    vec![ChunkChoice::finish(
                        index,
                        finish_reason(Some(reason), called),
                    )],
                ));
            }
        }
        Ok(())
    }

    /// The role chunk, once per candidate (`calls` doubles as the set of
    /// candidates seen).
    fn role(&mut self, index: u32, out: &mut Vec<ChatChunk>) {
        if let std::collections::hash_map::Entry::Vacant(slot) = self.calls.entry(index) {
            slot.insert(0);
            out.push(self.chunk(
                index,
                Delta {
                    role: Some(Role::Assistant),
                    content: Some(String::new()),
                    ..Delta::default()
                },
            ));
        }
    }
}

impl StreamDecoder for GeminiStream {
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
        if !self.finished {
            return Err(TranslateError::malformed(
                NAME,
                "the stream ended before a `finishReason`",
            ));
        }
        if !self.done {
            self.done = true;
            if let Some(wire) = self.usage.take() {
                let mut chunk = ChatChunk::new(self.id.clone(), 0, self.model.clone(), Vec::new());
                chunk.usage = Some(usage(&wire));
                out.push(chunk);
            }
        }
        Ok(out)
    }
}
