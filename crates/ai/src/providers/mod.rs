//! Providers: whatever answers a canonical chat request.
//!
//! The trait is the seam between the endpoint and a backend: the
//! in-process [`mock::MockProvider`], and [`HttpProvider`] for every real
//! provider (translation in `sy-providers`, sending through `sy-http`).

use std::sync::Arc;

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use sy_config::{ProviderKindSpec, ProviderSpec};
use sy_llm::embeddings::{EmbeddingsJson, EmbeddingsRequest, EmbeddingsResponse, EmbeddingsUsage};
use sy_llm::openai::{ChatCompletionJson, RequestError};
use sy_llm::{ChatChunk, ChatRequest, ChatResponse};
use sy_providers::ProviderKind;

use crate::AiError;

mod http;
pub mod mock;

pub use http::{DEFAULT_TIMEOUT, HttpProvider};
pub use mock::MockProvider;

/// Chunks of a streamed answer, produced as the provider produces them.
pub type ChunkStream = BoxStream<'static, Result<ChatChunk, AiError>>;

/// A provider's answer.
pub enum ProviderReply {
    /// A whole response (the request had no `stream: true`).
    Complete(Box<ChatResponse>),
    /// A whole response in OpenAI's format, kept as the provider's bytes;
    /// only when the caller asked for [`AnswerForm::OpenAiJson`].
    Json(Box<ChatCompletionJson>),
    /// A stream of chunks (the request had `stream: true`).
    Stream(ChunkStream),
}

impl std::fmt::Debug for ProviderReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProviderReply::Complete(r) => f.debug_tuple("Complete").field(r).finish(),
            ProviderReply::Json(r) => f.debug_tuple("Json").field(r).finish(),
            ProviderReply::Stream(_) => f.write_str("Stream(..)"),
        }
    }
}

/// The forms a whole answer may be handed back in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerForm {
    /// [`ProviderReply::Complete`] only.
    Canonical,
    /// [`ProviderReply::Json`] when the provider answers in OpenAI's Chat
    /// Completions format, else [`ProviderReply::Complete`]: for an endpoint
    /// that serves that format, so the answer need not be decoded and
    /// encoded again.
    OpenAiJson,
}

/// A reply whose whole answer, if any, is decoded: what an endpoint
/// serving another format than OpenAI's Chat Completions works on.
pub(crate) enum Decoded {
    /// A whole answer.
    Complete(Box<ChatResponse>),
    /// A stream of chunks.
    Stream(ChunkStream),
}

impl ProviderReply {
    /// Decode a kept answer ([`ProviderReply::Json`]); `deployment` names
    /// its source in the error should it not decode.
    pub(crate) fn decode(self, deployment: &str) -> Result<Decoded, AiError> {
        match self {
            ProviderReply::Complete(answer) => Ok(Decoded::Complete(answer)),
            ProviderReply::Stream(chunks) => Ok(Decoded::Stream(chunks)),
            ProviderReply::Json(json) => json.parse().map(|a| Decoded::Complete(Box::new(a))).map_err(|_| {
                AiError::provider(
                    502,
                    format!(
                        "The deployment `{deployment}` sent a response the gateway could not read."
                    ),
                )
            }),
        }
    }
}

/// A whole embeddings answer: decoded, or in an OpenAI-format provider's
/// own bytes for a client that asked for float vectors.
#[derive(Debug)]
pub enum EmbeddingsReply {
    /// Decoded (the mock, translating adapters, base64 asked for).
    Decoded(EmbeddingsResponse),
    /// The provider's bytes, checked, served with `model` replaced.
    Json(EmbeddingsJson),
}

impl EmbeddingsReply {
    /// The provider's token count.
    pub fn usage(&self) -> EmbeddingsUsage {
        match self {
            EmbeddingsReply::Decoded(answer) => answer.usage,
            EmbeddingsReply::Json(json) => json.usage(),
        }
    }
}

/// A backend answering chat requests.
///
/// Contract:
/// - answer [`ProviderReply::Stream`] exactly when `request.is_stream()`,
///   otherwise [`ProviderReply::Complete`], or [`ProviderReply::Json`] when
///   `form` allows it;
/// - report usage whether or not the client asked: on the whole response,
///   or as a closing usage-only chunk (the endpoint drops it when the
///   client did not ask for `include_usage`, but needs it for accounting);
/// - `id`, `created` and `model` of what is returned may be anything: the
///   endpoint overwrites them with the gateway's id, time and the public
///   model name;
/// - an error before the first chunk is an `Err` from `chat` (so the client
///   gets a proper status); an error after it is an `Err` item in the
///   stream.
pub trait Provider: Send + Sync {
    /// Answer `request` with the provider's model `deployment_model`; a
    /// whole answer in one of the forms `form` allows. `source`, when
    /// given, is the client's OpenAI-format body `request` was decoded from
    /// and is unchanged since (see
    /// [`sy_providers::ProviderAdapter::chat_request_as_sent`]).
    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
        source: Option<&'a [u8]>,
        deployment_model: &'a str,
        form: AnswerForm,
    ) -> BoxFuture<'a, Result<ProviderReply, AiError>>;

    /// Embed `request`'s inputs with the provider's model
    /// `deployment_model`; `source`, when given, is the client's body
    /// `request` was strictly decoded from (see
    /// [`sy_providers::ProviderAdapter::embeddings_request`]). The
    /// response's `model` may be anything (the endpoint stamps the public
    /// name); vectors may be floats or base64 (the endpoint converts to
    /// what the client asked). By default the provider has no embeddings:
    /// a 400 naming `provider`.
    fn embeddings<'a>(
        &'a self,
        request: &'a EmbeddingsRequest,
        source: Option<&'a [u8]>,
        deployment_model: &'a str,
        provider: &'a str,
    ) -> BoxFuture<'a, Result<EmbeddingsReply, AiError>> {
        let _ = (request, source, deployment_model);
        Box::pin(std::future::ready(Err(embeddings_unsupported(
            provider, None,
        ))))
    }
}

/// The 400 for an embeddings call to a provider without them.
pub(crate) fn embeddings_unsupported(provider: &str, kind: Option<&str>) -> AiError {
    let kind = kind.map(|k| format!(" (kind `{k}`)")).unwrap_or_default();
    AiError::InvalidRequest(RequestError {
        message: format!("Embeddings are not supported by the provider `{provider}`{kind}."),
        param: Some("model".to_owned()),
        code: Some("unsupported_model"),
    })
}

/// Build the provider a spec describes. Fails, with a message to prefix
/// with the provider's config path, on settings only the adapter can judge.
pub fn build(spec: &ProviderSpec) -> Result<Arc<dyn Provider>, String> {
    let kind = match spec.kind {
        ProviderKindSpec::Mock => {
            return Ok(Arc::new(MockProvider::new(
                spec.mock.clone().unwrap_or_default(),
            )));
        }
        ProviderKindSpec::Openai => ProviderKind::Openai,
        ProviderKindSpec::OpenaiCompatible => ProviderKind::OpenaiCompatible,
        ProviderKindSpec::Azure => ProviderKind::Azure,
        ProviderKindSpec::Anthropic => ProviderKind::Anthropic,
        ProviderKindSpec::Mistral => ProviderKind::Mistral,
        ProviderKindSpec::Ollama => ProviderKind::Ollama,
        ProviderKindSpec::Bedrock => ProviderKind::Bedrock,
        ProviderKindSpec::Gemini => ProviderKind::Gemini,
        ProviderKindSpec::Cohere => ProviderKind::Cohere,
    };
    Ok(Arc::new(HttpProvider::new(spec, kind)?))
}
