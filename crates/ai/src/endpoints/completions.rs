//! `POST /v1/completions`: the legacy text completions API, emulated over
//! chat.
//!
//! The prompt becomes one user message ([`openai::CompletionRequest::to_chat`]),
//! which goes through the same model lookup, routing, limits and metering
//! as chat ([`super::upstream::call_model`]); the answer comes back as a
//! `text_completion` object, or streamed as `text_completion` chunks (the
//! role-only first chunk dropped), then `data: [DONE]`.

use std::sync::Arc;

use bytes::Bytes;
use http::{Response, StatusCode};
use sy_http::Body;
use sy_llm::openai::{self, TextCompletion};
use sy_llm::{ChatChunk, Usage, sse};

use super::meter::StreamMeter;
use super::streaming::{self, StreamDialect};
use super::upstream::{self, Called};
use crate::gateway::unix_now;
use crate::providers::{AnswerForm, ChunkStream, Decoded};
use crate::{AiError, AiGateway, Caller, respond};

pub(crate) async fn handle(
    gateway: &AiGateway,
    allowed: &Caller<'_>,
    body: &[u8],
    request_id: &str,
) -> Result<Response<Body>, AiError> {
    let legacy = openai::parse_completion_request(body)?;
    let request = Arc::new(legacy.to_chat());
    let stamp = Stamp {
        id: ["cmpl-", request_id].concat(),
        created: unix_now(),
        model: request.model.clone(),
    };
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
            let mut completion = TextCompletion::from_chat(&answer);
            stamp.apply(&mut completion);
            completion.usage = Some(Usage::from_tokens(&tokens));
            let mut response = respond::json(StatusCode::OK, &completion);
            meter.settle_whole(&mut response, tokens);
            response
        }
        Decoded::Stream(chunks) => stream(
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

/// The gateway's id, time and public model name for one completion.
struct Stamp {
    id: String,
    created: u64,
    model: String,
}

impl Stamp {
    fn apply(&self, completion: &mut TextCompletion) {
        completion.id.clone_from(&self.id);
        completion.created = self.created;
        completion.model.clone_from(&self.model);
    }
}

/// Chat chunks as `text_completion` events, each as it arrives; the usage
/// chunk only when the client asked (`stream_options.include_usage`, the
/// gateway's estimate when the provider sent none); an error mid-stream
/// ends it with an `error` event and no `[DONE]`, as for chat.
struct CompletionDialect {
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
        CompletionDialect {
            stamp,
            include_usage,
        },
        meter,
    )
}

impl StreamDialect for CompletionDialect {
    fn chunk(&mut self, chunk: ChatChunk) -> Vec<Bytes> {
        let Some(mut completion) = TextCompletion::from_chunk(&chunk) else {
            return Vec::new();
        };
        if completion.usage.is_some() && !self.include_usage {
            if completion.choices.is_empty() {
                return Vec::new();
            }
            completion.usage = None;
        }
        self.stamp.apply(&mut completion);
        vec![encode(&completion)]
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
        let completion = TextCompletion {
            id: self.stamp.id.clone(),
            object: "text_completion".to_owned(),
            created: self.stamp.created,
            model: self.stamp.model.clone(),
            choices: Vec::new(),
            usage: Some(Usage::from_tokens(&tokens)),
            system_fingerprint: None,
        };
        vec![encode(&completion), Bytes::from_static(sse::DONE)]
    }
}

fn encode(completion: &TextCompletion) -> Bytes {
    match sse::encode_json(completion) {
        Ok(bytes) => bytes,
        Err(e) => respond::sse_error(&AiError::Internal(format!("encoding a chunk: {e}"))),
    }
}
