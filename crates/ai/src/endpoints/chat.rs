//! `POST /v1/chat/completions`.
//!
//! Parse → find the model (honouring the route's allow-list), pick the
//! deployment, count the prompt and check the context window, call the
//! provider ([`super::upstream`], shared with `messages`) → stamp the
//! gateway's id, time and the public model name on what comes back →
//! answer whole (with token and cost headers), or stream it as SSE chunk by
//! chunk → settle usage and cost ([`super::meter`]).

use std::sync::Arc;

use bytes::Bytes;
use http::{Response, StatusCode};
use sy_http::Body;
use sy_llm::openai::ChatCompletionJson;
use sy_llm::{ChatChunk, ChatResponse, Usage, openai, sse};

use super::meter::{Meter, StreamMeter};
use super::streaming::{self, StreamDialect};
use super::upstream::{self, Called};
use crate::gateway::unix_now;
use crate::providers::{AnswerForm, ChunkStream, ProviderReply};
use crate::{AiError, AiGateway, Caller, respond};

#[expect(
    clippy::manual_async_fn,
    reason = "an async fn keeps each argument twice in its future (rust-lang/rust#62958)"
)]
pub(crate) fn handle(
    gateway: &AiGateway,
    allowed: &Caller<'_>,
    body: &[u8],
    request_id: &str,
) -> impl Future<Output = Result<Response<Body>, AiError>> + Send {
    async move {
        let (request, source) = openai::parse_chat_request_with_source(body)?;
        let request = Arc::new(request);
        let stamp = Stamp {
            // Concatenated, not `format!`: this runs on every answer.
            id: ["chatcmpl-", request_id].concat(),
            created: unix_now(),
            model: request.model.clone(),
        };
        // Model lookup, routing and the provider call, shared with the other
        // dialects. `source` is the body when `request` says exactly what it
        // says: an upstream of OpenAI's format is sent it, model replaced.
        let Called {
            info, meter, reply, ..
        } = upstream::call_model(
            gateway,
            allowed,
            &request,
            source,
            false,
            AnswerForm::OpenAiJson,
        )
        .await?;

        let mut response = match reply {
            ProviderReply::Complete(answer) => complete(*answer, &stamp, &meter),
            ProviderReply::Json(answer) => complete_json(&answer, &stamp, &meter),
            ProviderReply::Stream(chunks) => stream(
                chunks,
                stamp,
                request.include_usage(),
                StreamMeter::new(meter),
            ),
        };
        upstream::set_call_headers(&mut response, &info);
        response.extensions_mut().insert(info);
        Ok(response)
    }
}

/// The gateway's identity for one completion, stamped on every object.
struct Stamp {
    id: String,
    created: u64,
    model: String,
}

fn complete(mut answer: ChatResponse, stamp: &Stamp, meter: &Meter) -> Response<Body> {
    answer.id.clone_from(&stamp.id);
    answer.created = stamp.created;
    answer.model.clone_from(&stamp.model);
    let tokens = match &answer.usage {
        Some(usage) => usage.to_tokens(),
        None => meter.estimate_answer(&answer),
    };
    let mut response = respond::json(StatusCode::OK, &answer);
    meter.settle_whole(&mut response, tokens);
    response
}

/// An answer the provider wrote in OpenAI's format: served in its own
/// bytes with the gateway's stamp ([`ChatCompletionJson::stamped`]), decoded
/// only when it reports no usage and the gateway must estimate.
fn complete_json(answer: &ChatCompletionJson, stamp: &Stamp, meter: &Meter) -> Response<Body> {
    let tokens = match answer.usage() {
        Some(usage) => usage.to_tokens(),
        None => {
            let decoded = answer
                .parse()
                .unwrap_or_else(|_| ChatResponse::new("", 0, "", Vec::new()));
            meter.estimate_answer(&decoded)
        }
    };
    let body = answer.stamped(&stamp.id, stamp.created, &stamp.model);
    let mut response = respond::json_bytes(StatusCode::OK, body);
    meter.settle_whole(&mut response, tokens);
    response
}

/// OpenAI chat chunks: stamped, the usage chunk dropped unless the client
/// asked for it, then `data: [DONE]`. A provider error mid-stream becomes an
/// `error` event and ends the stream without `[DONE]`, as OpenAI does. When
/// the client asked for usage and the provider sent none, the gateway's
/// estimate closes the stream as the usage chunk OpenAI SDKs expect (flagged
/// `estimated` in the record).
struct ChatDialect {
    stamp: Stamp,
    include_usage: bool,
}

fn stream(
    chunks: ChunkStream,
    stamp: Stamp,
    include_usage: bool,
    meter: StreamMeter,
) -> Response<Body> {
    streaming::stream(
        chunks,
        ChatDialect {
            stamp,
            include_usage,
        },
        meter,
    )
}

impl StreamDialect for ChatDialect {
    fn chunk(&mut self, mut chunk: ChatChunk) -> Vec<Bytes> {
        if chunk.usage.is_some() && !self.include_usage {
            if chunk.choices.is_empty() {
                return Vec::new();
            }
            chunk.usage = None;
        }
        chunk.id.clone_from(&self.stamp.id);
        chunk.created = self.stamp.created;
        chunk.model.clone_from(&self.stamp.model);
        vec![encode(&chunk)]
    }

    fn error(&mut self, error: &AiError) -> Vec<Bytes> {
        streaming::error_frame(error)
    }

    fn finish(&mut self, meter: &mut StreamMeter) -> Vec<Bytes> {
        let estimate = if self.include_usage {
            meter.settle_estimate()
        } else {
            None
        };
        let Some(tokens) = estimate else {
            return vec![Bytes::from_static(sse::DONE)];
        };
        let mut chunk = ChatChunk::new(
            self.stamp.id.clone(),
            self.stamp.created,
            self.stamp.model.clone(),
            Vec::new(),
        );
        chunk.usage = Some(Usage::from_tokens(&tokens));
        vec![encode(&chunk), Bytes::from_static(sse::DONE)]
    }
}

fn encode(chunk: &ChatChunk) -> Bytes {
    match sse::encode_json(chunk) {
        Ok(bytes) => bytes,
        Err(e) => respond::sse_error(&AiError::Internal(format!("encoding a chunk: {e}"))),
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
    async fn error_mid_stream_becomes_an_error_event_without_done() {
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
            vec![Ok(first), Err(AiError::provider(502, "upstream reset"))];
        let stamp = Stamp {
            id: "chatcmpl-r".into(),
            created: 7,
            model: "public".into(),
        };
        let info = AiCallInfo::new("public", "mock/gpt-4o");
        let price = crate::pricing::lookup("openai", "gpt-4o").map(|e| e.price);
        let meter = Meter::for_test(&info, "gpt-4o", price, 10);
        let response = stream(
            futures_util::stream::iter(items).boxed(),
            stamp,
            false,
            StreamMeter::new(meter),
        );
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(
            String::from_utf8(body.to_vec()).unwrap(),
            concat!(
                r#"data: {"id":"chatcmpl-r","object":"chat.completion.chunk","created":7,"model":"public","#,
                r#""choices":[{"index":0,"delta":{"content":"Hel"},"logprobs":null,"finish_reason":null}]}"#,
                "\n\n",
                r#"data: {"error":{"message":"upstream reset","type":"server_error","param":null,"code":null}}"#,
                "\n\n"
            )
        );
        // No usage chunk passed: the estimate settles when the stream ends.
        let usage = info.usage.get().copied().unwrap();
        assert!(usage.estimated);
        assert_eq!(
            (usage.prompt, usage.completion),
            (10, 1),
            "\"Hel\" is 1 token"
        );
        // 10 × $2.50/M → 25 µ$; 1 × $10/M → 10 µ$.
        assert_eq!(
            info.cost.get().copied(),
            Some(sy_core::Money::from_micros(35))
        );
    }
}
