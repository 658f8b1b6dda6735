//! `POST /v1/responses`: the Responses API emulated over chat.

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

async fn respond(gw: &sy_ai::AiGateway, body: Value) -> (StatusCode, http::HeaderMap, Value) {
    let (status, headers, bytes) =
        call(gw, &[], Method::POST, "/v1/responses", &body.to_string()).await;
    (status, headers, json_of(&bytes))
}

/// Replace `created_at` (wall-clock time) with 0.
fn zero_created_at(mut value: Value) -> Value {
    assert!(value["created_at"].as_u64().unwrap() > 1_600_000_000);
    value["created_at"] = json!(0);
    value
}

fn weather_tool() -> Value {
    json!({"type": "function", "name": "get_weather", "description": "Weather for a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                          "required": ["city"]},
           "strict": true})
}

/// The fields every response object echoes, for a request that set none.
fn defaults(output: Value, usage: Value) -> Value {
    json!({
        "id": format!("resp_{REQUEST_ID}"), "object": "response", "created_at": 0,
        "status": "completed", "background": false, "error": null,
        "incomplete_details": null, "instructions": null, "max_output_tokens": null,
        "metadata": {}, "model": "mock-1", "output": output, "parallel_tool_calls": true,
        "previous_response_id": null, "reasoning": {"effort": null, "summary": null},
        "store": false, "temperature": null, "text": {"format": {"type": "text"}},
        "tool_choice": "auto", "tools": [], "top_p": null, "truncation": "disabled",
        "usage": usage, "user": null
    })
}

#[tokio::test]
async fn text_input_gives_a_message_item() {
    let gw = gateway();
    let (status, headers, got) = respond(&gw, json!({"model": "mock-1", "input": "Say hi"})).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    let got = zero_created_at(got);
    let usage = got["usage"].clone();
    assert_eq!(
        got,
        defaults(
            json!([{"type": "message", "id": format!("msg_{REQUEST_ID}"), "status": "completed",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": "This is a mock response to: Say hi",
                                 "annotations": []}]}]),
            usage.clone()
        )
    );
    let (input, output) = (
        usage["input_tokens"].as_u64().unwrap(),
        usage["output_tokens"].as_u64().unwrap(),
    );
    assert!(input > 0 && output > 0);
    assert_eq!(
        usage,
        json!({"input_tokens": input, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
               "output_tokens": output, "output_tokens_details": {"reasoning_tokens": 0},
               "total_tokens": input + output})
    );
    assert_eq!(
        header(&headers, "x-switchyard-prompt-tokens"),
        Some(input.to_string().as_str())
    );
}

#[tokio::test]
async fn instructions_items_and_echo_fields() {
    let gw = gateway();
    let (status, _, got) = respond(
        &gw,
        json!({"model": "mock-1", "instructions": "Be terse.",
               "input": [{"role": "developer", "content": "Plain words."},
                         {"type": "message", "role": "user",
                          "content": [{"type": "input_text", "text": "Hello there"}]}],
               "temperature": 0.5, "top_p": 0.9, "metadata": {"k": "v"}, "user": "u-1",
               "max_output_tokens": 100}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(
        got["output"][0]["content"][0]["text"],
        "This is a mock response to: Hello there"
    );
    for (field, value) in [
        ("instructions", json!("Be terse.")),
        ("temperature", json!(0.5)),
        ("top_p", json!(0.9)),
        ("metadata", json!({"k": "v"})),
        ("user", json!("u-1")),
        ("max_output_tokens", json!(100)),
    ] {
        assert_eq!(got[field], value, "{field}");
    }
}

#[tokio::test]
async fn token_cap_makes_an_incomplete_response() {
    let gw = gateway();
    let (status, _, got) = respond(
        &gw,
        json!({"model": "mock-1", "input": "tell me a long story about many things", "max_output_tokens": 3}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["status"], "incomplete");
    assert_eq!(
        got["incomplete_details"],
        json!({"reason": "max_output_tokens"})
    );
    assert_eq!(got["output"][0]["status"], "incomplete");
}

#[tokio::test]
async fn tool_call_and_output_round_trip() {
    let gw = gateway();
    let (status, _, got) = respond(
        &gw,
        json!({"model": "mock-1", "input": "Please call get_weather for Paris",
               "tools": [weather_tool()]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    let got = zero_created_at(got);
    let call = got["output"][0].clone();
    let call_id = call["call_id"].as_str().unwrap().to_owned();
    assert!(call_id.starts_with("call_"));
    assert_eq!(
        call,
        json!({"type": "function_call", "id": format!("fc_{call_id}"), "call_id": call_id,
               "name": "get_weather", "arguments": "{\"city\":\"mock\"}", "status": "completed"})
    );
    assert_eq!(got["output"].as_array().unwrap().len(), 1);
    assert_eq!(got["tools"], json!([weather_tool()]));

    // The client runs the tool and sends the whole conversation back.
    let (status, headers, got) = respond(
        &gw,
        json!({"model": "mock-1", "tools": [weather_tool()], "tool_choice": "none",
               "input": [{"role": "user", "content": "Please call get_weather for Paris"},
                         call,
                         {"type": "function_call_output", "call_id": call_id, "output": "{\"sky\":\"clear\"}"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["tool_choice"], "none");
    assert_eq!(got["output"][0]["type"], "message");
    assert_eq!(
        got["output"][0]["content"][0]["text"],
        "This is a mock response to: Please call get_weather for Paris"
    );
    // The call and its output reached the provider as part of the prompt.
    let prompt: u64 = header(&headers, "x-switchyard-prompt-tokens")
        .unwrap()
        .parse()
        .unwrap();
    assert!(prompt > 20, "{prompt}");
}

#[tokio::test]
async fn stream_event_sequence() {
    let gw = gateway();
    let body = json!({"model": "mock-1", "input": "Say hi", "stream": true}).to_string();
    let (status, _, frames) = call_frames(&gw, &[], Method::POST, "/v1/responses", &body).await;
    assert_eq!(status, StatusCode::OK);
    let events = events(&frames);
    let data: Vec<Value> = events
        .iter()
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect();
    for (i, (event, data)) in events.iter().zip(&data).enumerate() {
        assert_eq!(event.event.as_deref(), data["type"].as_str());
        assert_eq!(data["sequence_number"], i);
    }
    let names: Vec<&str> = data.iter().map(|d| d["type"].as_str().unwrap()).collect();
    let words = "This is a mock response to: Say hi".split(' ').count();
    let mut expected = vec![
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ];
    expected.extend(std::iter::repeat_n("response.output_text.delta", words));
    expected.extend([
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]);
    assert_eq!(names, expected);
    let msg = format!("msg_{REQUEST_ID}");
    let created = zero_created_at(data[0]["response"].clone());
    assert_eq!(created["status"], "in_progress");
    assert_eq!(created["output"], json!([]));
    assert_eq!(created["usage"], Value::Null);
    assert_eq!(
        data[2],
        json!({"type": "response.output_item.added", "sequence_number": 2, "output_index": 0,
               "item": {"type": "message", "id": msg, "status": "in_progress",
                        "role": "assistant", "content": []}})
    );
    assert_eq!(
        data[3],
        json!({"type": "response.content_part.added", "sequence_number": 3, "item_id": msg,
               "output_index": 0, "content_index": 0,
               "part": {"type": "output_text", "text": "", "annotations": []}})
    );
    assert_eq!(
        data[4],
        json!({"type": "response.output_text.delta", "sequence_number": 4, "item_id": msg,
               "output_index": 0, "content_index": 0, "delta": "This", "logprobs": []})
    );
    let n = data.len();
    assert_eq!(
        data[n - 4],
        json!({"type": "response.output_text.done", "sequence_number": n - 4, "item_id": msg,
               "output_index": 0, "content_index": 0,
               "text": "This is a mock response to: Say hi", "logprobs": []})
    );
    let item = json!({"type": "message", "id": msg, "status": "completed", "role": "assistant",
                      "content": [{"type": "output_text",
                                   "text": "This is a mock response to: Say hi", "annotations": []}]});
    assert_eq!(
        data[n - 2],
        json!({"type": "response.output_item.done", "sequence_number": n - 2,
               "output_index": 0, "item": item})
    );
    let done = zero_created_at(data[n - 1]["response"].clone());
    let usage = done["usage"].clone();
    assert!(usage["output_tokens"].as_u64().unwrap() > 0);
    assert_eq!(done, defaults(json!([item]), usage));
}

#[tokio::test]
async fn streamed_function_call() {
    let gw = gateway();
    let body = json!({"model": "mock-1", "input": "call get_weather", "stream": true,
                      "tools": [weather_tool()]})
    .to_string();
    let (status, _, frames) = call_frames(&gw, &[], Method::POST, "/v1/responses", &body).await;
    assert_eq!(status, StatusCode::OK);
    let data: Vec<Value> = events(&frames)
        .iter()
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect();
    let added = &data[2];
    assert_eq!(added["type"], "response.output_item.added");
    assert_eq!(added["item"]["type"], "function_call");
    assert_eq!(added["item"]["arguments"], "");
    let item_id = added["item"]["id"].clone();
    let args: String = data
        .iter()
        .filter(|d| d["type"] == "response.function_call_arguments.delta")
        .inspect(|d| assert_eq!(d["item_id"], item_id))
        .map(|d| d["delta"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(args, "{\"city\":\"mock\"}");
    let n = data.len();
    assert_eq!(data[n - 3]["type"], "response.function_call_arguments.done");
    assert_eq!(data[n - 3]["arguments"], args);
    assert_eq!(data[n - 2]["item"]["status"], "completed");
    assert_eq!(data[n - 1]["type"], "response.completed");
    assert_eq!(data[n - 1]["response"]["output"][0]["id"], item_id);
}

#[tokio::test]
async fn stateful_and_built_in_features_are_a_400() {
    let gw = gateway();
    for (extra, param) in [
        (
            json!({"previous_response_id": "resp_1"}),
            "previous_response_id",
        ),
        (json!({"store": true}), "store"),
        (json!({"tools": [{"type": "web_search"}]}), "tools[0].type"),
        (
            json!({"tools": [{"type": "file_search", "vector_store_ids": ["v"]}]}),
            "tools[0].type",
        ),
    ] {
        let mut body = json!({"model": "mock-1", "input": "hi"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let (status, _, got) = respond(&gw, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{got}");
        assert_eq!(got["error"]["type"], "invalid_request_error");
        assert_eq!(got["error"]["param"], param);
        assert_eq!(got["error"]["code"], "unsupported_parameter");
        assert!(
            got["error"]["message"].as_str().unwrap().contains(param),
            "{got}"
        );
    }
    let (status, _, got) = respond(&gw, json!({"model": "nope", "input": "hi"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(got["error"]["code"], "model_not_found");
}
