//! Serde round trips: what comes in goes out unchanged, unknown fields
//! included, and the response shapes match OpenAI's field for field.

use serde_json::{Value, json};

use super::*;
use crate::usage::Usage;

fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(value: Value) -> T {
    let typed: T = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(serde_json::to_value(&typed).unwrap(), value);
    typed
}

#[test]
fn request_round_trip_keeps_unknown_fields() {
    let body = json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "developer", "content": "Be terse."},
            {"role": "user", "name": "ann", "content": [
                {"type": "text", "text": "What is this?", "cache_control": {"type": "ephemeral"}},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low", "x_future": {"crop": [0, 0, 8, 8]}}},
                {"type": "input_audio", "input_audio": {"data": "UklG", "format": "wav"}}
            ]},
            {"role": "assistant", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "look", "arguments": "{\"x\":1}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "a cat"}
        ],
        "tools": [{"type": "function", "function": {
            "name": "look", "description": "Look closer",
            "parameters": {"type": "object", "properties": {"x": {"type": "integer"}}},
            "strict": true
        }}],
        "tool_choice": {"type": "function", "function": {"name": "look"}},
        "parallel_tool_calls": false,
        "response_format": {"type": "json_schema", "json_schema": {"name": "out", "schema": {"type": "object"}, "strict": true}},
        "stop": ["\n\n", "END"],
        "temperature": 0.5,
        "top_p": 1.0,
        "max_tokens": 100,
        "max_completion_tokens": 50,
        "seed": -7,
        "n": 2,
        "user": "u-1",
        "stream": true,
        "stream_options": {"include_usage": true, "include_obfuscation": false},
        "logprobs": true,
        "metadata": {"k": "v"}
    });
    let req: ChatRequest = round_trip(body);
    assert_eq!(req.extra.len(), 2);
    assert_eq!(req.completion_cap(), Some(50));
    assert_eq!(req.choice_count(), 2);
    assert_eq!(req.last_user_text().as_deref(), Some("What is this?"));
    match &req.messages[1].content {
        Some(MessageContent::Parts(parts)) => {
            assert!(matches!(&parts[2], ContentPart::Other(m) if m["type"] == "input_audio"));
            assert!(matches!(&parts[0], ContentPart::Text { text, extra }
                if text == "What is this?" && extra.len() == 1 && extra.contains_key("cache_control")));
            // The image's own unknown member is kept beside its typed ones.
            assert!(matches!(&parts[1], ContentPart::ImageUrl { image_url, .. }
                if image_url.detail.as_deref() == Some("low") && image_url.extra.contains_key("x_future")));
        }
        other => panic!("unexpected content {other:?}"),
    }
}

/// An image part's own members (`cache_control`) sit beside `image_url`,
/// apart from the image's, and come back there; its breakpoint asks for a
/// prompt cache as a text part's does.
#[test]
fn an_image_parts_breakpoint_stays_on_the_part() {
    let body = json!({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"},
         "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "What is this?"}
    ]}]});
    let req: ChatRequest = round_trip(body);
    match &req.messages[0].content {
        Some(MessageContent::Parts(parts)) => {
            assert!(
                matches!(&parts[0], ContentPart::ImageUrl { image_url, extra }
                if image_url.extra.is_empty() && extra.len() == 1)
            );
            assert_eq!(
                parts[0].cache_control(),
                Some(&json!({"type": "ephemeral"}))
            );
            assert_eq!(parts[1].cache_control(), None);
        }
        other => panic!("unexpected content {other:?}"),
    }
    assert!(req.asks_for_prompt_cache());
    let plain: ChatRequest = round_trip(
        json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}
        ]}]}),
    );
    assert!(!plain.asks_for_prompt_cache());
}

/// `"cache_control": null` (an unset field, as SDKs that write every
/// field send it) marks no breakpoint anywhere, yet is seen as a member a
/// server that refuses it must not get.
#[test]
fn a_null_breakpoint_marks_none_but_is_still_mentioned() {
    let req: ChatRequest = round_trip(json!({
        "model": "m", "cache_control": null,
        "tools": [{"type": "function", "function": {"name": "f"}, "cache_control": null}],
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "Hi", "cache_control": null}
        ]}]
    }));
    assert!(!req.asks_for_prompt_cache());
    assert!(req.mentions_cache_control());
    match &req.messages[0].content {
        Some(MessageContent::Parts(parts)) => {
            assert_eq!(parts[0].cache_control(), None);
            assert!(parts[0].mentions_cache_control());
        }
        other => panic!("unexpected content {other:?}"),
    }
    for (member, at) in [("request", 0), ("tool", 1), ("part", 2)] {
        let mut body = json!({
            "model": "m",
            "tools": [{"type": "function", "function": {"name": "f"}}],
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]
        });
        let mark = json!({"type": "ephemeral"});
        match at {
            0 => body["cache_control"] = mark,
            1 => body["tools"][0]["cache_control"] = mark,
            _ => body["messages"][0]["content"][0]["cache_control"] = mark,
        }
        let req: ChatRequest = round_trip(body);
        assert!(req.asks_for_prompt_cache(), "{member}");
        assert!(req.mentions_cache_control(), "{member}");
    }
    let plain: ChatRequest =
        round_trip(json!({"model": "m", "messages": [{"role": "user", "content": "Hi"}]}));
    assert!(!plain.mentions_cache_control());
}

/// An inline `file` part is read as media type, data and name; a file
/// given by id, a file without a data URL and other parts are not.
#[test]
fn inline_files_are_read_from_file_parts() {
    let part = |value: serde_json::Value| -> ContentPart { serde_json::from_value(value).unwrap() };
    let pdf = part(json!({"type": "file", "file": {
        "file_data": "data:application/pdf;base64,JVBER", "filename": "a.pdf"}}));
    assert_eq!(
        pdf.inline_file(),
        Some(crate::chat::InlineFile {
            media_type: "application/pdf",
            data: "JVBER",
            filename: Some("a.pdf"),
        })
    );
    let unnamed = part(
        json!({"type": "file", "file": {"file_data": "data:text/plain;charset=utf-8;base64,aGk="}}),
    );
    assert_eq!(
        unnamed.inline_file().map(|f| (f.media_type, f.filename)),
        Some(("text/plain", None))
    );
    for other in [
        json!({"type": "file", "file": {"file_id": "file-abc"}}),
        json!({"type": "file", "file": {"file_data": "JVBER"}}),
        json!({"type": "input_audio", "file": {"file_data": "data:audio/wav;base64,UklG"}}),
        json!({"type": "text", "text": "data:application/pdf;base64,JVBER"}),
    ] {
        assert_eq!(part(other.clone()).inline_file(), None, "{other}");
    }
}

#[test]
fn tool_choice_and_stop_forms() {
    let modes: Vec<ToolChoice> =
        serde_json::from_value(json!(["none", "auto", "required"])).unwrap();
    assert_eq!(
        modes,
        vec![
            ToolChoice::Mode(ToolChoiceMode::None),
            ToolChoice::Mode(ToolChoiceMode::Auto),
            ToolChoice::Mode(ToolChoiceMode::Required)
        ]
    );
    let stop: Stop = round_trip(json!("END"));
    assert_eq!(stop.sequences(), vec!["END"]);
    let _: ResponseFormat = round_trip(json!({"type": "json_object"}));
}

#[test]
fn response_shape() {
    let mut resp = ChatResponse::new(
        "chatcmpl-1",
        1_700_000_000,
        "mock-1",
        vec![Choice {
            index: 0,
            message: ResponseMessage::text("Hi"),
            logprobs: None,
            finish_reason: Some(FinishReason::Stop),
        }],
    );
    resp.usage = Some(Usage {
        prompt_tokens: 1,
        completion_tokens: 2,
        total_tokens: 3,
        ..Usage::default()
    });
    let expected = json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "mock-1",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": "Hi", "refusal": null},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    });
    assert_eq!(serde_json::to_value(&resp).unwrap(), expected);
    let back: ChatResponse = round_trip(expected);
    assert_eq!(back, resp);
}

#[test]
fn tool_call_response_has_null_content() {
    let msg = ResponseMessage::tool_calls(vec![ToolCall {
        id: "call_1".into(),
        kind: "function".into(),
        function: FunctionCall {
            name: "f".into(),
            arguments: "{}".into(),
        },
    }]);
    assert_eq!(
        serde_json::to_value(&msg).unwrap(),
        json!({"role": "assistant", "content": null, "refusal": null, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
        ]})
    );
}

#[test]
fn chunk_shapes() {
    let first = ChatChunk::new(
        "c",
        1,
        "m",
        vec![ChunkChoice::delta(
            0,
            Delta {
                role: Some(Role::Assistant),
                content: Some(String::new()),
                ..Delta::default()
            },
        )],
    );
    assert_eq!(
        serde_json::to_value(&first).unwrap(),
        json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [
            {"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": null, "finish_reason": null}
        ]})
    );
    let last = ChatChunk::new(
        "c",
        1,
        "m",
        vec![ChunkChoice::finish(0, FinishReason::ToolCalls)],
    );
    assert_eq!(
        serde_json::to_value(&last).unwrap()["choices"][0],
        json!({"index": 0, "delta": {}, "logprobs": null, "finish_reason": "tool_calls"})
    );
    let tool = json!({"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}});
    let _: ToolCallDelta = round_trip(tool);
    let piece: ToolCallDelta = round_trip(json!({"index": 0, "function": {"arguments": "{\"a\""}}));
    assert_eq!(piece.id, None);
    let mut usage_chunk = ChatChunk::new("c", 1, "m", vec![]);
    usage_chunk.usage = Some(Usage::default());
    assert!(usage_chunk.is_usage_only());
}
