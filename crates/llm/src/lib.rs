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
//! - [`openai`]: the OpenAI dialect: request parsing with OpenAI-shaped
//!   validation errors, the error body.
//! - [`sse`]: server-sent events encoder and incremental decoder.
//! - [`usage`]: the wire `usage` object and its conversion to
//!   [`sy_core::TokenUsage`].
//! - [`estimate`]: a deterministic local token estimator used until
//!   provider-reported usage (or a real tokenizer) is available.

pub mod chat;
pub mod estimate;
pub mod openai;
pub mod sse;
pub mod usage;

pub use chat::{ChatChunk, ChatRequest, ChatResponse};
pub use usage::Usage;
