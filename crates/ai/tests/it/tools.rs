//! Tool calls: the mock calls a tool when asked, whole or streamed.

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

fn tools() -> Value {
    json!([
        {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}},
        {"type": "function", "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}
            }, "required": ["city"]}
        }}
    ])
}

#[tokio::test]
async fn call_by_user_text() {
    let gw = gateway();
    let (status, _, body) =
        chat(&gw, json!({"model": "mock-1", "messages": user("Please CALL get_weather for Paris"), "tools": tools()})).await;
    assert_eq!(status, StatusCode::OK);
    let body = json_of(&body);
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], Value::Null);
    let calls = choice["message"]["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1);
    assert!(calls[0]["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(calls[0]["type"], "function");
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    let args: Value =
        serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, json!({"city": "mock", "unit": "celsius"}));
}

#[tokio::test]
async fn tool_choice_rules() {
    let gw = gateway();
    let ask = |text: &str, choice: Value| {
        let mut body = json!({"model": "mock-1", "messages": user(text), "tools": tools()});
        if !choice.is_null() {
            body["tool_choice"] = choice;
        }
        body
    };
    let name =
        |body: &Value| body["choices"][0]["message"]["tool_calls"][0]["function"]["name"].clone();

    // auto without "call <name>": text.
    let (_, _, b) = chat(&gw, ask("what's up", Value::Null)).await;
    assert_eq!(json_of(&b)["choices"][0]["finish_reason"], "stop");
    // required: the first tool when none is named.
    let (_, _, b) = chat(&gw, ask("what's up", json!("required"))).await;
    assert_eq!(name(&json_of(&b)), "get_time");
    // named function.
    let (_, _, b) = chat(
        &gw,
        ask(
            "what's up",
            json!({"type": "function", "function": {"name": "get_weather"}}),
        ),
    )
    .await;
    assert_eq!(name(&json_of(&b)), "get_weather");
    // none wins over the text.
    let (_, _, b) = chat(&gw, ask("call get_weather", json!("none"))).await;
    assert_eq!(json_of(&b)["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn streamed_as_argument_deltas() {
    let gw = gateway();
    let body = json!({"model": "mock-1", "messages": user("call get_weather"), "tools": tools(), "stream": true});
    let (status, _, frames) = call_frames(
        &gw,
        &[],
        Method::POST,
        "/v1/chat/completions",
        &body.to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let events = events(&frames);
    assert!(events.last().unwrap().is_done());
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect();

    let first = &chunks[0]["choices"][0]["delta"];
    assert_eq!(first["role"], "assistant");
    let header = &first["tool_calls"][0];
    assert_eq!(header["index"], 0);
    assert!(header["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(header["type"], "function");
    assert_eq!(
        header["function"],
        json!({"name": "get_weather", "arguments": ""})
    );

    let pieces = &chunks[1..chunks.len() - 1];
    assert!(pieces.len() > 1, "arguments arrive in several deltas");
    let mut args = String::new();
    for chunk in pieces {
        let call = &chunk["choices"][0]["delta"]["tool_calls"][0];
        assert_eq!(call["index"], 0);
        assert!(call.get("id").is_none() && call["function"].get("name").is_none());
        args.push_str(call["function"]["arguments"].as_str().unwrap());
    }
    assert_eq!(
        serde_json::from_str::<Value>(&args).unwrap(),
        json!({"city": "mock", "unit": "celsius"})
    );
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "tool_calls"
    );
}
