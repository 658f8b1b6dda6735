//! Request translation and stream event order.

use serde_json::{Value, json};
use sy_core::TokenUsage;

use super::*;
use crate::chat::{
    ChatChunk, ChunkChoice, Delta, FinishReason, FunctionCallDelta, MessageContent, Role,
    ToolCallDelta,
};

fn parse(body: Value) -> ResponsesRequest {
    parse_responses_request(body.to_string().as_bytes()).unwrap()
}

#[test]
fn input_items_become_chat_messages() {
    let r = parse(json!({
        "model": "m", "instructions": "Be terse.",
        "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "weather?"},
                                         {"type": "input_image", "image_url": "data:image/png;base64,AA"}]},
            {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "sunny"}
        ],
        "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}, "strict": true}],
        "text": {"format": {"type": "json_schema", "name": "w", "schema": {"type": "object"}}},
        "max_output_tokens": 20, "stream": true
    }));
    let m = &r.chat.messages;
    assert_eq!(m.len(), 4);
    assert_eq!(
        (m[0].role, m[0].text_content().as_str()),
        (Role::System, "Be terse.")
    );
    assert!(matches!(&m[1].content, Some(MessageContent::Parts(p)) if p.len() == 2));
    assert_eq!(
        m[2].tool_calls.as_ref().unwrap()[0].function.name,
        "get_weather"
    );
    assert_eq!(m[3].tool_call_id.as_deref(), Some("c1"));
    assert_eq!(r.chat.tools().len(), 1);
    assert_eq!(r.chat.max_tokens, Some(20));
    assert!(r.chat.include_usage());
    assert!(r.chat.response_format.is_some());
    assert_eq!(r.echo.tools[0]["name"], "get_weather");
}

#[test]
fn stateful_and_built_in_features_are_refused() {
    let param = |body: Value| {
        parse_responses_request(body.to_string().as_bytes())
            .unwrap_err()
            .param
    };
    for (body, expected) in [
        (
            json!({"model": "m", "input": "x", "previous_response_id": "resp_1"}),
            "previous_response_id",
        ),
        (json!({"model": "m", "input": "x", "store": true}), "store"),
        (
            json!({"model": "m", "input": "x", "tools": [{"type": "web_search"}]}),
            "tools[0].type",
        ),
        (json!({"model": "m"}), "input"),
        (
            json!({"model": "m", "input": [{"type": "item_reference", "id": "x"}]}),
            "input[0].type",
        ),
    ] {
        assert_eq!(param(body).as_deref(), Some(expected));
    }
    assert!(parse_responses_request(br#"{"model":"m","input":"x","store":false}"#).is_ok());
}

fn chunk(delta: Delta, finish: Option<FinishReason>) -> ChatChunk {
    let mut choice = ChunkChoice::delta(0, delta);
    choice.finish_reason = finish;
    ChatChunk::new("c", 1, "m", vec![choice])
}

fn types(frames: &[bytes::Bytes]) -> Vec<(String, Value)> {
    frames
        .iter()
        .map(|f| {
            let text = String::from_utf8(f.to_vec()).unwrap();
            let mut lines = text.lines();
            let name = lines
                .next()
                .unwrap()
                .trim_start_matches("event: ")
                .to_owned();
            let data: Value =
                serde_json::from_str(lines.next().unwrap().trim_start_matches("data: ")).unwrap();
            assert_eq!(data["type"], name.as_str());
            (name, data)
        })
        .collect()
}

#[test]
fn text_then_call_stream_order() {
    let mut s = ResponsesStream::new(Stamp::new("r", 7, "pub"), Echo::default());
    let mut frames = s.start();
    frames.extend(s.push(&chunk(
        Delta {
            role: Some(Role::Assistant),
            content: Some("Hi".into()),
            ..Delta::default()
        },
        None,
    )));
    frames.extend(s.push(&chunk(
        Delta {
            tool_calls: Some(vec![ToolCallDelta {
                index: 0,
                id: Some("call_1".into()),
                kind: Some("function".into()),
                function: Some(FunctionCallDelta {
                    name: Some("f".into()),
                    arguments: Some("{}".into()),
                }),
            }]),
            ..Delta::default()
        },
        Some(FinishReason::ToolCalls),
    )));
    frames.extend(s.finish(&TokenUsage {
        prompt: 3,
        completion: 2,
        ..TokenUsage::default()
    }));
    let events = types(&frames);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    for (i, (_, data)) in events.iter().enumerate() {
        assert_eq!(data["sequence_number"], i);
    }
    let done = &events[12].1["response"];
    assert_eq!(done["status"], "completed");
    assert_eq!(done["output"][1]["call_id"], "call_1");
    assert_eq!(done["usage"]["total_tokens"], 5);
}

/// An `input_file` becomes chat's `file` part (inline data with its name,
/// or a file id), which every provider kind reads its own way; a file by
/// URL, which chat cannot carry, is refused naming the member.
#[test]
fn input_files_become_chat_file_parts() {
    let r = parse(json!({"model": "m", "input": [{"role": "user", "content": [
        {"type": "input_file", "filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBER"},
        {"type": "input_file", "file_id": "file-abc"},
        {"type": "input_text", "text": "Compare."}
    ]}]}));
    let Some(MessageContent::Parts(parts)) = &r.chat.messages[0].content else {
        panic!("{:?}", r.chat.messages[0]);
    };
    assert_eq!(
        serde_json::to_value(&parts[..2]).unwrap(),
        json!([
            {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBER", "filename": "a.pdf"}},
            {"type": "file", "file": {"file_id": "file-abc"}}
        ])
    );
    assert_eq!(
        parts[0].inline_file().map(|f| f.media_type),
        Some("application/pdf")
    );
    let error = parse_responses_request(
        json!({"model": "m", "input": [{"role": "user", "content": [
            {"type": "input_file", "file_url": "https://example.com/a.pdf"}
        ]}]})
        .to_string()
        .as_bytes(),
    )
    .unwrap_err();
    assert_eq!(error.param.as_deref(), Some("input[0].content[0].file_url"));
}
