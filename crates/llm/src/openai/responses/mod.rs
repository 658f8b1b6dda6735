//! The Responses API (`POST /v1/responses`), emulated over chat.
//!
//! The gateway keeps no conversation state, so a Responses request must
//! carry its whole conversation in `input`: messages, and the
//! `function_call` / `function_call_output` items of tool round trips. It
//! becomes one canonical [`ChatRequest`](crate::ChatRequest)
//! ([`parse_responses_request`]); the chat answer becomes a `response`
//! object ([`response_object`]) or, streamed, the Responses event sequence
//! ([`ResponsesStream`]).
//!
//! Refused with a 400 naming the parameter: `previous_response_id`,
//! `conversation`, `store: true`, `background: true`, `prompt`, built-in
//! tools (`web_search`, `file_search`, ...) and input items chat cannot
//! express (file inputs, item references).

mod object;
mod request;
mod stream;

pub use object::{Echo, OutputItem, OutputText, ResponseUsage, Stamp, from_chat, response_object};
pub use request::{ResponsesRequest, parse_responses_request};
pub use stream::ResponsesStream;

#[cfg(test)]
mod tests;
