//! Non-streaming chat completions.

use http::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn exact_response_shape() {
    let gw = gateway();
    let (status, headers, body) = chat(
        &gw,
        json!({"model": "mock-1", "messages": user("Hello there")}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    assert_eq!(
        header(&headers, "x-switchyard-deployment"),
        Some("mock/mock-1")
    );
    // cl100k_base: primer 3 + message 3 + "user" 1 + "Hello there" 2.
    assert_eq!(header(&headers, "x-switchyard-prompt-tokens"), Some("9"));
    // "This is a mock response to: Hello there": 9 cl100k tokens.
    assert_eq!(
        header(&headers, "x-switchyard-completion-tokens"),
        Some("9")
    );
    // The mock deployment has no price: no cost header.
    assert_eq!(header(&headers, "x-switchyard-cost-usd"), None);
    assert_eq!(
        zero_created(json_of(&body)),
        json!({
            "id": "chatcmpl-0190b0c1-test",
            "object": "chat.completion",
            "created": 0,
            "model": "mock-1",
            "choices": [{
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "This is a mock response to: Hello there",
                    "refusal": null
                },
                "logprobs": null,
                "finish_reason": "stop"
            }],
            "usage": {
                "prompt_tokens": 9,
                "completion_tokens": 9,
                "total_tokens": 18,
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0}
            }
        })
    );
}

#[tokio::test]
async fn model_is_the_public_name_and_deployment_is_reported() {
    let gw = gateway();
    let (status, headers, body) =
        chat(&gw, json!({"model": "other-1", "messages": user("x")})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json_of(&body)["model"], "other-1");
    assert_eq!(
        header(&headers, "x-switchyard-deployment"),
        Some("mock/other-model")
    );
}

#[tokio::test]
async fn last_user_message_is_quoted_and_truncated() {
    let gw = gateway();
    let long = format!("{} tail-not-quoted", "a".repeat(200));
    let messages = json!([
        {"role": "system", "content": "be nice"},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": [{"type": "text", "text": long}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}
    ]);
    let (_, _, body) = chat(&gw, json!({"model": "mock-1", "messages": messages})).await;
    let content = json_of(&body)["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        content,
        format!("This is a mock response to: {}", "a".repeat(200))
    );
}

#[tokio::test]
async fn n_choices_and_token_cap() {
    let gw = gateway();
    let (_, _, body) = chat(
        &gw,
        json!({"model": "mock-1", "messages": user("hi"), "n": 2, "max_tokens": 4}),
    )
    .await;
    let body = json_of(&body);
    let choices = body["choices"].as_array().unwrap();
    assert_eq!(choices.len(), 2);
    for (i, choice) in choices.iter().enumerate() {
        assert_eq!(choice["index"], i);
        assert_eq!(choice["message"]["content"], "This is a mock");
        assert_eq!(choice["finish_reason"], "length");
    }
    assert_eq!(body["usage"]["completion_tokens"], 8);
}

#[tokio::test]
async fn json_mode_answers_json() {
    let gw = gateway();
    let schema = json!({"type": "object", "properties": {"answer": {"type": "string"}, "score": {"type": "number"}}});
    let (_, _, body) = chat(
        &gw,
        json!({"model": "mock-1", "messages": user("rate it"),
               "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": schema}}}),
    )
    .await;
    let content = json_of(&body)["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&content).unwrap(),
        json!({"answer": "mock", "score": 1})
    );
}

#[tokio::test]
async fn unknown_fields_are_accepted() {
    let gw = gateway();
    let (status, _, _) = chat(
        &gw,
        json!({"model": "mock-1", "messages": user("x"), "presence_penalty": 0.5, "metadata": {"a": "b"}, "store": false}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[test]
fn gateway_and_handle_future_are_send() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: T) {}
    let gw = gateway();
    send_sync(&gw);
    send(gw.handle(
        sy_ai::Caller::new(&[], None),
        &parts(http::Method::GET, "/v1/models"),
        bytes::Bytes::new(),
        "r",
    ));
}
