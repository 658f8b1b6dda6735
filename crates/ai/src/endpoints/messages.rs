//! `POST /v1/messages` and `POST /v1/messages/count_tokens`: the Anthropic
//! Messages API, in front of any provider.
//!
//! Parse (Anthropic-shaped validation) → translate to the canonical request
//! → the shared provider call ([`super::upstream`]) → translate back: a
//! whole message, or the Anthropic event stream encoded chunk by chunk as
//! the provider produces them. Every failure is Anthropic's error body
//! (`{"type":"error","error":{"type","message"},"request_id"}`) with the
//! status Anthropic would use ([`error_response`]).
//!
//! Credentials: Anthropic SDKs send `x-api-key` (or `Authorization: Bearer`
//! with `auth_token`). Authentication is the proxy's policy chain; this
//! endpoint neither reads those headers nor echoes them anywhere.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use sy_http::Body;
use sy_llm::anthropic::{
    self, CountTokensResponse, ErrorBody, ErrorDetail, RequestError, StreamEncoder, StreamEvent,
};
use sy_llm::{ChatChunk, ChatResponse, Usage, openai, tokens};

use super::meter::{Meter, StreamMeter};
use super::streaming::{self, StreamDialect};
use super::upstream::{self, Called};
use crate::providers::{AnswerForm, ChunkStream, Decoded};
use crate::{AiError, AiGateway, Caller, respond};

/// `POST /v1/messages`.
pub(crate) async fn handle(
    gateway: &AiGateway,
    allowed: &Caller<'_>,
    body: &[u8],
    request_id: &str,
) -> Result<Response<Body>, AiError> {
    let parsed = anthropic::parse_messages_request(body).map_err(invalid)?;
    let request = Arc::new(anthropic::to_chat_request(&parsed).map_err(invalid)?);
    let id = ["msg_", request_id].concat();
    let Called {
        info,
        meter,
        prompt_estimate,
        reply,
    } = upstream::call_model(
        gateway,
        allowed,
        &request,
        None,
        request.is_stream(),
        AnswerForm::Canonical,
    )
    .await?;
    let mut response = match reply.decode(&info.deployment)? {
        Decoded::Complete(answer) => complete(*answer, &id, &request.model, &meter),
        Decoded::Stream(chunks) => {
            let encoder = StreamEncoder::new(id, request.model.clone(), prompt_estimate);
            stream(chunks, encoder, StreamMeter::new(meter))
        }
    };
    upstream::set_call_headers(&mut response, &info);
    response.extensions_mut().insert(info);
    Ok(response)
}

/// `POST /v1/messages/count_tokens`: the prompt's tokens by the gateway's
/// tokenizer ([`sy_llm::tokens`]), counted with the vocabulary of the
/// deployment a call would use, so the figure matches the `input_tokens`
/// that `message_start` reports. Nothing is sent upstream.
pub(crate) fn count_tokens(
    gateway: &AiGateway,
    allowed: &Caller<'_>,
    body: &[u8],
) -> Result<Response<Body>, AiError> {
    let parsed = anthropic::parse_count_tokens_request(body).map_err(invalid)?;
    let request = anthropic::to_chat_request(&parsed).map_err(invalid)?;
    let deployment = allowed
        .model(&gateway.registry, &request.model)?
        .pick()
        .ok_or_else(|| AiError::ModelNotFound {
            model: request.model.clone(),
        })?;
    let counted = CountTokensResponse {
        input_tokens: tokens::count_prompt_tokens(&request, &deployment.model),
    };
    Ok(respond::json(StatusCode::OK, &counted))
}

/// The Anthropic-shaped response for any failure of these endpoints. The
/// status is the error's own; `error.type` is Anthropic's name for it
/// (`not_found_error` for an unknown model, `rate_limit_error` for 429,
/// `overloaded_error` for 529, ...). Internal details stay hidden, as in
/// the OpenAI shape; the error rides in the extensions for the edge log.
pub(crate) fn error_response(error: AiError, request_id: &str) -> Response<Body> {
    let status = error.status();
    let body = ErrorBody::new(detail(&error), Some(request_id.to_owned()));
    let mut response = Response::new(sy_http::full(body.to_json()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let AiError::MethodNotAllowed { allow, .. } = &error {
        headers.insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    response.extensions_mut().insert(error);
    response
}

/// Anthropic's `error` object for a gateway error.
fn detail(error: &AiError) -> ErrorDetail {
    ErrorDetail::for_status(error.status().as_u16(), error.to_body().error.message)
}

/// A dialect refusal as the gateway's error (status 400).
fn invalid(error: RequestError) -> AiError {
    AiError::InvalidRequest(openai::RequestError {
        message: error.message,
        param: None,
        code: None,
    })
}

/// A whole answer as an Anthropic message, usage and cost settled. When
/// the provider reported no usage the local estimate stands in, in the
/// body as well as the record.
fn complete(mut answer: ChatResponse, id: &str, model: &str, meter: &Meter) -> Response<Body> {
    let tokens = match &answer.usage {
        Some(usage) => usage.to_tokens(),
        None => meter.estimate_answer(&answer),
    };
    answer.usage = Some(Usage::from_tokens(&tokens));
    let message = anthropic::from_chat_response(&answer, id, model);
    let mut response = respond::json(StatusCode::OK, &message);
    meter.settle_whole(&mut response, tokens);
    response
}

/// Provider chunks as Anthropic events, one SSE frame per event;
/// `message_start` goes out before the first chunk is awaited.
struct AnthropicDialect(StreamEncoder);

fn stream(chunks: ChunkStream, encoder: StreamEncoder, meter: StreamMeter) -> Response<Body> {
    streaming::stream(chunks, AnthropicDialect(encoder), meter)
}

fn frames(events: Vec<StreamEvent>) -> Vec<Bytes> {
    events.iter().map(anthropic::encode_event).collect()
}

impl StreamDialect for AnthropicDialect {
    fn start(&mut self) -> Vec<Bytes> {
        frames(self.0.start())
    }

    fn chunk(&mut self, chunk: ChatChunk) -> Vec<Bytes> {
        frames(self.0.push(&chunk))
    }

    fn error(&mut self, error: &AiError) -> Vec<Bytes> {
        frames(self.0.error(detail(error)))
    }

    fn finish(&mut self, meter: &mut StreamMeter) -> Vec<Bytes> {
        let mut events = Vec::new();
        // Some servers (llama.cpp's, some OpenAI-compatible ones) send no
        // usage on streams: `message_delta` then carries the gateway's
        // estimate rather than 0 tokens.
        if self.0.usage().is_none()
            && let Some(tokens) = meter.settle_estimate()
        {
            let mut chunk = ChatChunk::new("", 0, "", Vec::new());
            chunk.usage = Some(Usage::from_tokens(&tokens));
            events.extend(self.0.push(&chunk));
        }
        events.extend(self.0.finish());
        frames(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AiCallInfo;
    use futures_util::StreamExt;
    use http_body_util::BodyExt;
    use sy_llm::chat::{ChunkChoice, Delta};

    #[tokio::test]
    async fn error_mid_stream_ends_with_an_error_event() {
        let first = ChatChunk::new(
            "x",
            1,
            "deployment-model",
            vec![ChunkChoice::delta(
                0,
                Delta {
                    content: Some("Hel".into()),
                    ..Delta::default()
                },
            )],
        );
        let items: Vec<Result<ChatChunk, AiError>> =
            vec![Ok(first), Err(AiError::provider(529, "Overloaded"))];
        let info = AiCallInfo::new("public", "mock/m");
        let meter = Meter::for_test(&info, "m", None, 10);
        let response = stream(
            futures_util::stream::iter(items).boxed(),
            StreamEncoder::new("msg_r", "public", 10),
            StreamMeter::new(meter),
        );
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(
            String::from_utf8(body.to_vec()).unwrap(),
            concat!(
                "event: message_start\n",
                r#"data: {"type":"message_start","message":{"id":"msg_r","type":"message","role":"assistant","model":"public","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_1h_input_tokens":0,"ephemeral_5m_input_tokens":0}}}}"#,
                "\n\n",
                "event: content_block_start\n",
                r#"data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
                "\n\n",
                "event: content_block_delta\n",
                r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}"#,
                "\n\n",
                "event: error\n",
                r#"data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
                "\n\n",
            )
        );
        // The cut stream still settles, with an estimate.
        let usage = info.usage.get().copied().unwrap();
        assert!(usage.estimated);
        assert_eq!(usage.prompt, 10);
    }

    #[tokio::test]
    async fn a_stream_without_usage_reports_the_estimate_in_message_delta() {
        let text = |t: &str, finish: Option<sy_llm::chat::FinishReason>| {
            let mut choice = ChunkChoice::delta(
                0,
                Delta {
                    content: Some(t.into()),
                    ..Delta::default()
                },
            );
            choice.finish_reason = finish;
            ChatChunk::new("x", 1, "m", vec![choice])
        };
        let items: Vec<Result<ChatChunk, AiError>> = vec![
            Ok(text("Hello there, ", None)),
            Ok(text(
                "general Kenobi",
                Some(sy_llm::chat::FinishReason::Stop),
            )),
        ];
        let info = AiCallInfo::new("public", "mock/m");
        let meter = Meter::for_test(&info, "m", None, 10);
        let response = stream(
            futures_util::stream::iter(items).boxed(),
            StreamEncoder::new("msg_r", "public", 10),
            StreamMeter::new(meter),
        );
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8(body.to_vec()).unwrap();
        let delta = body
            .split("\n\n")
            .find(|frame| frame.starts_with("event: message_delta"))
            .unwrap_or_else(|| panic!("no message_delta in {body}"));
        let json: serde_json::Value =
            serde_json::from_str(delta.split_once("data: ").unwrap().1).unwrap();
        let out = json["usage"]["output_tokens"].as_u64().unwrap();
        assert!(
            out > 0,
            "output_tokens must be the estimate, not 0: {delta}"
        );
        assert!(
            body.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"),
            "{body}"
        );
        let usage = info.usage.get().copied().unwrap();
        assert!(usage.estimated);
        assert_eq!(usage.completion, out);
    }
}
