//! Golden tests live in `tests/golden.rs`; these cover what fixtures cannot.

use sy_llm::ChatRequest;

use super::request::build;
use crate::ProviderEndpoint;

fn request(value: serde_json::Value) -> ChatRequest {
    serde_json::from_value(value).unwrap()
}

#[test]
fn tool_results_are_matched_to_the_nearest_earlier_call() {
    // Two turns reuse `call_0` (ids restart per answer); each result must
    // name the function of its own turn.
    let req = request(serde_json::json!({
        "model": "m",
        "messages": [
            {"role": "user", "content": "a"},
            {"role": "assistant", "tool_calls": [{"id": "call_0", "type": "function", "function": {"name": "first", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_0", "content": "1"},
            {"role": "assistant", "tool_calls": [{"id": "call_0", "type": "function", "function": {"name": "second", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_0", "content": "{\"ok\":true}"}
        ]
    }));
    let body = serde_json::to_value(build(&ProviderEndpoint::new("t", "http://x"), &req).unwrap())
        .unwrap();
    let contents = body["contents"].as_array().unwrap();
    assert_eq!(contents[2]["parts"][0]["functionResponse"]["name"], "first");
    assert_eq!(
        contents[2]["parts"][0]["functionResponse"]["response"],
        serde_json::json!({"content": "1"})
    );
    assert_eq!(
        contents[4]["parts"][0]["functionResponse"]["name"],
        "second"
    );
    assert_eq!(
        contents[4]["parts"][0]["functionResponse"]["response"],
        serde_json::json!({"ok": true})
    );
}

#[test]
fn an_unknown_tool_call_id_is_refused() {
    let req = request(serde_json::json!({
        "model": "m",
        "messages": [{"role": "tool", "tool_call_id": "nope", "content": "1"}]
    }));
    let error = build(&ProviderEndpoint::new("t", "http://x"), &req).unwrap_err();
    assert!(error.is_client_error());
    assert!(
        error.to_string().contains("messages[0].tool_call_id"),
        "{error}"
    );
}
