//! Cohere's v2 Chat API (`POST {base}/v2/chat`, bearer key).
//!
//! Reference pages followed: "Chat" and "Chat with Streaming"
//! (docs.cohere.com/reference/chat, /reference/chat-stream: request body,
//! response, finish reasons, usage), "A Guide to Streaming Responses"
//! (docs.cohere.com/v2/docs/streaming: the event types), "Structured
//! Outputs" (response_format) and "Errors" (docs.cohere.com/reference/errors:
//! statuses, including 498 for an invalid token).
//!
//! Request: messages keep their roles (`developer` becomes `system`); user
//! content keeps `text` and `image_url` parts; assistant turns keep
//! `tool_calls`; tool messages keep `tool_call_id`. `top_p` → `p`, `top_k`
//! (extra field) → `k`, the completion cap → `max_tokens`, `stop` →
//! `stop_sequences`, `seed`, `presence_penalty`, `frequency_penalty`.
//! `tool_choice`: `required` → `REQUIRED`, `none` → `NONE`, `auto` → left
//! out (Cohere's default); a named function is emulated by sending only
//! that tool with `REQUIRED`. `response_format` `json_object` →
//! `{"type":"json_object"}`; `json_schema` adds `json_schema` (Cohere
//! refuses JSON output combined with tools or documents itself).
//!
//! Answers: `text` content joins into the message; `thinking` content and
//! `tool_plan` become `reasoning_content`; tool calls keep their ids.
//! Finish reasons: COMPLETE and STOP_SEQUENCE → stop, MAX_TOKENS → length,
//! TOOL_CALL → tool_calls; ERROR and TIMEOUT are upstream errors.
//!
//! Usage convention: Cohere reports `billed_units` (what is charged) and
//! `tokens` (what the model read and wrote, prompt template included). The
//! canonical figures are the billed units, falling back to `tokens` when
//! billing figures are absent; no cached-token figure is reported.
//!
//! Refused whatever the policy: `n` > 1, `logprobs`/`top_logprobs`, audio
//! output, content parts other than text and images, function-role
//! messages. Dropped (or refused under `unsupported_params: refuse`):
//! `user`, `parallel_tool_calls`, `logit_bias`, `store`, `metadata`,
//! `service_tier`, `reasoning_effort` and any other unknown field.

mod auth;
mod request;
mod response;
mod stream;
mod wire;

#[cfg(test)]
mod tests;

use bytes::Bytes;
use sy_llm::{ChatRequest, ChatResponse};

use crate::openai::request::post;
use crate::{ProviderAdapter, ProviderEndpoint, ProviderError, StreamDecoder, TranslateError};

/// Cohere's public API (the version is in the path, `/v2/chat`).
pub const DEFAULT_BASE_URL: &str = "https://api.cohere.com";

const NAME: &str = "cohere";

/// The Cohere adapter.
#[derive(Debug, Clone, Copy)]
pub struct Cohere;

impl ProviderAdapter for Cohere {
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
        post(
            &endpoint.url("/v2/chat"),
            auth::header(endpoint),
            endpoint,
            &body,
            req.is_stream(),
        )
    }

    fn chat_response(&self, body: &[u8]) -> Result<ChatResponse, TranslateError> {
        response::parse(body)
    }

    fn stream_decoder(&self) -> Box<dyn StreamDecoder> {
        Box::new(stream::CohereStream::default())
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
