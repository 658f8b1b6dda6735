//! Real HTTP providers against in-process mock servers on loopback: the
//! client speaks OpenAI, the upstream speaks its own wire format.

use http::Method;
use http::StatusCode;
use serde_json::{Value, json};
use sy_ai::AiGateway;
use sy_testkit::{MockOptions, MockUpstream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::*;

async fn anthropic() -> (sy_testkit::MockHandle, AiGateway) {
    let mock = MockUpstream::start(MockOptions::named("claude"))
        .await
        .unwrap();
    let gw = gateway_on("anthropic", &format!("{}/v1", mock.url()), "real-model");
    (mock, gw)
}

#[tokio::test]
async fn openai_sdk_request_through_anthropic() {
    let (_mock, gw) = anthropic().await;
    let (status, headers, body) = chat(
        &gw,
        json!({"model": "m", "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hi"}
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(
        header(&headers, "x-switchyard-deployment"),
        Some("up/real-model")
    );
    let mut got = zero_created(json_of(&body));
    let prompt = got["usage"]["prompt_tokens"].as_u64().unwrap();
    assert!(prompt > 2, "input + cached");
    got["usage"]["prompt_tokens"] = json!(0);
    got["usage"]["total_tokens"] = json!(0);
    assert_eq!(
        got,
        json!({
            "id": format!("chatcmpl-{REQUEST_ID}"), "object": "chat.completion", "created": 0,
            "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello from the mock.", "refusal": null},
                         "logprobs": null, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 5, "total_tokens": 0,
                      "prompt_tokens_details": {"cached_tokens": 2}}
        })
    );
    assert_eq!(
        header(&headers, "x-switchyard-completion-tokens"),
        Some("5")
    );
}

#[tokio::test]
async fn anthropic_tool_call_comes_back_openai_shaped() {
    let (_mock, gw) = anthropic().await;
    let (status, _, body) = chat(
        &gw,
        json!({"model": "m", "messages": user("search"), "tools": [
            {"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}}
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let got = json_of(&body);
    assert_eq!(got["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(
        got["choices"][0]["message"]["tool_calls"],
        json!([{"id": "toolu_mock1", "type": "function", "function": {"name": "search", "arguments": "{\"q\":\"x\"}"}}])
    );
}

#[tokio::test]
async fn anthropic_stream_becomes_openai_chunks() {
    let (_mock, gw) = anthropic().await;
    let request = json!({"model": "m", "messages": user("hi"), "stream": true,
                         "stream_options": {"include_usage": true}});
    let (status, headers, frames) = call_frames(
        &gw,
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
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect();
    for chunk in &chunks {
        assert_eq!(chunk["model"], "m");
        assert_eq!(chunk["object"], "chat.completion.chunk");
    }
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello from the mock.");
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    let usage = &chunks[chunks.len() - 1];
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["completion_tokens"], 5);
    assert_eq!(usage["usage"]["prompt_tokens_details"]["cached_tokens"], 2);
}

#[tokio::test]
async fn upstream_429_is_an_openai_429_with_the_providers_message() {
    let (_mock, gw) = anthropic().await;
    let (status, _, body) = chat(
        &gw,
        json!({"model": "m", "messages": user("mock:error:429")}),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        json_of(&body),
        json!({"error": {"message": "mock failure 429", "type": "rate_limit_error",
                         "param": null, "code": "rate_limit_exceeded"}})
    );
    let (status, _, body) = chat(
        &gw,
        json!({"model": "m", "messages": user("mock:error:529")}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        String::from_utf8_lossy(&body)
    );
}

/// The mock's 429 carries `retry-after: 7`; the client is told to wait as
/// long, in seconds and in milliseconds.
#[tokio::test]
async fn a_providers_retry_after_reaches_openai_clients() {
    let (_mock, gw) = anthropic().await;
    let (status, headers, body) = chat(
        &gw,
        json!({"model": "m", "messages": user("mock:error:429")}),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(json_of(&body)["error"]["type"], "rate_limit_error");
    assert_eq!(header(&headers, "retry-after"), Some("7"));
    assert_eq!(header(&headers, "retry-after-ms"), Some("7000"));
    // A failure without a wait carries neither header.
    let (status, headers, _) = chat(
        &gw,
        json!({"model": "m", "messages": user("mock:error:500")}),
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(header(&headers, "retry-after"), None);
    assert_eq!(header(&headers, "retry-after-ms"), None);
}

#[tokio::test]
async fn a_providers_retry_after_reaches_anthropic_clients() {
    let (_mock, gw) = anthropic().await;
    let request = json!({"model": "m", "max_tokens": 10,
                         "messages": [{"role": "user", "content": "mock:error:429"}]});
    let (status, headers, body) = call(
        &gw,
        &[],
        http::Method::POST,
        "/v1/messages",
        &request.to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let got = json_of(&body);
    assert_eq!(got["type"], "error");
    assert_eq!(got["error"]["type"], "rate_limit_error");
    assert_eq!(header(&headers, "retry-after"), Some("7"));
    assert_eq!(header(&headers, "retry-after-ms"), Some("7000"));
}

#[tokio::test]
async fn malformed_upstream_json_is_502() {
    let (_mock, gw) = anthropic().await;
    let (status, _, body) = chat(
        &gw,
        json!({"model": "m", "messages": user("mock:malformed")}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(
        json_of(&body),
        json!({"error": {"message": "The provider `up` sent a response the gateway could not read.",
                         "type": "server_error", "param": null, "code": null}})
    );
}

#[tokio::test]
async fn unsupported_parameter_is_400_naming_it() {
    let (mock, gw) = anthropic().await;
    let (status, _, body) = chat(
        &gw,
        json!({"model": "m", "messages": user("hi"), "logprobs": true}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        json_of(&body),
        json!({"error": {"message": "parameter `logprobs` is not supported by provider anthropic.",
                         "type": "invalid_request_error", "param": "logprobs", "code": "unsupported_parameter"}})
    );
    assert_eq!(mock.requests(), 0, "refused before any upstream call");
}

#[tokio::test]
async fn openai_compatible_passes_through() {
    let mock =
        MockUpstream::start(MockOptions::named("vllm").chat_stream(3, std::time::Duration::ZERO))
            .await
            .unwrap();
    let gw = gateway_on(
        "openai_compatible",
        &format!("{}/v1", mock.url()),
        "real-model",
    );
    let (status, _, body) = chat(&gw, json!({"model": "m", "messages": user("hi")})).await;
    assert_eq!(status, StatusCode::OK);
    let got = json_of(&body);
    assert_eq!(got["choices"][0]["message"]["content"], "t0 t1 t2 ");
    assert_eq!(got["model"], "m");
    // Streaming without include_usage: the gateway asked upstream for usage
    // anyway, and drops the usage chunk for this client.
    let request = json!({"model": "m", "messages": user("hi"), "stream": true});
    let (_, _, frames) = call_frames(
        &gw,
        &[],
        http::Method::POST,
        "/v1/chat/completions",
        &request.to_string(),
    )
    .await;
    let events = events(&frames);
    assert!(events.iter().all(|e| !e.data.contains("\"usage\"")));
    assert_eq!(events.last().unwrap().data, "[DONE]");
}

const POST: Method = Method::POST;

const OPENAI_ANSWER: &str = r#"{"id":"up","object":"chat.completion","created":1,"model":"real-model","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#;

/// An OpenAI-format upstream gets the client's own bytes with only the
/// model replaced (member order, spacing, numbers as written, unknown
/// members), wherever the model stands; a body that must change in more
/// than its model is encoded from the decoded request instead.
#[tokio::test]
async fn openai_format_upstreams_get_the_clients_bytes() {
    let (url, mut seen) = capturing_raw(OPENAI_ANSWER).await;
    let gw = gateway_on("openai_compatible", &url, "real \"model\"");
    let sent = |client: &str| client.replace(r#""model": "m""#, r#""model": "real \"model\"""#);
    for client in [
        r#"{"messages": [{"role": "user", "content": "hi", "model": "not this"}], "temperature": 1, "x_vendor": {"k": [1.50]}, "model": "m"}"#,
        r#"{"model": "m", "messages":[{"role":"user","content":"h\u00e9"}], "max_tokens" : 5 }"#,
    ] {
        let (status, _, _) = call(&gw, &[], POST, "/v1/chat/completions", client).await;
        assert_eq!(status, StatusCode::OK);
        let upstream = seen.recv().await.unwrap();
        assert_eq!(String::from_utf8(upstream).unwrap(), sent(client));
    }
    // (The fixed answer is no stream: only what was sent matters here.)
    let client = r#"{"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": true, "stream_options": {"include_usage": true}}"#;
    let _ = call_frames(&gw, &[], POST, "/v1/chat/completions", client).await;
    let upstream = seen.recv().await.unwrap();
    assert_eq!(String::from_utf8(upstream).unwrap(), sent(client));
    // A repeated `model` (decoded leniently, the last one kept) cannot be
    // swapped alone: the body is encoded again, with the one model.
    let client = r#"{"model": "x", "messages": [{"role": "user", "content": "hi"}], "model": "m"}"#;
    let (status, _, _) = call(&gw, &[], POST, "/v1/chat/completions", client).await;
    assert_eq!(status, StatusCode::OK);
    let upstream = String::from_utf8(seen.recv().await.unwrap()).unwrap();
    assert_eq!(upstream.matches("\"model\"").count(), 1, "{upstream}");
    let upstream: Value = serde_json::from_str(&upstream).unwrap();
    assert_eq!(upstream["model"], "real \"model\"");
    // Stream usage must be turned on: the body is encoded again.
    let client =
        r#"{"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": true}"#;
    let _ = call_frames(&gw, &[], POST, "/v1/chat/completions", client).await;
    let upstream: Value = serde_json::from_slice(&seen.recv().await.unwrap()).unwrap();
    assert_eq!(upstream["model"], "real \"model\"");
    assert_eq!(upstream["stream_options"], json!({"include_usage": true}));
}

/// OpenAI itself refuses `cache_control`: a request marking a breakpoint
/// is encoded without it rather than sent as the client wrote it.
#[tokio::test]
async fn openai_gets_no_breakpoint_even_from_the_clients_bytes() {
    let (url, mut seen) = capturing_raw(OPENAI_ANSWER).await;
    let gw = gateway_on("openai", &url, "gpt-4o");
    let client = r#"{"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]}]}"#;
    let (status, _, _) = call(&gw, &[], POST, "/v1/chat/completions", client).await;
    assert_eq!(status, StatusCode::OK);
    let upstream = String::from_utf8(seen.recv().await.unwrap()).unwrap();
    assert!(!upstream.contains("cache_control"), "{upstream}");
    assert!(upstream.contains(r#""model":"gpt-4o""#), "{upstream}");
}

/// A one-shot server that answers 200 with the start of an Anthropic
/// stream, then closes the connection mid-body.
async fn cut_stream_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = vec![0u8; 64 * 1024];
        let _ = socket.read(&mut request).await.unwrap();
        let events = concat!(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"c\",\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hel\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_bl",
        );
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
        let chunk = format!("{:x}\r\n{events}\r\n", events.len());
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(chunk.as_bytes()).await.unwrap();
        socket.flush().await.unwrap();
        // Dropping the socket ends the body without its last chunk.
    });
    format!("http://{addr}/v1")
}

#[tokio::test]
async fn connection_reset_mid_stream_ends_with_an_error_event() {
    let gw = gateway_on("anthropic", &cut_stream_server().await, "real-model");
    let request = json!({"model": "m", "messages": user("hi"), "stream": true});
    let (status, _, frames) = call_frames(
        &gw,
        &[],
        http::Method::POST,
        "/v1/chat/completions",
        &request.to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let events = events(&frames);
    let last: Value = serde_json::from_str(&events.last().unwrap().data).unwrap();
    assert_eq!(
        last,
        json!({"error": {"message": "The connection to provider `up` broke before the answer was complete.",
                         "type": "server_error", "param": null, "code": null}})
    );
    let text: String = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str::<Value>(&e.data).unwrap())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(text, "Hel", "what arrived before the cut was forwarded");
    assert!(events.iter().all(|e| e.data != "[DONE]"));
}

#[tokio::test]
async fn missing_base_url_fails_compilation() {
    let mut spec = sy_config::defaults().unwrap();
    spec.providers.push(
        serde_json::from_value(json!({"name": "az", "kind": "azure", "api_key": "k"})).unwrap(),
    );
    let errors = AiGateway::compile(&spec).unwrap_err();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("`kind: azure` needs a `base_url`")),
        "{errors:?}"
    );
}

/// The base URL of an upstream answering every request with `body`.
async fn answering(body: &'static str) -> String {
    capturing_server(body).await.0
}

/// What an OpenAI-compatible server wrote reaches an OpenAI client as
/// written — members the gateway does not model, number formatting — with
/// the gateway's id, time and model, and `usage` made consistent; an
/// Anthropic client gets the same answer translated.
#[tokio::test]
async fn same_dialect_answers_keep_the_providers_bytes() {
    const ANSWER: &str = r#"{"id":"up-1","object":"chat.completion","created":1,"model":"real-model","choices":[{"index":0,"message":{"role":"assistant","content":"Bonjour","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":2,"total_tokens":0},"service_tier":"flex","x_vendor":{"score":1.50e1}}"#;
    let gw = gateway_on("openai_compatible", &answering(ANSWER).await, "real-model");
    let (status, headers, body) = chat(&gw, json!({"model": "m", "messages": user("hi")})).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(text.contains(r#""x_vendor":{"score":1.50e1}"#), "{text}");
    assert!(text.contains(r#""service_tier":"flex""#), "{text}");
    let got = json_of(&body);
    assert_eq!(got["id"], format!("chatcmpl-{REQUEST_ID}"));
    assert_eq!(got["model"], "m");
    assert_ne!(got["created"], 1);
    assert_eq!(got["usage"]["total_tokens"], 13, "normalised");
    assert_eq!(header(&headers, "x-switchyard-prompt-tokens"), Some("11"));
    assert_eq!(
        header(&headers, "x-switchyard-completion-tokens"),
        Some("2")
    );

    let (status, _, body) = call(
        &gw,
        &[],
        http::Method::POST,
        "/v1/messages",
        &json!({"model": "m", "max_tokens": 10, "messages": user("hi")}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let got = json_of(&body);
    assert_eq!(got["content"][0]["text"], "Bonjour");
    assert_eq!(got["usage"]["input_tokens"], 11);
}

/// An answer without usage is estimated from its text; one that is not a
/// chat completion at all is the provider's fault (502), as a malformed one.
#[tokio::test]
async fn same_dialect_answers_without_usage_or_frame() {
    const NO_USAGE: &str = r#"{"id":"x","object":"chat.completion","created":1,"model":"r","choices":[{"index":0,"message":{"role":"assistant","content":"one two three"},"finish_reason":"stop"}]}"#;
    let gw = gateway_on(
        "openai_compatible",
        &answering(NO_USAGE).await,
        "real-model",
    );
    let (status, headers, body) = chat(&gw, json!({"model": "m", "messages": user("hi")})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        json_of(&body).get("usage").is_none(),
        "not invented in the body"
    );
    assert_eq!(
        header(&headers, "x-switchyard-completion-tokens"),
        Some("3")
    );

    const NOT_CHAT: &str = r#"{"object":"list","data":[]}"#;
    let gw = gateway_on(
        "openai_compatible",
        &answering(NOT_CHAT).await,
        "real-model",
    );
    let (status, _, body) = chat(&gw, json!({"model": "m", "messages": user("hi")})).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(
        json_of(&body)["error"]["message"],
        "The provider `up` sent a response the gateway could not read."
    );
}
