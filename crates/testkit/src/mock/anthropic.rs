//! `POST /v1/messages` in Anthropic's Messages API format, for testing
//! the gateway's Anthropic adapter end to end.
//!
//! The answer is the text `Hello from the mock.` (streamed as three text
//! deltas between `message_start` … `message_stop`, with a `ping`), usage
//! `input_tokens` = request body bytes ÷ 4 rounded up, `output_tokens` 5,
//! `cache_read_input_tokens` 2. When the request offers tools, the answer
//! is instead one `tool_use` of the first tool with input `{"q": "x"}`.
//!
//! Steering through the last message's text: `mock:error:<status>` answers
//! that status with an Anthropic error body (and `retry-after: 7` on 429);
//! `mock:malformed` answers 200 with a body that is not JSON.

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::{Value, json};

use super::body::{MockBody, Paced};
use super::routes::reply;
use super::{MockError, Shared};

const JSON: HeaderValue = HeaderValue::from_static("application/json");
const EVENT_STREAM: HeaderValue = HeaderValue::from_static("text/event-stream");
const PIECES: [&str; 3] = ["Hello", " from the", " mock."];

pub(crate) async fn respond(
    shared: &Shared,
    req: Request<Incoming>,
) -> Result<Response<MockBody>, MockError> {
    let body = req.into_body().collect().await?.to_bytes();
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return Ok(error(
            shared,
            400,
            "invalid_request_error",
            "invalid JSON body",
        ));
    };
    let last = last_text(&request);
    if let Some(code) = last
        .split("mock:error:")
        .nth(1)
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse::<u16>().ok())
    {
        let kind = match code {
            401 => "authentication_error",
            404 => "not_found_error",
            429 => "rate_limit_error",
            529 => "overloaded_error",
            400..=499 => "invalid_request_error",
            _ => "api_error",
        };
        let mut resp = error(shared, code, kind, &format!("mock failure {code}"));
        if code == 429 {
            resp.headers_mut()
                .insert("retry-after", HeaderValue::from_static("7"));
        }
        return Ok(resp);
    }
    if last.contains("mock:malformed") {
        return Ok(reply(shared, StatusCode::OK, JSON, "{\"id\": \"msg_"));
    }
    let model = request["model"]
        .as_str()
        .unwrap_or("mock-claude")
        .to_owned();
    let input_tokens = (body.len() as u64).div_ceil(4).max(1);
    let tool = request["tools"][0]["name"].as_str().map(str::to_owned);
    let usage =
        json!({"input_tokens": input_tokens, "cache_read_input_tokens": 2, "output_tokens": 5});
    if request["stream"] != Value::Bool(true) {
        let (content, stop) = match &tool {
            Some(name) => (
                json!([{"type": "tool_use", "id": "toolu_mock1", "name": name, "input": {"q": "x"}}]),
                "tool_use",
            ),
            None => (
                json!([{"type": "text", "text": PIECES.concat()}]),
                "end_turn",
            ),
        };
        let message = json!({
            "id": "msg_mock1", "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": stop, "stop_sequence": null, "usage": usage,
        });
        return Ok(reply(shared, StatusCode::OK, JSON, message.to_string()));
    }
    let mut events = vec![event(
        "message_start",
        &json!({"type": "message_start", "message": {"id": "msg_mock1", "type": "message",
            "role": "assistant", "model": model, "content": [], "stop_reason": null,
            "usage": {"input_tokens": input_tokens, "cache_read_input_tokens": 2, "output_tokens": 1}}}),
    )];
    let stop = match &tool {
        Some(name) => {
            events.push(event("content_block_start", &json!({"type": "content_block_start", "index": 0,
                "content_block": {"type": "tool_use", "id": "toolu_mock1", "name": name, "input": {}}})));
            for piece in ["{\"q\": ", "\"x\"}"] {
                events.push(event(
                    "content_block_delta",
                    &json!({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "input_json_delta", "partial_json": piece}}),
                ));
            }
            "tool_use"
        }
        None => {
            events.push(event(
                "content_block_start",
                &json!({"type": "content_block_start", "index": 0,
                "content_block": {"type": "text", "text": ""}}),
            ));
            events.push(event("ping", &json!({"type": "ping"})));
            for piece in PIECES {
                events.push(event(
                    "content_block_delta",
                    &json!({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "text_delta", "text": piece}}),
                ));
            }
            "end_turn"
        }
    };
    events.push(event(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": 0}),
    ));
    events.push(event(
        "message_delta",
        &json!({"type": "message_delta",
        "delta": {"stop_reason": stop, "stop_sequence": null}, "usage": {"output_tokens": 5}}),
    ));
    events.push(event("message_stop", &json!({"type": "message_stop"})));
    let frames = events.into_iter().map(|e| (false, e)).collect();
    let mut resp = reply(shared, StatusCode::OK, EVENT_STREAM, Bytes::new());
    *resp.body_mut() = MockBody::Paced(Paced::new(frames, std::time::Duration::ZERO));
    resp.headers_mut().insert(CONTENT_TYPE, EVENT_STREAM);
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(resp)
}

fn event(name: &str, data: &Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}

fn error(shared: &Shared, code: u16, kind: &str, message: &str) -> Response<MockBody> {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({"type": "error", "error": {"type": kind, "message": message}});
    reply(shared, status, JSON, body.to_string())
}

/// The text of the last message (string content or text blocks).
fn last_text(request: &Value) -> String {
    let Some(last) = request["messages"].as_array().and_then(|m| m.last()) else {
        return String::new();
    };
    match &last["content"] {
        Value::String(text) => text.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| b["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}
