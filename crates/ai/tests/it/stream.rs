//! Streaming chat completions: the SSE sequence, chunk by chunk.

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

fn chunks(events: &[sy_llm::sse::SseEvent]) -> Vec<Value> {
    events
        .iter()
        .filter(|e| !e.is_done())
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect()
}

#[tokio::test]
async fn sequence_with_usage() {
    let gw = gateway();
    let body = json!({"model": "mock-1", "messages": user("Hello there"), "stream": true,
                      "stream_options": {"include_usage": true}});
    let (status, headers, frames) = call_frames(
        &gw,
        &[],
        Method::POST,
        "/v1/chat/completions",
        &body.to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), Some("text/event-stream"));
    assert_eq!(header(&headers, "cache-control"), Some("no-cache"));
    assert_eq!(
        header(&headers, "x-switchyard-deployment"),
        Some("mock/mock-1")
    );

    let events = events(&frames);
    assert_eq!(&frames.last().unwrap()[..], b"data: [DONE]\n\n");
    let chunks = chunks(&events);
    // role + 8 words + finish + usage
    assert_eq!(chunks.len(), 11);
    for chunk in &chunks {
        assert_eq!(chunk["id"], "chatcmpl-0190b0c1-test");
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["model"], "mock-1");
        assert_eq!(chunk["created"], chunks[0]["created"]);
    }
    assert_eq!(
        zero_created(chunks[0].clone()),
        json!({"id": "chatcmpl-0190b0c1-test", "object": "chat.completion.chunk", "created": 0, "model": "mock-1",
               "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": null, "finish_reason": null}]})
    );
    assert_eq!(
        chunks[1]["choices"],
        json!([{"index": 0, "delta": {"content": "This"}, "logprobs": null, "finish_reason": null}])
    );
    let text: String = chunks[1..9]
        .iter()
        .map(|c| c["choices"][0]["delta"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(text, "This is a mock response to: Hello there");
    assert_eq!(
        chunks[9]["choices"],
        json!([{"index": 0, "delta": {}, "logprobs": null, "finish_reason": "stop"}])
    );
    assert_eq!(chunks[10]["choices"], json!([]));
    assert_eq!(chunks[10]["usage"]["prompt_tokens"], 9);
    assert_eq!(chunks[10]["usage"]["completion_tokens"], 9);
    assert_eq!(chunks[10]["usage"]["total_tokens"], 18);
}

#[tokio::test]
async fn no_usage_chunk_unless_asked() {
    let gw = gateway();
    let body = json!({"model": "mock-1", "messages": user("Hello there"), "stream": true});
    let (_, _, frames) = call_frames(
        &gw,
        &[],
        Method::POST,
        "/v1/chat/completions",
        &body.to_string(),
    )
    .await;
    let chunks = chunks(&events(&frames));
    assert_eq!(chunks.len(), 10);
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
    assert_eq!(chunks[9]["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn n_choices_interleave() {
    let gw = gateway();
    let body = json!({"model": "mock-1", "messages": user("hi"), "stream": true, "n": 2});
    let (_, _, frames) = call_frames(
        &gw,
        &[],
        Method::POST,
        "/v1/chat/completions",
        &body.to_string(),
    )
    .await;
    let chunks = chunks(&events(&frames));
    let mut texts = [String::new(), String::new()];
    for chunk in &chunks {
        let choice = &chunk["choices"][0];
        let i = choice["index"].as_u64().unwrap() as usize;
        texts[i].push_str(choice["delta"]["content"].as_str().unwrap_or(""));
    }
    assert_eq!(texts[0], "This is a mock response to: hi");
    assert_eq!(texts[0], texts[1]);
}
