//! `POST /v1/chat/completions` in OpenAI's wire format: the benchmark's
//! upstream, so everything that does not depend on the request is built once
//! at start-up and a response is a few buffer copies.
//!
//! The completion is `chat_chunks` tokens `t0 t1 … tN-1 ` (one per stream
//! chunk); `prompt_tokens` is the request body's length in bytes ÷ 4, rounded
//! up (at least 1), so tests can predict usage.

use std::borrow::Cow;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde::Deserialize;

use super::body::{MockBody, Paced};
use super::routes::reply;
use super::{MockError, Shared};

/// The request fields the mock acts on; everything else is skipped unparsed.
#[derive(Deserialize)]
struct ChatRequest<'a> {
    #[serde(borrow, default)]
    model: Option<Cow<'a, str>>,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    stream_options: Option<StreamOptions>,
}

#[derive(Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: Option<bool>,
}

/// Request-independent pieces, made once per mock.
pub(crate) struct ChatTemplate {
    /// `,"choices":[…the whole completion…],"usage":{"prompt_tokens":`
    full_middle: Vec<u8>,
    completion_tokens: u64,
    /// Per stream event after the common head: role, contents, finish;
    /// `.0` without and `.1` with `"usage":null` appended.
    chunk_tails: Vec<(Bytes, Bytes)>,
    interval: Duration,
    seq: AtomicU64,
}

impl ChatTemplate {
    pub(crate) fn new(chunks: usize, interval: Duration) -> Self {
        let tokens: Vec<String> = (0..chunks).map(|i| format!("t{i} ")).collect();
        let content = serde_json::Value::from(tokens.concat()).to_string();
        let full_middle = format!(
            r#","choices":[{{"index":0,"message":{{"role":"assistant","content":{content},"refusal":null}},"logprobs":null,"finish_reason":"stop"}}],"usage":{{"prompt_tokens":"#
        )
        .into_bytes();
        let mut deltas = vec![(r#"{"role":"assistant","content":""}"#.to_owned(), "null")];
        for t in &tokens {
            deltas.push((format!(r#"{{"content":"{t}"}}"#), "null"));
        }
        deltas.push(("{}".to_owned(), r#""stop""#));
        let chunk_tails = deltas
            .into_iter()
            .map(|(delta, finish)| {
                let base = format!(r#"{delta},"logprobs":null,"finish_reason":{finish}}}]"#);
                (
                    Bytes::from(format!("{base}}}\n\n")),
                    Bytes::from(format!(r#"{base},"usage":null}}"#) + "\n\n"),
                )
            })
            .collect();
        Self {
            full_middle,
            completion_tokens: chunks as u64,
            chunk_tails,
            interval,
            seq: AtomicU64::new(0),
        }
    }
}

pub(crate) async fn respond(
    shared: &Shared,
    req: Request<Incoming>,
) -> Result<Response<MockBody>, MockError> {
    let body = req.into_body().collect().await?.to_bytes();
    let parsed: ChatRequest<'_> = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => {
            let err = serde_json::json!({"error": {
                "message": format!("invalid JSON body: {e}"),
                "type": "invalid_request_error",
                "code": null,
            }});
            return Ok(reply(
                shared,
                StatusCode::BAD_REQUEST,
                JSON,
                err.to_string(),
            ));
        }
    };
    let t = &shared.chat;
    let model =
        serde_json::Value::from(parsed.model.as_deref().unwrap_or("mock-model")).to_string();
    let id = t.seq.fetch_add(1, Ordering::Relaxed);
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let prompt_tokens = (body.len() as u64).div_ceil(4).max(1);
    let completion_tokens = t.completion_tokens;
    let total = prompt_tokens + completion_tokens;

    if parsed.stream != Some(true) {
        let mut out = Vec::with_capacity(t.full_middle.len() + model.len() + 160);
        // Writing into a Vec cannot fail.
        let _ = write!(
            out,
            r#"{{"id":"chatcmpl-{id}","object":"chat.completion","created":{created},"model":{model}"#
        );
        out.extend_from_slice(&t.full_middle);
        let _ = write!(
            out,
            r#"{prompt_tokens},"completion_tokens":{completion_tokens},"total_tokens":{total}}},"system_fingerprint":null}}"#
        );
        return Ok(reply(shared, StatusCode::OK, JSON, out));
    }

    let include_usage = parsed
        .stream_options
        .and_then(|o| o.include_usage)
        .unwrap_or(false);
    let head = format!(
        r#"data: {{"id":"chatcmpl-{id}","object":"chat.completion.chunk","created":{created},"model":{model},"system_fingerprint":null"#
    );
    let choices_head = r#","choices":[{"index":0,"delta":"#;
    let last = t.chunk_tails.len().saturating_sub(1);
    let mut frames = Vec::with_capacity(t.chunk_tails.len() + 2);
    for (i, (plain, with_usage)) in t.chunk_tails.iter().enumerate() {
        let tail = if include_usage { with_usage } else { plain };
        let mut ev = Vec::with_capacity(head.len() + choices_head.len() + tail.len());
        ev.extend_from_slice(head.as_bytes());
        ev.extend_from_slice(choices_head.as_bytes());
        ev.extend_from_slice(tail);
        // Pause before content chunks 2..N; role, first token and finish
        // go out without waiting.
        let wait = i >= 2 && i < last;
        frames.push((wait, Bytes::from(ev)));
    }
    if include_usage {
        let ev = format!(
            r#"{head},"choices":[],"usage":{{"prompt_tokens":{prompt_tokens},"completion_tokens":{completion_tokens},"total_tokens":{total}}}}}"#
        ) + "\n\n";
        frames.push((false, Bytes::from(ev)));
    }
    frames.push((false, Bytes::from_static(b"data: [DONE]\n\n")));

    let mut resp = reply(shared, StatusCode::OK, EVENT_STREAM, Bytes::new());
    *resp.body_mut() = MockBody::Paced(Paced::new(frames, t.interval));
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp.headers_mut().insert(CONTENT_TYPE, EVENT_STREAM);
    Ok(resp)
}

const JSON: HeaderValue = HeaderValue::from_static("application/json");
const EVENT_STREAM: HeaderValue = HeaderValue::from_static("text/event-stream");
