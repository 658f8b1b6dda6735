//! Anthropic's Messages API (`POST {base}/messages`).
//!
//! Request: system and developer messages become the top-level `system`
//! (joined with blank lines, wherever they stood in the conversation);
//! other messages become content blocks, consecutive same-role turns merged
//! (so several tool results make one user turn); `max_tokens`, required
//! here, defaults to the provider's `max_tokens_default` (4096 unless
//! configured); `stop` → `stop_sequences`; `user` → `metadata.user_id`.
//! `top_k` and `thinking`, Anthropic's own parameters, pass through when a
//! client sends them as extra fields.
//!
//! JSON output: Anthropic has no JSON mode, so `response_format`
//! `json_object` / `json_schema` is emulated with a forced tool named
//! [`JSON_TOOL`] whose input schema is the requested schema; the tool's
//! input comes back as the message text (and streams as text deltas), with
//! finish reason `stop`. Combining it with client tools is refused.
//!
//! Thinking: `thinking` blocks come back as `message.reasoning_content`
//! (streamed as `delta.reasoning_content`), the field DeepSeek, vLLM and
//! OpenRouter use; signatures and redacted thinking are not carried.
//!
//! Refused whatever the policy: `n` > 1, `logprobs`/`top_logprobs`, audio
//! output, content parts other than text and images. Dropped (or refused
//! under `unsupported_params: refuse`): `seed`, `presence_penalty`,
//! `frequency_penalty`, `logit_bias`, `store`, `metadata`, `service_tier`,
//! `reasoning_effort`, `stream_options` and any other unknown field.

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

/// Anthropic's public API, version path included.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com/v1";

/// The `anthropic-version` header sent unless the config sets `api_version`.
pub const DEFAULT_VERSION: &str = "2023-06-01";

/// Name of the forced tool that emulates `response_format` JSON output.
pub const JSON_TOOL: &str = "json_response";

const NAME: &str = "anthropic";

/// The Anthropic adapter.
#[derive(Debug, Clone, Copy)]
pub struct Anthropic;

impl ProviderAdapter for Anthropic {
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
        let body = request::build(endpoint, req, model)?;
        post_with(
            &endpoint.url("/messages"),
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
        Box::new(stream::AnthropicStream::default())
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
