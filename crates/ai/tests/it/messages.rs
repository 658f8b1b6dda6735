//! The Anthropic Messages API in front of the mock provider: whole and
//! streamed answers, tool use, token counting, and every error in
//! Anthropic's shape.

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};

use crate::support::*;

async fn messages(gw: &sy_ai::AiGateway, body: Value) -> (StatusCode, HeaderMap, Bytes) {
    call(gw, &[], Method::POST, "/v1/messages", &body.to_string()).await
}

fn ask(text: &str) -> Value {
    json!({"model": "mock-1", "max_tokens": 256, "messages": [{"role": "user", "content": text}]})
}

fn weather_tool() -> Value {
    json!([{"name": "get_weather", "description": "Weather for a city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}])
}

/// A streamed call's events: (name, data as JSON), checking each frame is
/// one event whose `type` repeats its name.
async fn stream_events(gw: &sy_ai::AiGateway, mut body: Value) -> Vec<(String, Value)> {
    body["stream"] = json!(true);
    let (status, headers, frames) =
        call_frames(gw, &[], Method::POST, "/v1/messages", &body.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), Some("text/event-stream"));
    events(&frames)
        .into_iter()
        .map(|e| {
            let name = e.event.expect("every event is named");
            let data: Value = serde_json::from_str(&e.data).unwrap();
            assert_eq!(data["type"], name.as_str());
            (name, data)
        })
        .collect()
}

fn names(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(n, _)| n.as_str()).collect()
}

#[tokio::test]
async fn plain_message() {
    let gw = gateway();
    let (status, headers, body) = messages(&gw, ask("Hello there")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    assert_eq!(
        header(&headers, "x-switchyard-deployment"),
        Some("mock/mock-1")
    );
    let mut body = json_of(&body);
    let usage = body["usage"].take();
    assert_eq!(
        body,
        json!({
            "id": "msg_0190b0c1-test", "type": "message", "role": "assistant", "model": "mock-1",
            "content": [{"type": "text", "text": "This is a mock response to: Hello there"}],
            "stop_reason": "end_turn", "stop_sequence": null, "usage": null
        })
    );
    assert!(usage["input_tokens"].as_u64().unwrap() > 0);
    assert!(usage["output_tokens"].as_u64().unwrap() > 0);
    assert_eq!(usage["cache_read_input_tokens"], 0);
    assert_eq!(usage["cache_creation_input_tokens"], 0);
    assert_eq!(
        header(&headers, "x-switchyard-prompt-tokens"),
        Some(usage["input_tokens"].to_string().as_str())
    );
}

#[tokio::test]
async fn system_blocks_and_max_tokens_stop() {
    let gw = gateway();
    let body = json!({
        "model": "mock-1", "max_tokens": 3,
        "system": [{"type": "text", "text": "Be brief."}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello there"}]}]
    });
    let (status, _, body) = messages(&gw, body).await;
    assert_eq!(status, StatusCode::OK);
    let body = json_of(&body);
    assert_eq!(body["stop_reason"], "max_tokens");
    assert!(body["usage"]["output_tokens"].as_u64().unwrap() <= 3);
}

#[tokio::test]
async fn streamed_text_exact_sequence() {
    let gw = gateway();
    let events = stream_events(&gw, ask("Hello there")).await;
    let mut expected = vec!["message_start", "content_block_start"];
    expected.extend(["content_block_delta"; 8]);
    expected.extend(["content_block_stop", "message_delta", "message_stop"]);
    assert_eq!(names(&events), expected);

    let start = &events[0].1["message"];
    assert_eq!(start["id"], "msg_0190b0c1-test");
    assert_eq!(start["model"], "mock-1");
    assert_eq!(start["content"], json!([]));
    assert_eq!(start["stop_reason"], Value::Null);
    assert_eq!(
        events[1].1,
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
    );
    let text: String = events[2..10]
        .iter()
        .map(|(_, e)| {
            assert_eq!(e["index"], 0);
            assert_eq!(e["delta"]["type"], "text_delta");
            e["delta"]["text"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(text, "This is a mock response to: Hello there");
    assert_eq!(
        events[10].1,
        json!({"type": "content_block_stop", "index": 0})
    );

    // The same counts as the whole answer.
    let (_, _, whole) = messages(&gw, ask("Hello there")).await;
    let whole = json_of(&whole);
    let delta = &events[11].1;
    assert_eq!(
        delta["delta"],
        json!({"stop_reason": "end_turn", "stop_sequence": null})
    );
    assert_eq!(
        delta["usage"]["output_tokens"],
        whole["usage"]["output_tokens"]
    );
    assert_eq!(
        delta["usage"]["input_tokens"],
        whole["usage"]["input_tokens"]
    );
    assert_eq!(
        start["usage"]["input_tokens"],
        whole["usage"]["input_tokens"]
    );
    assert_eq!(events[12].1, json!({"type": "message_stop"}));
}

#[tokio::test]
async fn tool_use_whole_and_streamed() {
    let gw = gateway();
    let mut body = ask("Please call get_weather for Paris");
    body["tools"] = weather_tool();
    let (status, _, whole) = messages(&gw, body.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let whole = json_of(&whole);
    assert_eq!(whole["stop_reason"], "tool_use");
    let content = whole["content"].as_array().unwrap();
    assert_eq!(content.len(), 1);
    let block = &content[0];
    assert_eq!(block["type"], "tool_use");
    assert_eq!(block["name"], "get_weather");
    assert!(block["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(block["input"], json!({"city": "mock"}));

    let events = stream_events(&gw, body).await;
    let n = events.len();
    assert_eq!(
        names(&events[..2]),
        ["message_start", "content_block_start"]
    );
    assert_eq!(
        names(&events[n - 3..]),
        ["content_block_stop", "message_delta", "message_stop"]
    );
    assert_eq!(
        events[1].1["content_block"],
        json!({"type": "tool_use", "id": block["id"], "name": "get_weather", "input": {}})
    );
    let json_text: String = events[2..n - 3]
        .iter()
        .map(|(name, e)| {
            assert_eq!(name, "content_block_delta");
            assert_eq!(e["delta"]["type"], "input_json_delta");
            e["delta"]["partial_json"].as_str().unwrap().to_owned()
        })
        .collect();
    assert!(n - 3 - 2 >= 2, "arguments arrive in several pieces");
    assert_eq!(
        serde_json::from_str::<Value>(&json_text).unwrap(),
        block["input"]
    );
    assert_eq!(events[n - 2].1["delta"]["stop_reason"], "tool_use");
}

#[tokio::test]
async fn tool_choice_and_tool_results() {
    let gw = gateway();
    // `any`: the mock must call a tool although the text names none.
    let mut body = ask("what's up");
    body["tools"] = weather_tool();
    body["tool_choice"] = json!({"type": "any"});
    let (_, _, b) = messages(&gw, body).await;
    assert_eq!(json_of(&b)["content"][0]["name"], "get_weather");

    // A full round: the result goes back, the model answers in text.
    let body = json!({
        "model": "mock-1", "max_tokens": 100, "tools": weather_tool(),
        "messages": [
            {"role": "user", "content": "call get_weather for Paris"},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "18C"}]},
                {"type": "text", "text": "thanks"}
            ]}
        ]
    });
    let (status, _, b) = messages(&gw, body).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    let b = json_of(&b);
    assert_eq!(b["stop_reason"], "end_turn");
    assert_eq!(
        b["content"][0]["text"],
        "This is a mock response to: thanks"
    );
}

#[tokio::test]
async fn count_tokens_matches_the_call() {
    let gw = gateway();
    let body = json!({"model": "mock-1", "system": "Be brief.", "tools": weather_tool(),
                      "messages": [{"role": "user", "content": "Hello there"}]});
    let (status, headers, counted) = call(
        &gw,
        &[],
        Method::POST,
        "/v1/messages/count_tokens",
        &body.to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    let counted = json_of(&counted);
    let n = counted["input_tokens"].as_u64().unwrap();
    assert_eq!(counted, json!({"input_tokens": n}));

    // The same request sent for real reports the same input tokens.
    let mut real = body.clone();
    real["max_tokens"] = json!(50);
    let (_, _, whole) = messages(&gw, real).await;
    assert_eq!(json_of(&whole)["usage"]["input_tokens"], n);

    // More text, more tokens.
    let mut longer = body;
    longer["messages"][0]["content"] = json!("Hello there, how are you doing today?");
    let (_, _, more) = call(
        &gw,
        &[],
        Method::POST,
        "/v1/messages/count_tokens",
        &longer.to_string(),
    )
    .await;
    assert!(json_of(&more)["input_tokens"].as_u64().unwrap() > n);
}

fn anthropic_error(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": REQUEST_ID})
}

#[track_caller]
fn check(got: (StatusCode, HeaderMap, Bytes), status: u16, expected: Value) {
    assert_eq!(
        got.0.as_u16(),
        status,
        "body: {}",
        String::from_utf8_lossy(&got.2)
    );
    assert_eq!(header(&got.1, "content-type"), Some("application/json"));
    assert_eq!(json_of(&got.2), expected);
}

#[tokio::test]
async fn provider_errors_in_anthropic_shape() {
    for (status, kind) in [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (529, "overloaded_error"),
    ] {
        let message = format!(
            "The mock provider failed with status {status}, as asked by `mock:error:{status}`."
        );
        let expected = anthropic_error(kind, &message);
        let text = format!("please mock:error:{status}");
        // A fresh gateway per status: failures cool the deployment down.
        let gw = gateway();
        check(messages(&gw, ask(&text)).await, status, expected.clone());
        // A stream that fails before its first event is a plain error too.
        let mut streamed = ask(&text);
        streamed["stream"] = json!(true);
        check(messages(&gw, streamed).await, status, expected);
    }
}

#[tokio::test]
async fn unknown_or_forbidden_model_is_not_found() {
    let gw = gateway();
    let mut body = ask("hi");
    body["model"] = json!("claude-nope");
    let expected = anthropic_error(
        "not_found_error",
        "The model `claude-nope` does not exist or you do not have access to it.",
    );
    check(messages(&gw, body.clone()).await, 404, expected.clone());
    check(
        call(
            &gw,
            &[],
            Method::POST,
            "/v1/messages/count_tokens",
            &body.to_string(),
        )
        .await,
        404,
        expected,
    );
    // Configured, but not on this route's allow-list.
    let got = call(
        &gw,
        &["other-1"],
        Method::POST,
        "/v1/messages",
        &ask("hi").to_string(),
    )
    .await;
    check(
        got,
        404,
        anthropic_error(
            "not_found_error",
            "The model `mock-1` does not exist or you do not have access to it.",
        ),
    );
}

#[tokio::test]
async fn invalid_requests_in_anthropic_shape() {
    let gw = gateway();
    async fn post(gw: &sy_ai::AiGateway, body: &str) -> (StatusCode, HeaderMap, Bytes) {
        call(gw, &[], Method::POST, "/v1/messages", body).await
    }
    check(
        post(
            &gw,
            r#"{"model":"mock-1","messages":[{"role":"user","content":"hi"}]}"#,
        )
        .await,
        400,
        anthropic_error("invalid_request_error", "max_tokens: Field required"),
    );
    let got = post(&gw, r#"{"model":"#).await;
    assert_eq!(got.0, StatusCode::BAD_REQUEST);
    let body = json_of(&got.2);
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    check(
        post(&gw, r#"{"model":"mock-1","max_tokens":5,"messages":[{"role":"user","content":"x"}],"tools":[{"type":"bash_20250124","name":"bash"}]}"#).await,
        400,
        anthropic_error(
            "invalid_request_error",
            "tools.0.type: server tool 'bash_20250124' is not supported by this gateway; declare a client tool with an input_schema",
        ),
    );
    // Wrong method: still Anthropic's shape, with `Allow`.
    let got = call(&gw, &[], Method::GET, "/v1/messages", "").await;
    assert_eq!(got.0, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&got.1, "allow"), Some("POST"));
    assert_eq!(json_of(&got.2)["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn credentials_are_never_echoed() {
    let gw = gateway();
    let (parts, ()) = Request::builder()
        .method(Method::POST)
        .uri("/v1/messages")
        .header("x-api-key", "sk-ant-secret-1")
        .header("authorization", "Bearer sk-ant-secret-2")
        .header("anthropic-version", "2023-06-01")
        .body(())
        .unwrap()
        .into_parts();
    for text in ["hi", "mock:error:401"] {
        let response = gw
            .handle(
                sy_ai::Caller::new(&[], None),
                &parts.clone(),
                Bytes::from(ask(text).to_string()),
                REQUEST_ID,
            )
            .await;
        let (head, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        let all = format!("{:?}{}", head.headers, String::from_utf8_lossy(&body));
        assert!(!all.contains("secret"), "{all}");
    }
}
