//! Canonical LLM types and the dialects clients speak, with the SSE codec
//! that carries streams.
//!
//! The canonical shape follows OpenAI Chat Completions, the lingua franca of
//! LLM APIs: [`chat::ChatRequest`] in, [`chat::ChatResponse`] or a sequence of
//! [`chat::ChatChunk`]s out. Only the fields the gateway acts on are typed;
//! everything else rides in a flattened `extra` map so new provider fields
//! pass through untouched.
//!
//! Invariants: pure translation. No sockets, no files, no async runtime, no
//! clocks: callers pass in ids and timestamps. Every function here is cheap to
//! unit test and safe to fuzz.
//!
//! Contents:
//! - [`chat`]: request, response and stream-chunk types.
//! - [`embeddings`]: embeddings request and response, base64 vectors.
//! - [`anthropic`]: the Anthropic Messages dialect: request parsing and
//!   translation to and from the canonical form, the stream event encoder,
//!   Anthropic-shaped errors.
//! - [`openai`]: the OpenAI dialect: request parsing with OpenAI-shaped
//!   validation errors (chat, embeddings, legacy completions), the error
//!   body, the legacy `text_completion` objects, and the Responses API
//!   (`openai::responses`: input items to chat, `response` objects, the
//!   Responses stream events).
//! - [`sse`]: server-sent events encoder and incremental decoder.
//! - [`usage`]: the wire `usage` object and its conversion to
//!   [`sy_core::TokenUsage`].
//! - [`tokens`]: token counts with OpenAI's BPE vocabularies (tiktoken-rs),
//!   chat overheads, tool definitions and images.
//! - [`estimate`]: the original estimator names, delegating to [`tokens`].

pub mod anthropic;
pub mod chat;
pub mod embeddings;
pub mod estimate;
mod json_scan;
pub mod openai;
pub mod sse;
pub mod tokens;
pub mod usage;

pub use chat::{ChatChunk, ChatRequest, ChatResponse};
pub use usage::Usage;
