//! Streaming endpoints and the OpenAI chat completion endpoint.

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use sy_testkit::{MockOptions, MockUpstream};

use crate::client::{get, http1, send};

#[tokio::test]
async fn stream_sends_each_chunk_as_it_is_written() {
    let mock = MockUpstream::start(MockOptions::default()).await.unwrap();
    let req = Request::get(format!("{}/stream?chunks=3&interval_ms=40", mock.url()))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = http1().request(req).await.unwrap();
    assert!(resp.headers().get("content-length").is_none());
    let mut body = resp.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(first, "chunk 0\n");
    // The second chunk is held back by the interval, so it is a separate frame.
    let started = tokio::time::Instant::now();
    let second = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(second, "chunk 1\n");
    assert!(started.elapsed() >= Duration::from_millis(20));
    let rest = body.collect().await.unwrap().to_bytes();
    assert_eq!(rest, "chunk 2\n");
}

#[tokio::test]
async fn sse_is_an_event_stream() {
    let mock = MockUpstream::start(MockOptions::default()).await.unwrap();
    let r = get(&format!("{}/sse?chunks=2", mock.url())).await;
    assert_eq!(r.headers["content-type"], "text/event-stream");
    assert_eq!(r.text(), "data: event 0\n\ndata: event 1\n\n");
}

#[tokio::test]
async fn chat_completion_echoes_model_and_reports_usage() {
    let mock = MockUpstream::start(MockOptions::named("openai").chat_stream(4, Duration::ZERO))
        .await
        .unwrap();
    let body = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    let url = format!("{}/v1/chat/completions", mock.url());
    let r = send(&http1(), Method::POST, &url, body).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], "application/json");
    let j = r.json();
    assert_eq!(j["object"], "chat.completion");
    assert_eq!(j["model"], "gpt-4o-mini");
    assert!(j["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert!(j["created"].as_u64().unwrap() > 1_600_000_000);
    assert_eq!(j["choices"][0]["message"]["role"], "assistant");
    assert_eq!(j["choices"][0]["message"]["content"], "t0 t1 t2 t3 ");
    assert_eq!(j["choices"][0]["finish_reason"], "stop");
    let prompt = (body.len() as u64).div_ceil(4);
    assert_eq!(j["usage"]["prompt_tokens"], prompt);
    assert_eq!(j["usage"]["completion_tokens"], 4);
    assert_eq!(j["usage"]["total_tokens"], prompt + 4);

    let bad = send(&http1(), Method::POST, &url, "{not json").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["error"]["type"], "invalid_request_error");
}

/// Splits an SSE body into its `data:` payloads.
fn data_lines(text: &str) -> Vec<&str> {
    text.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| e.strip_prefix("data: ").unwrap())
        .collect()
}

#[tokio::test]
async fn chat_stream_sends_chunks_then_done() {
    let mock = MockUpstream::start(MockOptions::default().chat_stream(3, Duration::ZERO))
        .await
        .unwrap();
    let url = format!("{}/v1/chat/completions", mock.url());
    let body = r#"{"model":"m1","stream":true,"messages":[]}"#;
    let r = send(&http1(), Method::POST, &url, body).await;
    assert_eq!(r.headers["content-type"], "text/event-stream");
    let events = data_lines(r.text());
    // role, 3 contents, finish, [DONE]
    assert_eq!(events.len(), 6, "{events:?}");
    assert_eq!(*events.last().unwrap(), "[DONE]");
    let chunks: Vec<serde_json::Value> = events[..5]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    let mut content = String::new();
    for c in &chunks {
        assert_eq!(c["object"], "chat.completion.chunk");
        assert_eq!(c["model"], "m1");
        assert!(c.get("usage").is_none());
        content += c["choices"][0]["delta"]["content"].as_str().unwrap_or("");
    }
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(content, "t0 t1 t2 ");
    assert_eq!(chunks[4]["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn chat_stream_includes_usage_when_asked() {
    let mock = MockUpstream::start(MockOptions::default().chat_stream(2, Duration::from_millis(5)))
        .await
        .unwrap();
    let url = format!("{}/v1/chat/completions", mock.url());
    let body = r#"{"model":"m2","stream":true,"stream_options":{"include_usage":true}}"#;
    let r = send(&http1(), Method::POST, &url, body).await;
    let events = data_lines(r.text());
    // role, 2 contents, finish, usage, [DONE]
    assert_eq!(events.len(), 6, "{events:?}");
    let usage: serde_json::Value = serde_json::from_str(events[4]).unwrap();
    assert_eq!(usage["choices"].as_array().unwrap().len(), 0);
    assert_eq!(usage["usage"]["completion_tokens"], 2);
    let first: serde_json::Value = serde_json::from_str(events[0]).unwrap();
    assert!(first["usage"].is_null() && first.get("usage").is_some());
}
