//! Gemini and Cohere through `AiGateway::handle`: the client speaks
//! OpenAI, an in-test loopback server speaks the provider's wire format
//! (whole answers and SSE streams) and records what it was sent.

use std::sync::{Arc, Mutex};

use http::StatusCode;
use serde_json::{Value, json};
use sy_ai::AiGateway;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::*;

/// What the server saw: request line and headers (lower-cased), and body.
type Seen = Arc<Mutex<Vec<(String, Value)>>>;

/// A server answering every request with `reply(request_head, body)` →
/// (content type, body), one request per connection.
async fn server(reply: fn(&str, &Value) -> (&'static str, String)) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Seen = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let log = log.clone();
            tokio::spawn(async move { answer(socket, reply, log).await });
        }
    });
    (format!("http://{addr}"), seen)
}

async fn answer(
    mut socket: TcpStream,
    reply: fn(&str, &Value) -> (&'static str, String),
    seen: Seen,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let (head, body) = loop {
        let n = socket.read(&mut chunk).await.unwrap();
        assert!(n > 0, "client closed early");
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map(|v| v.trim().parse().unwrap())
            .unwrap_or(0);
        if buf.len() >= end + 4 + length {
            let body: Value = serde_json::from_slice(&buf[end + 4..end + 4 + length]).unwrap();
            break (head, body);
        }
    };
    let (content_type, text) = reply(&head, &body);
    seen.lock().unwrap().push((head, body));
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    );
    socket.write_all(response.as_bytes()).await.unwrap();
    socket.flush().await.unwrap();
}

async fn stream_chunks(gw: &AiGateway, request: Value) -> Vec<Value> {
    let (status, headers, frames) = call_frames(
        gw,
        &[],
        http::Method::POST,
        "/v1/chat/completions",
        &request.to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), Some("text/event-stream"));
    let events = events(&frames);
    assert_eq!(events.last().unwrap().data, "[DONE]");
    events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect()
}

fn gemini_reply(head: &str, _body: &Value) -> (&'static str, String) {
    if head.contains(":streamgeneratecontent?alt=sse") {
        let events = [
            json!({"candidates": [{"content": {"parts": [{"text": "Bon"}], "role": "model"}, "index": 0}],
                   "modelVersion": "gemini-2.0-flash", "responseId": "r1"}),
            json!({"candidates": [{"content": {"parts": [{"text": "jour"}], "role": "model"}, "finishReason": "STOP", "index": 0}],
                   "usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": 2, "cachedContentTokenCount": 3, "totalTokenCount": 9},
                   "modelVersion": "gemini-2.0-flash", "responseId": "r1"}),
        ];
        let text = events
            .iter()
            .map(|e| format!("data: {e}\r\n\r\n"))
            .collect();
        return ("text/event-stream", text);
    }
    let body = json!({
        "candidates": [{"content": {"parts": [
            {"text": "Let me check."},
            {"functionCall": {"name": "search", "args": {"q": "x"}}}
        ], "role": "model"}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 5, "thoughtsTokenCount": 4, "totalTokenCount": 20},
        "modelVersion": "gemini-2.0-flash", "responseId": "r0"
    });
    ("application/json", body.to_string())
}

#[tokio::test]
async fn gemini_whole_and_streamed_answers_come_back_openai_shaped() {
    let (url, seen) = server(gemini_reply).await;
    let gw = gateway_on("gemini", &format!("{url}/v1beta"), "real-model");
    let (status, _, body) = chat(
        &gw,
        json!({"model": "m", "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "search x"}
        ], "tools": [{"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}}],
           "tool_choice": "required", "max_tokens": 50}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let got = json_of(&body);
    assert_eq!(got["model"], "m");
    assert_eq!(got["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(got["choices"][0]["message"]["content"], "Let me check.");
    assert_eq!(
        got["choices"][0]["message"]["tool_calls"],
        json!([{"id": "call_0", "type": "function", "function": {"name": "search", "arguments": "{\"q\":\"x\"}"}}])
    );
    assert_eq!(got["usage"]["prompt_tokens"], 11);
    assert_eq!(
        got["usage"]["completion_tokens"], 9,
        "candidates + thoughts"
    );
    {
        let seen = seen.lock().unwrap();
        let (head, sent) = &seen[0];
        assert!(
            head.starts_with("post /v1beta/models/real-model:generatecontent http/1.1"),
            "{head}"
        );
        assert!(head.contains("x-goog-api-key: sk-test"), "{head}");
        assert!(!head.contains("authorization"), "{head}");
        assert_eq!(
            sent["systemInstruction"],
            json!({"parts": [{"text": "Be brief."}]})
        );
        assert_eq!(
            sent["contents"],
            json!([{"role": "user", "parts": [{"text": "search x"}]}])
        );
        assert_eq!(
            sent["toolConfig"],
            json!({"functionCallingConfig": {"mode": "ANY"}})
        );
        assert_eq!(sent["generationConfig"], json!({"maxOutputTokens": 50}));
    }

    let chunks = stream_chunks(
        &gw,
        json!({"model": "m", "messages": user("hi"), "stream": true,
               "stream_options": {"include_usage": true}}),
    )
    .await;
    for chunk in &chunks {
        assert_eq!(chunk["model"], "m");
    }
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Bonjour");
    assert_eq!(
        chunks[chunks.len() - 2]["choices"][0]["finish_reason"],
        "stop"
    );
    let usage = &chunks[chunks.len() - 1]["usage"];
    assert_eq!(usage["prompt_tokens"], 7);
    assert_eq!(usage["completion_tokens"], 2);
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 3);
    let seen = seen.lock().unwrap();
    assert!(
        seen[1]
            .0
            .starts_with("post /v1beta/models/real-model:streamgeneratecontent?alt=sse http/1.1"),
        "{}",
        seen[1].0
    );
}

fn cohere_reply(_head: &str, body: &Value) -> (&'static str, String) {
    if body["stream"] == json!(true) {
        let events = [
            (
                "message-start",
                json!({"id": "c1", "type": "message-start", "delta": {"message": {"role": "assistant"}}}),
            ),
            (
                "content-start",
                json!({"type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}}),
            ),
            (
                "content-delta",
                json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "Hel"}}}}),
            ),
            (
                "content-delta",
                json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "lo"}}}}),
            ),
            ("content-end", json!({"type": "content-end", "index": 0})),
            (
                "message-end",
                json!({"type": "message-end", "delta": {"finish_reason": "COMPLETE",
                "usage": {"billed_units": {"input_tokens": 3, "output_tokens": 2}, "tokens": {"input_tokens": 70, "output_tokens": 2}}}}),
            ),
        ];
        let text = events
            .iter()
            .map(|(name, data)| format!("event: {name}\ndata: {data}\n\n"))
            .collect();
        return ("text/event-stream", text);
    }
    let body = json!({
        "id": "c0", "finish_reason": "COMPLETE",
        "message": {"role": "assistant", "content": [{"type": "text", "text": "{\"ok\":true}"}]},
        "usage": {"billed_units": {"input_tokens": 4, "output_tokens": 5}, "tokens": {"input_tokens": 80, "output_tokens": 5}}
    });
    ("application/json", body.to_string())
}

#[tokio::test]
async fn cohere_whole_and_streamed_answers_come_back_openai_shaped() {
    let (url, seen) = server(cohere_reply).await;
    let gw = gateway_on("cohere", &url, "real-model");
    let (status, _, body) = chat(
        &gw,
        json!({"model": "m", "messages": user("json please"), "top_p": 0.5,
               "response_format": {"type": "json_object"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let got = json_of(&body);
    assert_eq!(got["choices"][0]["message"]["content"], "{\"ok\":true}");
    assert_eq!(got["choices"][0]["finish_reason"], "stop");
    assert_eq!(got["usage"]["prompt_tokens"], 4, "billed units");
    assert_eq!(got["usage"]["completion_tokens"], 5);
    {
        let seen = seen.lock().unwrap();
        let (head, sent) = &seen[0];
        assert!(head.starts_with("post /v2/chat http/1.1"), "{head}");
        assert!(head.contains("authorization: bearer sk-test"), "{head}");
        assert_eq!(sent["model"], "real-model");
        assert_eq!(sent["p"], 0.5);
        assert_eq!(sent["response_format"], json!({"type": "json_object"}));
    }

    let chunks = stream_chunks(
        &gw,
        json!({"model": "m", "messages": user("hi"), "stream": true,
               "stream_options": {"include_usage": true}}),
    )
    .await;
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello");
    assert_eq!(
        chunks[chunks.len() - 2]["choices"][0]["finish_reason"],
        "stop"
    );
    assert_eq!(chunks[chunks.len() - 1]["usage"]["total_tokens"], 5);
}
