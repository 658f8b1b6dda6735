//! `POST /v1/chat/completions`.
//!
//! Parse → find the model (honouring the route's allow-list) → pick the
//! deployment → call the provider → stamp the gateway's id, time and the
//! public model name on what comes back → answer whole, or stream it as SSE
//! chunk by chunk.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use futures_util::StreamExt;
use http::{Response, StatusCode};
use sy_core::TokenUsage;
use sy_http::Body;
use sy_llm::{ChatChunk, ChatRequest, ChatResponse, estimate, openai, sse};

use crate::gateway::unix_now;
use crate::providers::{ChunkStream, ProviderReply};
use crate::{
    AiCallInfo, AiError, AiGateway, HEADER_COMPLETION_TOKENS, HEADER_DEPLOYMENT,
    HEADER_PROMPT_TOKENS, respond,
};

pub(crate) async fn handle(
    gateway: &AiGateway,
    allowed: &[String],
    body: &[u8],
    request_id: &str,
) -> Result<Response<Body>, AiError> {
    let request = openai::parse_chat_request(body)?;
    let not_found = || AiError::ModelNotFound {
        model: request.model.clone(),
    };
    let model = gateway
        .registry
        .get(&request.model, allowed)
        .ok_or_else(not_found)?;
    let deployment = model
        .pick()
        .ok_or_else(|| AiError::Internal(format!("model `{}` has no deployment", model.name)))?;
    let stamp = Stamp {
        id: format!("chatcmpl-{request_id}"),
        created: unix_now(),
        model: request.model.clone(),
    };
    let info = AiCallInfo {
        model: request.model.clone(),
        deployment: deployment.label(),
        usage: Arc::new(OnceLock::new()),
    };

    let mut response = match deployment
        .provider
        .chat(&request, &deployment.model)
        .await?
    {
        ProviderReply::Complete(answer) => complete(&request, *answer, &stamp, &info),
        ProviderReply::Stream(chunks) => stream(
            chunks,
            stamp,
            request.include_usage(),
            Arc::clone(&info.usage),
        ),
    };
    respond::set_header(&mut response, HEADER_DEPLOYMENT, &info.deployment);
    response.extensions_mut().insert(info);
    Ok(response)
}

/// The gateway's identity for one completion, stamped on every object.
struct Stamp {
    id: String,
    created: u64,
    model: String,
}

fn complete(
    request: &ChatRequest,
    mut answer: ChatResponse,
    stamp: &Stamp,
    info: &AiCallInfo,
) -> Response<Body> {
    answer.id.clone_from(&stamp.id);
    answer.created = stamp.created;
    answer.model.clone_from(&stamp.model);
    let tokens = match &answer.usage {
        Some(usage) => usage.to_tokens(),
        None => estimate_answer(request, &answer),
    };
    let _ = info.usage.set(tokens);
    let mut response = respond::json(StatusCode::OK, &answer);
    respond::set_header(
        &mut response,
        HEADER_PROMPT_TOKENS,
        &tokens.prompt.to_string(),
    );
    respond::set_header(
        &mut response,
        HEADER_COMPLETION_TOKENS,
        &tokens.completion.to_string(),
    );
    response
}

/// Usage when a provider reported none: the local estimate, marked so.
fn estimate_answer(request: &ChatRequest, answer: &ChatResponse) -> TokenUsage {
    let completion = answer
        .choices
        .iter()
        .map(|c| {
            let text = estimate::text_tokens(c.message.content.as_deref().unwrap_or(""));
            let calls: u64 = c
                .message
                .tool_calls
                .iter()
                .flatten()
                .map(|t| {
                    estimate::text_tokens(&t.function.name)
                        + estimate::text_tokens(&t.function.arguments)
                })
                .sum();
            text + calls
        })
        .sum();
    TokenUsage {
        prompt: estimate::prompt_tokens(request),
        completion,
        cached: 0,
        reasoning: 0,
        estimated: true,
    }
}

/// Where a forwarded stream is.
struct Forward {
    chunks: ChunkStream,
    stamp: Stamp,
    include_usage: bool,
    usage: Arc<OnceLock<TokenUsage>>,
    ended: bool,
}

/// Forward provider chunks as SSE events, each as soon as it arrives:
/// stamped, the usage chunk dropped unless the client asked for it, then
/// `data: [DONE]`. A provider error mid-stream becomes an `error` event and
/// ends the stream without `[DONE]`, as OpenAI does.
fn stream(
    chunks: ChunkStream,
    stamp: Stamp,
    include_usage: bool,
    usage: Arc<OnceLock<TokenUsage>>,
) -> Response<Body> {
    let state = Forward {
        chunks,
        stamp,
        include_usage,
        usage,
        ended: false,
    };
    let frames = futures_util::stream::unfold(state, |mut st| async move {
        if st.ended {
            return None;
        }
        loop {
            let frame = match st.chunks.next().await {
                Some(Ok(chunk)) => match forward_chunk(&st, chunk) {
                    Some(frame) => frame,
                    None => continue,
                },
                Some(Err(error)) => {
                    st.ended = true;
                    respond::sse_error(&error)
                }
                None => {
                    st.ended = true;
                    Bytes::from_static(sse::DONE)
                }
            };
            return Some((frame, st));
        }
    });
    respond::sse(frames)
}

/// The event for one chunk, or `None` when the chunk is not for the client.
fn forward_chunk(st: &Forward, mut chunk: ChatChunk) -> Option<Bytes> {
    if let Some(usage) = &chunk.usage {
        let _ = st.usage.set(usage.to_tokens());
        if !st.include_usage {
            if chunk.choices.is_empty() {
                return None;
            }
            chunk.usage = None;
        }
    }
    chunk.id.clone_from(&st.stamp.id);
    chunk.created = st.stamp.created;
    chunk.model.clone_from(&st.stamp.model);
    Some(match sse::encode_json(&chunk) {
        Ok(bytes) => bytes,
        Err(e) => respond::sse_error(&AiError::Internal(format!("encoding a chunk: {e}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let items: Vec<Result<ChatChunk, AiError>> = vec![
            Ok(first),
            Err(AiError::Provider {
                status: 502,
                message: "upstream reset".into(),
            }),
        ];
        let stamp = Stamp {
            id: "chatcmpl-r".into(),
            created: 7,
            model: "public".into(),
        };
        let usage = Arc::new(OnceLock::new());
        let response = stream(
            futures_util::stream::iter(items).boxed(),
            stamp,
            false,
            Arc::clone(&usage),
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
        assert!(usage.get().is_none(), "no usage chunk passed");
    }
}
