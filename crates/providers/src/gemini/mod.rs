//! Google's Gemini API (`POST {base}/models/{model}:generateContent`, and
//! `:streamGenerateContent?alt=sse` when streaming).
//!
//! Reference pages followed: "Gemini API reference: models.generateContent"
//! (ai.google.dev/api/generate-content: request body, `GenerationConfig`,
//! `Candidate`, `FinishReason`, `UsageMetadata`), "Caching"/"UsageMetadata"
//! (cached tokens are inside `promptTokenCount`), "Function calling"
//! (`functionDeclarations`, `toolConfig.functionCallingConfig`,
//! `functionCall` / `functionResponse` parts) and "Troubleshooting"
//! (ai.google.dev/gemini-api/docs/troubleshooting: the error statuses).
//!
//! Request: system and developer messages become `systemInstruction`
//! (joined with blank lines); the other turns become `contents` with roles
//! `user` and `model`, consecutive same-role turns merged (Gemini wants
//! alternating turns; several tool results make one user turn). Text parts
//! become `text` parts; `data:` image URLs become `inlineData`; Files API
//! URIs (`https://generativelanguage.googleapis.com/...`) become `fileData`;
//! other image URLs are refused, as Gemini does not fetch arbitrary URLs.
//! Sampling: `temperature`, `top_p` → `topP`, `top_k` (extra field) →
//! `topK`, the completion cap → `maxOutputTokens`, `stop` →
//! `stopSequences`, `n` → `candidateCount`, `seed`, `presence_penalty`,
//! `frequency_penalty`. JSON output: `json_object` → `responseMimeType:
//! application/json`; `json_schema` adds `responseSchema` (with
//! `additionalProperties: false` removed, which the OpenAPI subset Gemini
//! takes does not know and which is its behaviour anyway).
//!
//! Tool calls: Gemini's `functionCall` parts carry no id. Answers get
//! synthesized ids `call_<k>` (k = the call's position in the candidate),
//! the same in whole and streamed answers. A tool result sent back is
//! matched to its call by `tool_call_id` against the nearest earlier
//! assistant turn, which gives the function name `functionResponse`
//! needs; results go in the order the client sent them, which is the order
//! of the calls. A result whose id matches no earlier call is refused.
//!
//! Usage convention (UsageMetadata): `promptTokenCount` includes
//! `cachedContentTokenCount`; `candidatesTokenCount` excludes
//! `thoughtsTokenCount`; `toolUsePromptTokenCount` is beside the prompt.
//! Canonical prompt = prompt + tool-use prompt, cached = cached content,
//! completion = candidates + thoughts, reasoning = thoughts.
//!
//! Refused whatever the policy: `logprobs` / `top_logprobs`, audio output,
//! content parts other than text and images, function-role messages.
//! Dropped (or refused under `unsupported_params: refuse`): `user`,
//! `logit_bias`, `parallel_tool_calls`, `reasoning_effort`, `store`,
//! `metadata`, `service_tier` and any other unknown field.

mod auth;
mod request;
mod response;
mod stream;
mod wire;

#[cfg(test)]
mod tests;

use bytes::Bytes;
use sy_llm::{ChatRequest, ChatResponse};

use crate::openai::request::post_with;
use crate::{ProviderAdapter, ProviderEndpoint, ProviderError, StreamDecoder, TranslateError};

/// Gemini's public API, version path included.
pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com/v1beta";

const NAME: &str = "gemini";

/// The Gemini adapter.
#[derive(Debug, Clone, Copy)]
pub struct Gemini;

impl ProviderAdapter for Gemini {
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
        let body = request::build(endpoint, req)?;
        // The model id may be given as `models/x` or `x`.
        let model = model.strip_prefix("models/").unwrap_or(model);
        let path = if req.is_stream() {
            format!("/models/{model}:streamGenerateContent?alt=sse")
        } else {
            format!("/models/{model}:generateContent")
        };
        post_with(
            &endpoint.url(&path),
            auth::headers(endpoint),
            endpoint,
            &body,
            req.is_stream(),
        )
    }

    fn chat_response(&self, body: &[u8]) -> Result<ChatResponse, TranslateError> {
        response::parse(body)
    }

    fn stream_decoder(&self) -> Box<dyn StreamDecoder> {
        Box::new(stream::GeminiStream::default())
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
