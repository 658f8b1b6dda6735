//! Ollama through its OpenAI-compatible endpoint (`{base}/chat/completions`,
//! base `http://localhost:11434/v1` by default).
//!
//! OpenAI's wire format, streams (with `stream_options.include_usage`) and
//! usage convention; `developer` messages become `system` and
//! `max_completion_tokens` becomes `max_tokens`, which Ollama predates. Ollama ignores the bearer token unless it sits behind
//! an authenticating proxy, so `api_key` is optional. Refused: `n` > 1
//! (Ollama answers one choice); dropped (or refused under `refuse`):
//! `logit_bias`, `user`.

mod auth;
mod request;
mod response;
mod stream;
mod wire;

#[cfg(test)]
mod tests;

use bytes::Bytes;
use sy_llm::embeddings::{EmbeddingsRequest, EmbeddingsResponse};
use sy_llm::{ChatRequest, ChatResponse};

use crate::{ProviderAdapter, ProviderEndpoint, ProviderError, StreamDecoder, TranslateError};

pub use wire::DEFAULT_BASE_URL;

const NAME: &str = "ollama";

/// The Ollama adapter.
#[derive(Debug, Clone, Copy)]
pub struct Ollama;

impl ProviderAdapter for Ollama {
    fn name(&self) -> &'static str {
        NAME
    }

    fn default_base_url(&self) -> Option<&'static str> {
        Some(DEFAULT_BASE_URL)
    }

    fn chat_request(
        &self,
        endpoint: &ProviderEndpoint,
        req: &ChatRequest,
        model: &str,
    ) -> Result<http::Request<Bytes>, TranslateError> {
        request::build(endpoint, req, model, auth::header(endpoint))
    }

    fn chat_response(&self, body: &[u8]) -> Result<ChatResponse, TranslateError> {
        response::parse(body)
    }

    fn supports_embeddings(&self) -> bool {
        true
    }

    fn embeddings_request(
        &self,
        endpoint: &ProviderEndpoint,
        req: &EmbeddingsRequest,
        source: Option<&[u8]>,
        model: &str,
    ) -> Result<http::Request<Bytes>, TranslateError> {
        crate::openai::embeddings::request(
            &endpoint.url("/embeddings"),
            auth::header(endpoint),
            endpoint,
            req,
            source,
            model,
        )
    }

    fn embeddings_in_openai_format(&self) -> bool {
        true
    }

    fn embeddings_response(&self, body: &[u8]) -> Result<EmbeddingsResponse, TranslateError> {
        crate::openai::embeddings::parse(NAME, body)
    }

    fn stream_decoder(&self) -> Box<dyn StreamDecoder> {
        stream::decoder()
    }

    fn error(
        &self,
        status: http::StatusCode,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> ProviderError {
        response::error(status, headers, body)
    }
}
