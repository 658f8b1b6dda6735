//! Azure OpenAI: OpenAI's wire format at a per-resource URL.
//!
//! The deployment's `model` is the Azure *deployment name*, which goes in
//! the URL: `{base}/openai/deployments/{deployment}/chat/completions?api-version=...`
//! with `base` the resource URL (`https://<resource>.openai.azure.com`).
//! Auth is the `api-key` header. Bodies, streams, usage (OpenAI's
//! convention) and errors are OpenAI's; Azure's content-filter refusals
//! (`code: content_filter`) are classified as such.

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

pub use wire::DEFAULT_API_VERSION;

const NAME: &str = "azure";

/// The Azure OpenAI adapter.
#[derive(Debug, Clone, Copy)]
pub struct Azure;

impl ProviderAdapter for Azure {
    fn name(&self) -> &'static str {
        NAME
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
            &request::embeddings_url(endpoint, model),
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
