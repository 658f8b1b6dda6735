//! Provider adapters: how a canonical chat request becomes an upstream
//! HTTP request, and how the upstream's answer, stream or error becomes
//! canonical again.
//!
//! Invariants: pure translation. No sockets, no async runtime, and no
//! clock but the one injected in [`ProviderEndpoint::clock`] (SigV4 signs
//! the request time):
//! [`ProviderAdapter::chat_request`] returns an [`http::Request`] that
//! `sy-ai` sends through the pooled client of `sy-http`, and the response
//! side works on bytes handed in. Credentials live only in
//! [`ProviderEndpoint`], whose `Debug` redacts them.
//!
//! Layout: one folder per wire protocol, each with the same files (`wire`
//! types, `request`, `response`, `stream`, `auth`, `tests`); [`ProviderKind`]
//! has the one `match` that picks an adapter. A new provider is a folder and
//! an enum arm.
//!
//! Contents:
//! - [`ProviderAdapter`], [`StreamDecoder`]: the seam `sy-ai` calls.
//! - [`ProviderKind`]: which adapter a configured provider uses.
//! - [`ProviderEndpoint`], [`Credential`], [`UnsupportedParams`]: per
//!   provider settings the adapters read.
//! - [`TranslateError`], [`ProviderError`], [`ProviderErrorKind`]: what can go
//!   wrong, classified.
//! - Adapters: [`openai`] (also OpenAI-compatible servers), [`azure`],
//!   [`anthropic`], [`mistral`], [`ollama`], [`bedrock`], [`gemini`], [`cohere`].

pub mod anthropic;
pub mod azure;
pub mod bedrock;
pub mod cohere;
mod endpoint;
mod error;
pub mod gemini;
pub mod mistral;
pub mod ollama;
pub mod openai;
mod params;

use bytes::Bytes;
use sy_llm::embeddings::{EmbeddingsRequest, EmbeddingsResponse};
use sy_llm::openai::ChatCompletionJson;
use sy_llm::{ChatChunk, ChatRequest, ChatResponse};

pub use endpoint::{AwsCredentials, Credential, ProviderEndpoint, UnsupportedParams};
pub use error::{ProviderError, ProviderErrorKind, TranslateError};

/// Translation between the canonical chat shape and one provider's wire
/// format. Implementations are stateless unit structs living in statics.
pub trait ProviderAdapter: Send + Sync {
    /// The wire protocol's name, as in messages (`anthropic`, `azure`, ...).
    fn name(&self) -> &'static str;

    /// The base URL used when the config gives none; `None` when the
    /// provider has no public default (self-hosted servers, Azure
    /// resources) and the config must name one.
    fn default_base_url(&self) -> Option<&'static str> {
        None
    }

    /// The base URL for a configured `region` when the config gives no
    /// `base_url`, for regional providers (Bedrock); `None` otherwise.
    fn regional_base_url(&self, region: &str) -> Option<String> {
        let _ = region;
        None
    }

    /// The upstream request (method, full URL, headers with credentials,
    /// JSON body) for `req` sent to the provider's model `model`.
    ///
    /// Fails with [`TranslateError::Unsupported`] or
    /// [`TranslateError::Invalid`] when the request cannot be expressed for
    /// this provider; both are the client's fault (400).
    fn chat_request(
        &self,
        endpoint: &ProviderEndpoint,
        req: &ChatRequest,
        model: &str,
    ) -> Result<http::Request<Bytes>, TranslateError>;

    /// [`ProviderAdapter::chat_request`] for `req` as decoded from
    /// `source`, a client's body in OpenAI's format that nothing has
    /// changed since. An adapter whose upstream takes that format may send
    /// the client's bytes with only the model replaced rather than encode
    /// `req` again; by default `source` is not used.
    fn chat_request_as_sent(
        &self,
        endpoint: &ProviderEndpoint,
        req: &ChatRequest,
        source: &[u8],
        model: &str,
    ) -> Result<http::Request<Bytes>, TranslateError> {
        let _ = source;
        self.chat_request(endpoint, req, model)
    }

    /// Translate a whole successful (2xx) response body.
    fn chat_response(&self, body: &[u8]) -> Result<ChatResponse, TranslateError>;

    /// A whole successful response kept in the provider's bytes, for a
    /// client of OpenAI's dialect ([`ChatCompletionJson`]: checked, usage
    /// read, served with the gateway's id, time and model spliced in).
    /// `None` when this provider does not answer in OpenAI's Chat
    /// Completions format; then [`ProviderAdapter::chat_response`] is used.
    fn chat_response_json(
        &self,
        body: Bytes,
    ) -> Option<Result<ChatCompletionJson, TranslateError>> {
        let _ = body;
        None
    }

    /// A fresh decoder for one streamed response.
    fn stream_decoder(&self) -> Box<dyn StreamDecoder>;

    /// Whether [`ProviderAdapter::embeddings_request`] is implemented.
    fn supports_embeddings(&self) -> bool {
        false
    }

    /// The upstream request for an embeddings call of the provider's model
    /// `model`. `source`, when given, is the client's OpenAI-format body
    /// `req` was strictly decoded from: an adapter that sends OpenAI's
    /// format sends those bytes with only `model` replaced instead of
    /// encoding every input again. By default the provider has no
    /// embeddings API: [`TranslateError::Unsupported`] on `model`.
    fn embeddings_request(
        &self,
        endpoint: &ProviderEndpoint,
        req: &EmbeddingsRequest,
        source: Option<&[u8]>,
        model: &str,
    ) -> Result<http::Request<Bytes>, TranslateError> {
        let _ = (endpoint, req, source, model);
        Err(TranslateError::Unsupported {
            param: "model".to_owned(),
            provider: self.name(),
        })
    }

    /// Whether a successful embeddings answer is in OpenAI's format, so a
    /// client asking for float vectors can be served the provider's own
    /// bytes with only `model` replaced
    /// ([`sy_llm::embeddings::EmbeddingsJson`]) instead of every number
    /// decoded and written again.
    fn embeddings_in_openai_format(&self) -> bool {
        false
    }

    /// Translate a whole successful embeddings response body.
    fn embeddings_response(&self, body: &[u8]) -> Result<EmbeddingsResponse, TranslateError> {
        let _ = body;
        Err(TranslateError::malformed(
            self.name(),
            "the provider has no embeddings API",
        ))
    }

    /// Classify an error answer (non-2xx status, its headers and body).
    /// Never fails: a body that cannot be read still gives an error naming
    /// the status.
    fn error(
        &self,
        status: http::StatusCode,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> ProviderError;
}

/// Turns a provider's streamed bytes into canonical chunks.
///
/// Feed bytes as they arrive, split anywhere (inside an event, inside a
/// UTF-8 character). Chunks come out in order: first a chunk with
/// `delta.role`, then content and tool-call pieces, one finish chunk per
/// choice, then one usage-only chunk when the provider reported usage.
pub trait StreamDecoder: Send {
    /// Add bytes; return the chunks they complete.
    ///
    /// An `Err` ends the stream: [`TranslateError::Upstream`] for an error
    /// event the provider sent, [`TranslateError::Malformed`] for bytes that
    /// are not the provider's format. Chunks decoded before the error from
    /// the same bytes are returned first; the error comes on the next call
    /// (`push` or `finish`).
    fn push(&mut self, bytes: &[u8]) -> Result<Vec<ChatChunk>, TranslateError>;

    /// End of the body: the chunks still pending, or an error when the
    /// stream stopped before the provider said it was complete.
    fn finish(&mut self) -> Result<Vec<ChatChunk>, TranslateError>;
}

/// The wire protocol a configured provider speaks. Mirrors the config's
/// `kind`, minus the in-process mock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// OpenAI's API.
    Openai,
    /// Any OpenAI Chat Completions server (vLLM, Groq, Together, ...).
    OpenaiCompatible,
    /// Azure OpenAI.
    Azure,
    /// Anthropic's Messages API.
    Anthropic,
    /// Mistral's API.
    Mistral,
    /// Ollama's OpenAI-compatible endpoint.
    Ollama,
    /// AWS Bedrock's Converse API, SigV4-signed.
    Bedrock,
    /// Google's Gemini API (`generateContent`).
    Gemini,
    /// Cohere's v2 Chat API.
    Cohere,
}

impl ProviderKind {
    /// The adapter for this kind: the one place provider kinds are matched.
    pub fn adapter(self) -> &'static dyn ProviderAdapter {
        match self {
            ProviderKind::Openai => &openai::OpenAi::OFFICIAL,
            ProviderKind::OpenaiCompatible => &openai::OpenAi::COMPATIBLE,
            ProviderKind::Azure => &azure::Azure,
            ProviderKind::Anthropic => &anthropic::Anthropic,
            ProviderKind::Mistral => &mistral::Mistral,
            ProviderKind::Ollama => &ollama::Ollama,
            ProviderKind::Bedrock => &bedrock::Bedrock,
            ProviderKind::Gemini => &gemini::Gemini,
            ProviderKind::Cohere => &cohere::Cohere,
        }
    }
}
