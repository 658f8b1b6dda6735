//! Server-sent events, as used by every streaming LLM API.
//!
//! [`encode`] writes events for clients; [`SseDecoder`] reads provider
//! streams incrementally, whatever way the bytes were split on the network.
//! The format is the WHATWG `text/event-stream` format: `field: value`
//! lines, events separated by a blank line, `:` comments, any of `\n`,
//! `\r\n` or `\r` as line ends.

mod decoder;
mod encoder;

pub use decoder::{DEFAULT_MAX_LINE, SseDecoder, SseError};
pub use encoder::{DONE, DONE_DATA, encode, encode_data, encode_json};

/// One event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` type; `None` means the default type, `message`.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The `id:` field of this event, if it had one.
    pub id: Option<String>,
    /// The `retry:` reconnection time in milliseconds, if given.
    pub retry: Option<u64>,
}

impl SseEvent {
    /// A `message` event with this data.
    pub fn data(data: impl Into<String>) -> SseEvent {
        SseEvent {
            data: data.into(),
            ..SseEvent::default()
        }
    }

    /// Whether this is OpenAI's end-of-stream marker, `data: [DONE]`.
    pub fn is_done(&self) -> bool {
        self.data == DONE_DATA
    }
}
