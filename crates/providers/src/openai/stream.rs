//! Decoding an OpenAI-style SSE stream: `data: <chunk JSON>` events ending
//! with `data: [DONE]`.
//!
//! Normalisation on the way: usage is taken off whichever chunk carries it
//! (OpenAI sends a usage-only chunk; Mistral and some compatible servers put
//! it on the finish chunk) and sent as one usage-only chunk at the end, as
//! the provider contract in `sy-ai` wants.

use sy_llm::sse::{SseDecoder, SseEvent};
use sy_llm::{ChatChunk, Usage};

use super::response;
use crate::{StreamDecoder, TranslateError};

/// The decoder.
pub(crate) struct OpenAiStream {
    provider: &'static str,
    sse: SseDecoder,
    /// `[DONE]` seen; later bytes are ignored.
    done: bool,
    /// Some choice finished; a stream cut after this lost nothing but the
    /// usage.
    finished: bool,
    usage: Option<Usage>,
    /// `id`, `created` and `model` of the last chunk, for the usage chunk.
    last: Option<(String, u64, String)>,
    /// An error held back until the chunks decoded before it are out.
    failed: Option<TranslateError>,
}

impl OpenAiStream {
    pub(crate) fn new(provider: &'static str) -> Self {
        OpenAiStream {
            provider,
            sse: SseDecoder::new(),
            done: false,
            finished: false,
            usage: None,
            last: None,
            failed: None,
        }
    }

    fn event(&mut self, event: SseEvent, out: &mut Vec<ChatChunk>) -> Result<(), TranslateError> {
        if self.done {
            return Ok(());
        }
        if event.is_done() {
            self.done = true;
            self.flush_usage(out);
            return Ok(());
        }
        let mut chunk: ChatChunk = match serde_json::from_str(&event.data) {
            Ok(chunk) => chunk,
            Err(e) => return Err(self.not_a_chunk(&event.data, e)),
        };
        if let Some(usage) = chunk.usage.take() {
            self.usage = Some(usage);
        }
        if chunk.choices.iter().any(|c| c.finish_reason.is_some()) {
            self.finished = true;
        }
        self.last = Some((chunk.id.clone(), chunk.created, chunk.model.clone()));
        if !chunk.choices.is_empty() {
            out.push(chunk);
        }
        Ok(())
    }

    /// An event that is not a chunk: an error the provider streamed
    /// (`{"error":{...}}`), or garbage.
    fn not_a_chunk(&self, data: &str, parse_error: serde_json::Error) -> TranslateError {
        let is_error = serde_json::from_str::<serde_json::Value>(data)
            .ok()
            .is_some_and(|v| v.get("error").is_some());
        if is_error {
            let status = http::StatusCode::INTERNAL_SERVER_ERROR;
            let error = response::error(
                self.provider,
                status,
                &http::HeaderMap::new(),
                data.as_bytes(),
            );
            return TranslateError::Upstream(error);
        }
        TranslateError::malformed(self.provider, parse_error)
    }

    fn flush_usage(&mut self, out: &mut Vec<ChatChunk>) {
        if let Some(mut usage) = self.usage.take() {
            usage.normalize();
            let (id, created, model) = self.last.clone().unwrap_or_default();
            let mut chunk = ChatChunk::new(id, created, model, Vec::new());
            chunk.usage = Some(usage);
            out.push(chunk);
        }
    }
}

impl StreamDecoder for OpenAiStream {
    fn push(&mut self, bytes: &[u8]) -> Result<Vec<ChatChunk>, TranslateError> {
        if let Some(error) = self.failed.take() {
            return Err(error);
        }
        let events = self
            .sse
            .push(bytes)
            .map_err(|e| TranslateError::malformed(self.provider, e))?;
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
        if !self.done && !self.finished {
            return Err(TranslateError::malformed(
                self.provider,
                "the stream ended before the answer was complete",
            ));
        }
        // Some servers end without `[DONE]` once every choice finished.
        self.flush_usage(&mut out);
        self.done = true;
        Ok(out)
    }
}
