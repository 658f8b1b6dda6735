//! Golden tests of the Anthropic translations: each scenario's input and the
//! exact canonical (or Anthropic) JSON it must become.

use serde_json::{Value, json};

use super::*;
use crate::chat::{
    ChatChunk, ChatResponse, Choice, ChunkChoice, Delta, FinishReason, FunctionCall,
    FunctionCallDelta, ResponseMessage, ToolCall, ToolCallDelta,
};
use crate::usage::Usage;

/// Parse an Anthropic body and translate it; the canonical JSON.
fn canonical(body: Value) -> Value {
    let parsed = parse_messages_request(body.to_string().as_bytes()).unwrap();
    serde_json::to_value(to_chat_request(&parsed).unwrap()).unwrap()
}

#[test]
fn plain_request() {
    let got = canonical(json!({
        "model": "claude-x", "max_tokens": 256,
        "messages": [{"role": "user", "content": "Hello"}]
    }));
    assert_eq!(
        got,
        json!({"model": "claude-x", "max_tokens": 256,
               "messages": [{"role": "user", "content": "Hello"}]})
    );
}

#[test]
fn every_scalar_field() {
    let got = canonical(json!({
        "model": "claude-x", "max_tokens": 10,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "Hi"}],
        "stop_sequences": ["END", "\n\n"],
        "temperature": 0.2, "top_p": 0.9, "top_k": 40,
        "metadata": {"user_id": "u-7"},
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "stream": true,
        "service_tier": "auto"
    }));
    assert_eq!(
        got,
        json!({
            "model": "claude-x",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi"}
            ],
            "max_tokens": 10,
            "stop": ["END", "\n\n"],
            "temperature": 0.2, "top_p": 0.9,
            "user": "u-7",
            "stream": true,
            "stream_options": {"include_usage": true},
            "top_k": 40,
            "thinking": {"type": "enabled", "budget_tokens": 2048},
            "service_tier": "auto"
        })
    );
}

#[test]
fn system_blocks_join() {
    let got = canonical(json!({
        "model": "m", "max_tokens": 1,
        "system": [
            {"type": "text", "text": "You are a cat."},
            {"type": "text", "text": "Answer in meows."}
        ],
        "messages": [{"role": "user", "content": "Hi"}]
    }));
    assert_eq!(
        got["messages"][0],
        json!({"role": "system", "content": "You are a cat.\nAnswer in meows."})
    );
    // A prompt-caching breakpoint keeps the blocks apart, each with its own.
    let got = canonical(json!({
        "model": "m", "max_tokens": 1,
        "system": [
            {"type": "text", "text": "You are a cat."},
            {"type": "text", "text": "Answer in meows.", "cache_control": {"type": "ephemeral"}}
        ],
        "messages": [{"role": "user", "content": "Hi"}]
    }));
    assert_eq!(
        got["messages"][0],
        json!({"role": "system", "content": [
            {"type": "text", "text": "You are a cat."},
            {"type": "text", "text": "Answer in meows.", "cache_control": {"type": "ephemeral"}}
        ]})
    );
    // An empty system prompt adds no message.
    let got = canonical(json!({"model": "m", "max_tokens": 1, "system": "",
                                "messages": [{"role": "user", "content": "Hi"}]}));
    assert_eq!(got["messages"].as_array().unwrap().len(), 1);
}

#[test]
fn images_and_documents() {
    let got = canonical(json!({
        "model": "m", "max_tokens": 1,
        "messages": [{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
            {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBER"}},
            {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "plain doc"}},
            {"type": "text", "text": "Describe these."}
        ]}]
    }));
    assert_eq!(
        got["messages"],
        json!([{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR"}},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
            {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBER"}},
            {"type": "text", "text": "plain doc"},
            {"type": "text", "text": "Describe these."}
        ]}])
    );
}

/// An image block's prompt-caching breakpoint rides on its part, beside
/// `image_url` as on a text part, and the request is seen to ask for a
/// cache.
#[test]
fn an_image_blocks_breakpoint_rides_on_its_part() {
    let body = json!({
        "model": "m", "max_tokens": 1,
        "messages": [{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"},
             "cache_control": {"type": "ephemeral", "ttl": "1h"}},
            {"type": "text", "text": "Describe it."}
        ]}]
    });
    assert_eq!(
        canonical(body.clone())["messages"][0]["content"][0],
        json!({"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR"},
               "cache_control": {"type": "ephemeral", "ttl": "1h"}})
    );
    let parsed = parse_messages_request(body.to_string().as_bytes()).unwrap();
    assert!(to_chat_request(&parsed).unwrap().asks_for_prompt_cache());
}

/// A document block's breakpoint rides on its part (a `file` part for a
/// PDF, a text part for plain text), as an image block's does.
#[test]
fn a_document_blocks_breakpoint_rides_on_its_part() {
    let got = canonical(json!({
        "model": "m", "max_tokens": 1,
        "messages": [{"role": "user", "content": [
            {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBER"},
             "cache_control": {"type": "ephemeral"}},
            {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "plain doc"},
             "cache_control": {"type": "ephemeral", "ttl": "1h"}},
            {"type": "text", "text": "Compare them."}
        ]}]
    }));
    assert_eq!(
        got["messages"][0]["content"],
        json!([
            {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBER"},
             "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "plain doc", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
            {"type": "text", "text": "Compare them."}
        ])
    );
}

/// Inside a tool result, a text block's breakpoint marks the result, and an
/// image's or a document's stays on it in the user turn that carries them
/// after the result.
#[test]
fn breakpoints_inside_a_tool_result_are_kept() {
    let got = canonical(json!({
        "model": "m", "max_tokens": 1,
        "messages": [
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "read", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [
                {"type": "text", "text": "two files", "cache_control": {"type": "ephemeral"}},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"},
                 "cache_control": {"type": "ephemeral"}},
                {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBER"},
                 "cache_control": {"type": "ephemeral", "ttl": "1h"}}
            ]}]}
        ]
    }));
    assert_eq!(
        got["messages"][1],
        json!({"role": "tool", "tool_call_id": "t1", "content": [
            {"type": "text", "text": "two files", "cache_control": {"type": "ephemeral"}}
        ]})
    );
    assert_eq!(
        got["messages"][2],
        json!({"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR"},
             "cache_control": {"type": "ephemeral"}},
            {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBER"},
             "cache_control": {"type": "ephemeral", "ttl": "1h"}}
        ]})
    );
}

/// Blocks of types the gateway does not read (`search_result`), and images
/// and documents from sources it does not translate (by URL, by file id),
/// become parts of their own type kept whole, breakpoint included, for the
/// Anthropic adapter to send on as they came.
#[test]
fn native_blocks_are_kept_whole() {
    let native = [
        json!({"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"},
               "title": "A", "citations": {"enabled": true}, "cache_control": {"type": "ephemeral"}}),
        json!({"type": "image", "source": {"type": "file", "file_id": "file_011"}}),
        json!({"type": "search_result", "source": "https://example.com", "title": "T",
               "content": [{"type": "text", "text": "found"}]}),
        json!({"type": "video", "anything": [1, 2]}),
    ];
    let mut content: Vec<Value> = native.to_vec();
    content.push(json!({"type": "text", "text": "Use these."}));
    let got = canonical(json!({
        "model": "m", "max_tokens": 1,
        "messages": [{"role": "user", "content": content}]
    }));
    let mut want: Vec<Value> = native.to_vec();
    want.push(json!({"type": "text", "text": "Use these."}));
    assert_eq!(got["messages"][0]["content"], Value::Array(want));
    let parsed = parse_messages_request(
        json!({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [native[0].clone()]}]})
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    assert!(to_chat_request(&parsed).unwrap().asks_for_prompt_cache());
}

/// A tool result's blocks the gateway does not read (`search_result`, the
/// form search tools answer in) stay in the tool message, after its text,
/// kept whole; the result's breakpoint rides on the text part.
#[test]
fn native_blocks_in_a_tool_result_stay_in_it() {
    let search = json!({"type": "search_result", "source": "https://example.com/kb", "title": "KB",
                        "content": [{"type": "text", "text": "Hold the button."}]});
    let got = canonical(json!({
        "model": "m", "max_tokens": 1,
        "messages": [
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "search", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                "cache_control": {"type": "ephemeral"},
                "content": [{"type": "text", "text": "1 hit"}, search.clone()]}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t2", "name": "search", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t2",
                "content": [search.clone()]}]}
        ]
    }));
    assert_eq!(
        got["messages"][1],
        json!({"role": "tool", "tool_call_id": "t1", "content": [
            {"type": "text", "text": "1 hit", "cache_control": {"type": "ephemeral"}},
            search
        ]})
    );
    assert_eq!(
        got["messages"][3],
        json!({"role": "tool", "tool_call_id": "t2", "content": [search]})
    );
}

#[test]
fn single_text_block_collapses_to_a_string() {
    let got = canonical(json!({
        "model": "m", "max_tokens": 1,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi", "citations": []}]}]
    }));
    assert_eq!(got["messages"], json!([{"role": "user", "content": "Hi"}]));
    // Unless it marks a prompt-caching breakpoint, which stays on its part.
    let got = canonical(json!({
        "model": "m", "max_tokens": 1,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral"}}]}]
    }));
    assert_eq!(
        got["messages"],
        json!([{"role": "user", "content": [
            {"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral"}}
        ]}])
    );
}

#[test]
fn tools_and_tool_results() {
    let got = canonical(json!({
        "model": "m", "max_tokens": 100,
        "tools": [{"name": "get_weather", "description": "Weather for a city",
                   "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
                   "cache_control": {"type": "ephemeral"}}],
        "tool_choice": {"type": "auto", "disable_parallel_tool_use": true},
        "messages": [
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "Two cities.", "signature": "sig"},
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {"city": "Rome"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": true,
                 "content": [{"type": "text", "text": "timeout"},
                             {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}}]},
                {"type": "text", "text": "Thanks"}
            ]}
        ]
    }));
    assert_eq!(
        got,
        json!({
            "model": "m", "max_tokens": 100,
            "tools": [{"type": "function", "function": {
                "name": "get_weather", "description": "Weather for a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
            }, "cache_control": {"type": "ephemeral"}}],
            "tool_choice": "auto",
            "parallel_tool_calls": false,
            "messages": [
                {"role": "user", "content": "Weather in Paris and Rome?"},
                {"role": "assistant", "content": "Checking.", "tool_calls": [
                    {"id": "toolu_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                    {"id": "toolu_2", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}}
                ]},
                {"role": "tool", "tool_call_id": "toolu_1", "content": "18C"},
                {"role": "tool", "tool_call_id": "toolu_2", "content": "Error: timeout"},
                {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]},
                {"role": "user", "content": "Thanks"}
            ]
        })
    );
}

#[test]
fn tool_choice_modes() {
    let choice = |tc: Value| {
        canonical(json!({
            "model": "m", "max_tokens": 1,
            "messages": [{"role": "user", "content": "x"}],
            "tools": [{"name": "f", "input_schema": {"type": "object"}}],
            "tool_choice": tc
        }))
    };
    assert_eq!(choice(json!({"type": "auto"}))["tool_choice"], "auto");
    assert_eq!(choice(json!({"type": "any"}))["tool_choice"], "required");
    assert_eq!(choice(json!({"type": "none"}))["tool_choice"], "none");
    let named = choice(json!({"type": "tool", "name": "f", "disable_parallel_tool_use": true}));
    assert_eq!(
        named["tool_choice"],
        json!({"type": "function", "function": {"name": "f"}})
    );
    assert_eq!(named["parallel_tool_calls"], false);
    assert!(
        choice(json!({"type": "any"}))
            .get("parallel_tool_calls")
            .is_none()
    );
}

#[test]
fn server_tools_are_refused() {
    let parsed = parse_messages_request(
        json!({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "x"}],
               "tools": [{"type": "web_search_20250305", "name": "web_search"}]})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let e = to_chat_request(&parsed).unwrap_err();
    assert!(
        e.message
            .starts_with("tools.0.type: server tool 'web_search_20250305'"),
        "{}",
        e.message
    );
    let parsed = parse_messages_request(
        json!({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "x"}],
               "tools": [{"name": "f"}]})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(
        to_chat_request(&parsed).unwrap_err().message,
        "tools.0.input_schema: Field required"
    );
}

fn usage(prompt: u64, completion: u64, cached: u64) -> Usage {
    let mut u = Usage::from_tokens(&sy_core::TokenUsage {
        prompt,
        completion,
        cached,
        ..sy_core::TokenUsage::default()
    });
    u.normalize();
    u
}

fn response(message: ResponseMessage, finish: FinishReason) -> ChatResponse {
    let mut r = ChatResponse::new(
        "chatcmpl-x",
        1,
        "backend",
        vec![Choice {
            index: 0,
            message,
            logprobs: None,
            finish_reason: Some(finish),
        }],
    );
    r.usage = Some(usage(30, 7, 10));
    r
}

#[test]
fn text_response() {
    let got = from_chat_response(
        &response(ResponseMessage::text("Hello!"), FinishReason::Stop),
        "msg_r1",
        "claude-x",
    );
    assert_eq!(
        serde_json::to_value(got).unwrap(),
        json!({
            "id": "msg_r1", "type": "message", "role": "assistant", "model": "claude-x",
            "content": [{"type": "text", "text": "Hello!"}],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 20, "output_tokens": 7,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 10,
                      "cache_creation": {"ephemeral_1h_input_tokens": 0,
                                         "ephemeral_5m_input_tokens": 0}}
        })
    );
}

#[test]
fn tool_use_response() {
    let mut message = ResponseMessage::tool_calls(vec![
        ToolCall {
            id: "call_1".into(),
            kind: "function".into(),
            function: FunctionCall {
                name: "get_weather".into(),
                arguments: "{\"city\":\"Paris\"}".into(),
            },
        },
        ToolCall {
            id: "call_2".into(),
            kind: "function".into(),
            function: FunctionCall {
                name: "noop".into(),
                arguments: String::new(),
            },
        },
    ]);
    message.content = Some("Let me check.".into());
    let got = from_chat_response(&response(message, FinishReason::ToolCalls), "msg_r", "m");
    let got = serde_json::to_value(got).unwrap();
    assert_eq!(
        got["content"],
        json!([
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "call_2", "name": "noop", "input": {}}
        ])
    );
    assert_eq!(got["stop_reason"], "tool_use");
}

#[test]
fn stop_reasons() {
    let reason = |finish, extra: Value| {
        let mut message = ResponseMessage::text("x");
        if let Value::Object(map) = extra {
            message.extra = map;
        }
        let got = from_chat_response(&response(message, finish), "i", "m");
        (got.stop_reason, got.stop_sequence)
    };
    assert_eq!(
        reason(FinishReason::Stop, json!({})),
        (Some(StopReason::EndTurn), None)
    );
    assert_eq!(
        reason(FinishReason::Length, json!({})),
        (Some(StopReason::MaxTokens), None)
    );
    assert_eq!(
        reason(FinishReason::Stop, json!({"stop_sequence": "END"})),
        (Some(StopReason::StopSequence), Some("END".into()))
    );
    assert_eq!(
        reason(FinishReason::ToolCalls, json!({})),
        (Some(StopReason::ToolUse), None)
    );
    assert_eq!(
        reason(FinishReason::ContentFilter, json!({})),
        (Some(StopReason::Refusal), None)
    );
}

#[test]
fn empty_answer_and_odd_arguments() {
    let mut message = ResponseMessage::text("");
    message.content = None;
    let mut r = response(message, FinishReason::Length);
    r.usage = None;
    let got = serde_json::to_value(from_chat_response(&r, "i", "m")).unwrap();
    assert_eq!(got["content"], json!([{"type": "text", "text": ""}]));
    assert_eq!(got["usage"], json!({"input_tokens": 0, "output_tokens": 0}));
    assert_eq!(tool_input("{\"a\":"), json!("{\"a\":"));
    assert_eq!(tool_input("[1]"), json!([1]));
}

// ---- stream encoder ----

fn chunk(delta: Delta, finish: Option<FinishReason>) -> ChatChunk {
    ChatChunk::new(
        "c",
        1,
        "backend",
        vec![ChunkChoice {
            index: 0,
            delta,
            logprobs: None,
            finish_reason: finish,
        }],
    )
}

fn text(piece: &str) -> ChatChunk {
    chunk(
        Delta {
            content: Some(piece.into()),
            ..Delta::default()
        },
        None,
    )
}

fn usage_chunk(prompt: u64, completion: u64) -> ChatChunk {
    let mut c = ChatChunk::new("c", 1, "backend", vec![]);
    c.usage = Some(usage(prompt, completion, 0));
    c
}

/// Run chunks through an encoder; the events as JSON, each paired with the
/// SSE event name it is sent under.
fn encode_all(chunks: &[ChatChunk], error: Option<ErrorDetail>) -> Vec<Value> {
    let mut enc = StreamEncoder::new("msg_s", "claude-x", 12);
    let mut events = enc.start();
    for c in chunks {
        events.extend(enc.push(c));
    }
    match error {
        Some(e) => events.extend(enc.error(e)),
        None => events.extend(enc.finish()),
    }
    // After the end nothing more comes out.
    assert!(enc.finish().is_empty());
    assert!(enc.push(&text("late")).is_empty());
    events
        .iter()
        .map(|e| {
            let sse = String::from_utf8(encode_event(e).to_vec()).unwrap();
            let (head, data) = sse.split_once('\n').unwrap();
            assert_eq!(head, format!("event: {}", e.name()));
            let data = data.strip_prefix("data: ").unwrap().trim_end();
            let value: Value = serde_json::from_str(data).unwrap();
            assert_eq!(value["type"], e.name());
            value
        })
        .collect()
}

#[test]
fn text_stream_exact_events() {
    let role = chunk(
        Delta {
            role: Some(crate::chat::Role::Assistant),
            content: Some(String::new()),
            ..Delta::default()
        },
        None,
    );
    let got = encode_all(
        &[
            role,
            text("Hel"),
            text("lo"),
            chunk(Delta::default(), Some(FinishReason::Stop)),
            usage_chunk(12, 2),
        ],
        None,
    );
    assert_eq!(
        got,
        vec![
            json!({"type": "message_start", "message": {
                "id": "msg_s", "type": "message", "role": "assistant", "model": "claude-x",
                "content": [], "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": 12, "output_tokens": 0,
                          "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                          "cache_creation": {"ephemeral_1h_input_tokens": 0,
                                             "ephemeral_5m_input_tokens": 0}}}}),
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "lo"}}),
            json!({"type": "content_block_stop", "index": 0}),
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null},
                   "usage": {"output_tokens": 2, "input_tokens": 12,
                             "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}),
            json!({"type": "message_stop"}),
        ]
    );
}

fn tool_piece(id: Option<&str>, name: Option<&str>, args: &str) -> ChatChunk {
    chunk(
        Delta {
            tool_calls: Some(vec![ToolCallDelta {
                index: 0,
                id: id.map(str::to_owned),
                kind: id.map(|_| "function".to_owned()),
                function: Some(FunctionCallDelta {
                    name: name.map(str::to_owned),
                    arguments: Some(args.to_owned()),
                }),
            }]),
            ..Delta::default()
        },
        None,
    )
}

#[test]
fn tool_call_stream_exact_events() {
    let got = encode_all(
        &[
            text("Checking."),
            tool_piece(Some("call_9"), Some("get_weather"), ""),
            tool_piece(None, None, "{\"city\":"),
            tool_piece(None, None, "\"Paris\"}"),
            chunk(Delta::default(), Some(FinishReason::ToolCalls)),
            usage_chunk(12, 9),
        ],
        None,
    );
    let names: Vec<&str> = got.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert_eq!(
        got[4],
        json!({"type": "content_block_start", "index": 1,
               "content_block": {"type": "tool_use", "id": "call_9", "name": "get_weather", "input": {}}})
    );
    assert_eq!(
        got[5],
        json!({"type": "content_block_delta", "index": 1,
               "delta": {"type": "input_json_delta", "partial_json": "{\"city\":"}})
    );
    assert_eq!(got[6]["delta"]["partial_json"], "\"Paris\"}");
    assert_eq!(got[7], json!({"type": "content_block_stop", "index": 1}));
    assert_eq!(got[8]["delta"]["stop_reason"], "tool_use");
    assert_eq!(got[8]["usage"]["output_tokens"], 9);
}

#[test]
fn stream_ended_by_an_error() {
    let got = encode_all(
        &[text("Hel")],
        Some(ErrorDetail::for_status(529, "Overloaded")),
    );
    let names: Vec<&str> = got.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "error"
        ]
    );
    assert_eq!(
        got[3],
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    );
}

#[test]
fn stream_without_finish_or_usage_still_closes() {
    let got = encode_all(&[text("a")], None);
    let names: Vec<&str> = got.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert_eq!(
        got[4],
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null},
               "usage": {"output_tokens": 0}})
    );
}

#[test]
fn empty_stream_has_one_empty_block_and_stop_sequence() {
    let mut finish = Delta::default();
    finish
        .extra
        .insert("stop_sequence".into(), Value::from("END"));
    let got = encode_all(&[chunk(finish, Some(FinishReason::Stop))], None);
    let names: Vec<&str> = got.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert_eq!(
        got[3]["delta"],
        json!({"stop_reason": "stop_sequence", "stop_sequence": "END"})
    );
}
