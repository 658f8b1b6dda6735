//! The Anthropic dialect: how Anthropic SDKs talk to the gateway, whatever
//! provider answers.
//!
//! Clients send Messages API requests ([`parse_messages_request`],
//! [`parse_count_tokens_request`]); the gateway translates them to the
//! canonical form ([`to_chat_request`]), calls any provider, and translates
//! back: a whole answer with [`from_chat_response`], a stream with
//! [`StreamEncoder`]. Failures use Anthropic's error body ([`ErrorBody`]).
//!
//! Conventions a provider adapter may rely on:
//! - a provider that knows which stop sequence ended generation names it
//!   under [`STOP_SEQUENCE_KEY`] in the choice message's `extra` (whole
//!   answers) or the finishing delta's `extra` (streams), so Anthropic
//!   clients see `stop_reason: "stop_sequence"`;
//! - `top_k` and `thinking` arrive in the canonical request's `extra`.

mod error;
mod parse;
mod request;
mod response;
mod stream;
mod wire;

#[cfg(test)]
mod tests;

pub use error::{ErrorBody, ErrorDetail, RequestError, error_type_for_status};
pub use parse::{parse_count_tokens_request, parse_messages_request};
pub use request::to_chat_request;
pub use response::{from_chat_response, stop_reason, tool_input, usage};
pub use stream::{StreamEncoder, encode_event};
pub use wire::{
    BlockDelta, CacheCreation, CountTokensResponse, DeltaUsage, DocumentSource, ImageSource,
    InputBlock, InputMessage, InputRole, Kept, MESSAGE_TYPE, MessageBlock, MessageDeltaBody,
    MessageResponse, MessageUsage, MessagesRequest, Metadata, ResponseBlock, ResultBlock,
    StopReason, StreamEvent, SystemBlock, TextOrBlocks, ToolChoice, ToolDefinition,
    ToolResultBlock,
};

/// Key in a canonical message's or delta's `extra` naming the stop sequence
/// that ended generation.
pub const STOP_SEQUENCE_KEY: &str = "stop_sequence";
