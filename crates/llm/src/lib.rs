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

/// Decode a JSON body, checking that it is UTF-8 once for the whole body.
///
/// Why: `serde_json::from_slice` checks every string it decodes on its
/// own, at a cost per string that dwarfs its length for the short keys
/// and values of a chat request (~1.1k instructions of a ~5k decode). A
/// `&str` is known to be UTF-8, so decoding from one checks nothing more.
/// A body that is not UTF-8 is decoded from its bytes to get serde's own
/// error (or, where serde never looks at the offending bytes, its value).
pub fn from_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> serde_json::Result<T> {
    match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    /// Decoding from the checked text gives what decoding the bytes gives,
    /// escapes and non-ASCII text included, and a body that is not UTF-8
    /// is still refused where serde decodes the bad bytes.
    #[test]
    fn from_json_decodes_as_from_slice_does() {
        let body =
            r#"{"a":"caf\u00e9 — naïve \"q\"","b":[1,2.5,null,true],"c":{"d":"\ud83d\ude00"}}"#;
        let fast: Value = super::from_json(body.as_bytes()).unwrap();
        let slow: Value = serde_json::from_slice(body.as_bytes()).unwrap();
        assert_eq!(fast, slow);
        assert_eq!(fast["c"]["d"], json!("😀"));
        let mut bad = br#"{"a":"x"}"#.to_vec();
        bad[6] = 0xff;
        assert!(super::from_json::<Value>(&bad).is_err());
        assert!(super::from_json::<Value>(b"{\"a\":").is_err());
    }
}
