//! `POST /v1/completions`: legacy text completions emulated over chat.

use http::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn plain_completion_in_text_completion_shape() {
    let gw = gateway();
    let body = json!({"model": "mock-1", "prompt": "Say hi"}).to_string();
    let (status, headers, bytes) = call(&gw, &[], Method::POST, "/v1/completions", &body).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    let got = zero_created(json_of(&bytes));
    let usage = got["usage"].clone();
    assert_eq!(
        got,
        json!({
            "id": format!("cmpl-{REQUEST_ID}"), "object": "text_completion", "created": 0,
            "model": "mock-1",
            "choices": [{"text": "This is a mock response to: Say hi", "index": 0,
                         "logprobs": null, "finish_reason": "stop"}],
            "usage": usage
        })
    );
    assert!(usage["prompt_tokens"].as_u64().unwrap() > 0);
    assert!(header(&headers, "x-switchyard-completion-tokens").is_some());
}

#[tokio::test]
async fn streamed_completion_chunks() {
    let gw = gateway();
    let body = json!({"model": "mock-1", "prompt": ["Say hi"], "stream": true,
                      "stream_options": {"include_usage": true}})
    .to_string();
    let (status, _, frames) = call_frames(&gw, &[], Method::POST, "/v1/completions", &body).await;
    assert_eq!(status, StatusCode::OK);
    let events = events(&frames);
    assert_eq!(events.last().unwrap().data, "[DONE]");
    let chunks: Vec<serde_json::Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect();
    let first = zero_created(chunks[0].clone());
    assert_eq!(
        first,
        json!({"id": format!("cmpl-{REQUEST_ID}"), "object": "text_completion", "created": 0,
               "model": "mock-1",
               "choices": [{"text": "This", "index": 0, "logprobs": null, "finish_reason": null}]})
    );
    let text: String = chunks
        .iter()
        .flat_map(|c| c["choices"].as_array().unwrap().clone())
        .map(|c| c["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(text, "This is a mock response to: Say hi");
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    let usage = chunks.last().unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert!(usage["usage"]["completion_tokens"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn what_chat_cannot_express_is_a_400() {
    let gw = gateway();
    for (body, param) in [
        (json!({"model": "mock-1", "prompt": ["a", "b"]}), "prompt"),
        (
            json!({"model": "mock-1", "prompt": "a", "echo": true}),
            "echo",
        ),
        (json!({"model": "mock-1"}), "prompt"),
    ] {
        let (status, _, bytes) =
            call(&gw, &[], Method::POST, "/v1/completions", &body.to_string()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(json_of(&bytes)["error"]["param"], param);
    }
}
