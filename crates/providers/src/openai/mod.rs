//! OpenAI Chat Completions, and every server that speaks it.
//!
//! The canonical shape *is* this wire format, so the request is a near
//! pass-through: the deployment's model id replaces the public name, and a
//! streaming request always asks for `stream_options.include_usage` so the
//! gateway learns exact usage (the endpoint drops the usage chunk again for
//! clients that did not ask). Unknown fields pass through untouched.
//!
//! Embeddings (`{base}/embeddings`) are a pass-through too, with the
//! deployment's model id; Azure, Mistral and Ollama reuse it.
//!
//! Usage convention: OpenAI's, which the canonical form keeps —
//! `prompt_tokens` includes `prompt_tokens_details.cached_tokens`.
//!
//! [`OpenAi::COMPATIBLE`] is the same adapter for self-hosted and
//! third-party servers (vLLM, Groq, Together, DeepSeek, OpenRouter,
//! Fireworks, LM Studio): no default base URL. The [`mistral`](crate::mistral),
//! [`ollama`](crate::ollama) and [`azure`](crate::azure) adapters reuse the
//! pieces here.

mod auth;
pub(crate) mod embeddings;
pub(crate) mod request;
pub(crate) mod response;
pub(crate) mod stream;
pub(crate) mod wire;

#[cfg(test)]
mod tests;

use bytes::Bytes;
use sy_llm::embeddings::{EmbeddingsRequest, EmbeddingsResponse};
use sy_llm::openai::ChatCompletionJson;
use sy_llm::{ChatRequest, ChatResponse};

use crate::{ProviderAdapter, ProviderEndpoint, ProviderError, StreamDecoder, TranslateError};

pub(crate) use auth::bearer;

/// OpenAI's public API.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

const NAME: &str = "openai";

/// The OpenAI adapter.
#[derive(Debug, Clone, Copy)]
pub struct OpenAi {
    official: bool,
}

impl OpenAi {
    /// For `api.openai.com` (has a default base URL).
    pub const OFFICIAL: OpenAi = OpenAi { official: true };
    /// For any OpenAI-compatible server (base URL required).
    pub const COMPATIBLE: OpenAi = OpenAi { official: false };

    /// OpenAI refuses a part's `cache_control`; compatible servers in
    /// front of Anthropic models (OpenRouter, LiteLLM) take it.
    fn drops_breakpoints(&self, req: &ChatRequest) -> bool {
        self.official && req.mentions_cache_control()
    }

    /// `req` encoded for this server, with the deployment's `model`.
    fn encoded(&self, req: &ChatRequest, model: &str) -> Result<Vec<u8>, TranslateError> {
        if self.drops_breakpoints(req) {
            let mut body = request::body(req, model, true);
            request::drop_cache_control(&mut body);
            serde_json::to_vec(&body)
        } else {
            request::body_json(req, model, true)
        }
        .map_err(request::unencodable)
    }

    /// The `POST` of `json` to the chat endpoint with the key.
    fn post(
        &self,
        endpoint: &ProviderEndpoint,
        req: &ChatRequest,
        json: Vec<u8>,
    ) -> Result<http::Request<Bytes>, TranslateError> {
        request::post_json(
            &endpoint.url("/chat/completions"),
            auth::bearer(endpoint).into_iter().collect(),
            endpoint,
            json,
            req.is_stream(),
        )
    }
}

impl ProviderAdapter for OpenAi {
    fn name(&self) -> &'static str {
        if self.official {
            NAME
        } else {
            "openai_compatible"
        }
    }

    fn default_base_url(&self) -> Option<&'static str> {
        self.official.then_some(DEFAULT_BASE_URL)
    }

    fn chat_request(
        &self,
        endpoint: &ProviderEndpoint,
        req: &ChatRequest,
        model: &str,
    ) -> Result<http::Request<Bytes>, TranslateError> {
        self.post(endpoint, req, self.encoded(req, model)?)
    }

    /// The client's bytes with the deployment's model, unless the body
    /// must change in more than its model (a breakpoint OpenAI refuses,
    /// stream usage to turn on).
    fn chat_request_as_sent(
        &self,
        endpoint: &ProviderEndpoint,
        req: &ChatRequest,
        source: &[u8],
        model: &str,
    ) -> Result<http::Request<Bytes>, TranslateError> {
        let as_sent = !self.drops_breakpoints(req) && !request::usage_forced(req, true);
        let json = match as_sent
            .then(|| sy_llm::openai::with_model(source, model))
            .flatten()
        {
            Some(json) => json,
            None => self.encoded(req, model)?,
        };
        self.post(endpoint, req, json)
    }

    fn chat_response(&self, body: &[u8]) -> Result<ChatResponse, TranslateError> {
        response::parse(self.name(), body)
    }

    fn chat_response_json(
        &self,
        body: Bytes,
    ) -> Option<Result<ChatCompletionJson, TranslateError>> {
        Some(ChatCompletionJson::scan(body).map_err(|e| TranslateError::malformed(self.name(), e)))
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
        embeddings::request(
            &endpoint.url("/embeddings"),
            auth::bearer(endpoint),
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
        embeddings::parse(self.name(), body)
    }

    fn stream_decoder(&self) -> Box<dyn StreamDecoder> {
        Box::new(stream::OpenAiStream::new(self.name()))
    }

    fn error(
        &self,
        status: http::StatusCode,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> ProviderError {
        response::error(self.name(), status, headers, body)
    }
}
