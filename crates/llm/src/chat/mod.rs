//! Chat Completions in canonical form: what a client asks ([`ChatRequest`]),
//! what a provider answers whole ([`ChatResponse`]) or piece by piece
//! ([`ChatChunk`]).
//!
//! Field names and JSON shapes are OpenAI's, so the OpenAI dialect is close to
//! an identity and other dialects translate to and from this one.

mod chunk;
mod message;
mod request;
mod response;
mod tools;

#[cfg(test)]
mod tests;

pub use chunk::{ChatChunk, ChunkChoice, Delta, FunctionCallDelta, ToolCallDelta};
pub use message::{ContentPart, ImageUrl, InlineFile, Message, MessageContent, Role, breakpoint};
pub use request::{ChatRequest, JsonSchemaFormat, ResponseFormat, Stop, StreamOptions};
pub use response::{ChatResponse, Choice, FinishReason, ResponseMessage};
pub use tools::{
    FunctionCall, FunctionDefinition, FunctionName, NamedToolChoice, Tool, ToolCall, ToolChoice,
    ToolChoiceMode,
};

/// JSON object used to carry fields the gateway does not act on.
pub type Extra = serde_json::Map<String, serde_json::Value>;

/// The member that marks a prompt-caching breakpoint, on a text or image
/// part ([`ContentPart::cache_control`]), a tool, or (Anthropic's automatic
/// caching) the request: kept in each one's [`Extra`], written or left out
/// by each provider's adapter.
pub const CACHE_CONTROL: &str = "cache_control";
