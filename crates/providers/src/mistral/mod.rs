//! Mistral's Chat Completions API (`https://api.mistral.ai/v1`).
//!
//! OpenAI's format with a few differences, translated here: `seed` is
//! `random_seed`; `tool_choice: "required"` is `"any"`;
//! `max_completion_tokens` is `max_tokens`; `developer` messages are
//! `system` messages; there is no `stream_options`
//! (Mistral puts usage on the last stream chunk unasked; the decoder moves
//! it to a usage-only chunk). Refused: `logprobs`, `top_logprobs`; dropped
//! (or refused under `refuse`): `user`, `logit_bias`, `store`, `metadata`,
//! `service_tier`, `reasoning_effort`. Usage follows OpenAI's convention.

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

const NAME: &str = "mistral";

/// The Mistral adapter.
#[derive(Debug, Clone, Copy)]
pub struct Mistral;

impl ProviderAdapter for Mistral {
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
