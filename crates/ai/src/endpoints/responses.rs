//! `POST /v1/responses`: OpenAI's Responses API, emulated over chat.
//!
//! The input items become one canonical chat request
//! ([`responses::parse_responses_request`]), which goes through the same
//! model lookup, routing, limits and metering as chat
//! ([`super::upstream::call_model`]); the answer comes back as a
//! `response` object, or streamed as Responses events
//! ([`responses::ResponsesStream`]). The gateway keeps no state: requests
//! that lean on stored responses are refused in the parser.

use std::sync::Arc;

use bytes::Bytes;
use http::{Response, StatusCode};
use sy_http::Body;
use sy_llm::openai::responses::{self, ResponsesStream, Stamp};

use super::meter::StreamMeter;
use super::streaming::{self, StreamDialect};
use super::upstream::{self, Called};
use crate::gateway::unix_now;
use crate::providers::{AnswerForm, ChunkStream, Decoded};
use crate::{AiError, AiGateway, Caller, respond};
use sy_llm::ChatChunk;

pub(crate) async fn handle(
    gateway: &AiGateway,
    allowed: &Caller<'_>,
    body: &[u8],
    request_id: &str,
) -> Result<Response<Body>, AiError> {
    let parsed = responses::parse_responses_request(body)?;
    let request = Arc::new(parsed.chat);
    let stamp = Stamp::new(request_id, unix_now(), request.model.clone());
    let Called {
        info, meter, reply, ..
    } = upstream::call_model(
        gateway,
        allowed,
        &request,
        None,
        false,
        AnswerForm::Canonical,
    )
    .await?;
    let mut response = match reply.decode(&info.deployment)? {
        Decoded::Complete(answer) => {
            let tokens = match &answer.usage {
                Some(usage) => usage.to_tokens(),
                None => meter.estimate_answer(&answer),
            };
            let object = responses::from_chat(&answer, &stamp, &parsed.echo, &tokens);
            let mut response = respond::json(StatusCode::OK, &object);
            meter.settle_whole(&mut response, tokens);
            response
        }
        Decoded::Stream(chunks) => stream(
            chunks,
            ResponsesStream::new(stamp, parsed.echo),
            StreamMeter::new(meter),
        ),
    };
    upstream::set_call_headers(&mut response, &info);
    response.extensions_mut().insert(info);
    Ok(response)
}

/// Provider chunks as Responses events, each sent as soon as its chunk
/// arrives; `response.created` goes out before the first chunk is awaited.
/// The final `response.completed` carries the provider's usage, or the
/// gateway's estimate when the provider sent none.
struct ResponsesDialect(ResponsesStream);

fn stream(chunks: ChunkStream, encoder: ResponsesStream, meter: StreamMeter) -> Response<Body> {
    streaming::stream(chunks, ResponsesDialect(encoder), meter)
}

impl StreamDialect for ResponsesDialect {
    fn start(&mut self) -> Vec<Bytes> {
        self.0.start()
    }

    fn chunk(&mut self, chunk: ChatChunk) -> Vec<Bytes> {
        self.0.push(&chunk)
    }

    fn error(&mut self, error: &AiError) -> Vec<Bytes> {
        let body = error.to_body();
        self.0
            .error(body.error.code.as_deref(), &body.error.message)
    }

    fn finish(&mut self, meter: &mut StreamMeter) -> Vec<Bytes> {
        let tokens = meter.settle_estimate().or_else(|| meter.settled());
        self.0.finish(&tokens.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AiCallInfo;
    use crate::endpoints::meter::Meter;
    use futures_util::StreamExt;
    use http_body_util::BodyExt;
    use sy_llm::ChatChunk;
    use sy_llm::chat::{ChunkChoice, Delta};
    use sy_llm::openai::responses::Echo;

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
            vec![Ok(first), Err(AiError::provider(503, "Overloaded"))];
        let info = AiCallInfo::new("public", "mock/m");
        let meter = Meter::for_test(&info, "m", None, 10);
        let response = stream(
            futures_util::stream::iter(items).boxed(),
            ResponsesStream::new(Stamp::new("r", 1, "public"), Echo::default()),
            StreamMeter::new(meter),
        );
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8(body.to_vec()).unwrap();
        let names: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("event: "))
            .collect();
        assert_eq!(
            names,
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "error",
            ]
        );
        assert!(
            text.ends_with(
                "data: {\"code\":null,\"message\":\"Overloaded\",\"param\":null,\"sequence_number\":5,\"type\":\"error\"}\n\n"
            ),
            "{text}"
        );
        // The cut stream still settles, with an estimate.
        assert!(info.usage.get().unwrap().estimated);
    }
}
