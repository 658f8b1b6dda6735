//! AWS Bedrock's Converse API: `POST {base}/model/{modelId}/converse`, and
//! `/converse-stream` for streams (binary AWS event stream, see
//! [`stream`](self)). The base URL is
//! `https://bedrock-runtime.{region}.amazonaws.com` for the configured
//! `region`; the model id (which may hold `:`, as in
//! `anthropic.claude-3-5-haiku-20241022-v1:0`, or be an inference profile
//! ARN) is percent-encoded into the path.
//!
//! Auth: SigV4 (service `bedrock`) with the configured AWS credentials,
//! signed at the endpoint's injected clock; or, without AWS credentials, a
//! Bedrock API key as `Authorization: Bearer`.
//!
//! Request: system and developer messages become `system` blocks; other
//! messages become `user`/`assistant` turns of content blocks (text, images
//! from base64 data URLs as `image {format, source.bytes}`, tool calls as
//! `toolUse`, tool messages as `toolResult` in a user turn), consecutive
//! same-role turns merged; `tools` → `toolConfig.tools[].toolSpec`;
//! `tool_choice` auto / required / named → `auto` / `any` / `tool`;
//! `max_tokens`, `temperature`, `top_p`, `stop` → `inferenceConfig`.
//! Bedrock-native fields sent as extra fields (`additionalModelRequestFields`,
//! `guardrailConfig`, `performanceConfig`, ...) pass through.
//!
//! Prompt caching: for models that take checkpoints (Claude, Nova), a
//! breakpoint (`cache_control`) on a system or message text part, on a
//! message's image or on a tool becomes a `cachePoint` block right after
//! it, carrying the breakpoint's `ttl` when Bedrock knows it (`5m`, `1h`).
//! Bedrock refuses lifetimes that grow along `toolConfig` → `system` →
//! `messages`; the client chose them and they are sent as chosen, as to
//! Anthropic.
//!
//! JSON output: the Converse API has no JSON mode, so `response_format`
//! `json_object` / `json_schema` is emulated, as for Anthropic, with a
//! forced tool named [`JSON_TOOL`] whose input schema is the requested
//! schema; its input comes back as the message text (streamed as text
//! deltas), finish reason `stop`. Combining it with client tools is
//! refused. (Forced tool choice works on the models Bedrock supports it
//! for: Anthropic, Mistral Large, Amazon Nova.)
//!
//! Refused whatever the policy: `n` > 1, `logprobs`/`top_logprobs`, audio
//! output, content parts other than text and images, image URLs that are
//! not base64 data URLs (Bedrock takes bytes; the gateway does not fetch),
//! image formats other than png/jpeg/gif/webp, `tool_choice: none` in a
//! conversation that already holds tool calls. Dropped (or refused under
//! `unsupported_params: refuse`): `seed`, `user`, `parallel_tool_calls:
//! false`, `presence_penalty`, `frequency_penalty`, `logit_bias`,
//! `stream_options` and any other unknown field.

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

/// Name of the forced tool that emulates `response_format` JSON output.
pub const JSON_TOOL: &str = "json_response";

/// The `accept` of a ConverseStream request.
pub const EVENT_STREAM: &str = "application/vnd.amazon.eventstream";

const NAME: &str = "bedrock";

/// The Bedrock adapter.
#[derive(Debug, Clone, Copy)]
pub struct Bedrock;

/// `model` percent-encoded as one path segment: everything but RFC 3986
/// unreserved characters (so `:` → `%3A`, `/` in ARNs → `%2F`).
fn encode_segment(model: &str) -> String {
    let mut out = String::with_capacity(model.len());
    for byte in model.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl ProviderAdapter for Bedrock {
    fn name(&self) -> &'static str {
        NAME
    }

    fn regional_base_url(&self, region: &str) -> Option<String> {
        Some(format!("https://bedrock-runtime.{region}.amazonaws.com"))
    }

    fn chat_request(
        &self,
        endpoint: &ProviderEndpoint,
        req: &ChatRequest,
        model: &str,
    ) -> Result<http::Request<Bytes>, TranslateError> {
        // Claude and Nova take prompt-caching checkpoints; other models
        // on Bedrock refuse them.
        let id = model.to_ascii_lowercase();
        let body = request::build(endpoint, req, id.contains("claude") || id.contains("nova"))?;
        let operation = if req.is_stream() {
            "converse-stream"
        } else {
            "converse"
        };
        let url = endpoint.url(&format!("/model/{}/{operation}", encode_segment(model)));
        let mut request = post_with(&url, Vec::new(), endpoint, &body, false)?;
        if req.is_stream() {
            request.headers_mut().insert(
                http::header::ACCEPT,
                http::HeaderValue::from_static(EVENT_STREAM),
            );
        }
        auth::authenticate(endpoint, &mut request)?;
        Ok(request)
    }

    fn chat_response(&self, body: &[u8]) -> Result<ChatResponse, TranslateError> {
        response::parse(body)
    }

    fn stream_decoder(&self) -> Box<dyn StreamDecoder> {
        Box::new(stream::BedrockStream::default())
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
