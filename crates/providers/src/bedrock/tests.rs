//! Golden tests live in `tests/it/`; these cover what fixtures cannot:
//! SigV4 against the signer's published vector, model id encoding, and
//! binary event streams (built here from JSON payloads) split at every
//! byte, with a bad-CRC frame.

use std::time::{Duration, UNIX_EPOCH};

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;

use super::{auth, encode_segment, stream::BedrockStream};
use crate::{AwsCredentials, Credential, StreamDecoder, TranslateError};

/// `aws-sigv4`'s own `test_sign_headers_utf8` vector (credentials
/// `ANOTREAL`, 2015-08-30T12:36:00Z, region us-east-1, service `service`).
#[test]
fn sigv4_matches_the_signer_vector() {
    let mut request = http::Request::builder()
        .uri("https://some-endpoint.some-region.amazonaws.com")
        .header(
            "some-header",
            http::HeaderValue::from_str("テスト").unwrap(),
        )
        .body(Bytes::new())
        .unwrap();
    let aws = AwsCredentials {
        access_key_id: Credential::new("ANOTREAL"),
        secret_access_key: Credential::new("notrealrnrELgWzOk3IfjzDKtFBhDby"),
        session_token: None,
    };
    let time = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
    auth::sign_request(&mut request, &aws, "us-east-1", "service", time).unwrap();
    let authorization = request.headers()["authorization"].clone();
    assert!(authorization.is_sensitive());
    assert_eq!(
        authorization.to_str().unwrap(),
        "AWS4-HMAC-SHA256 Credential=ANOTREAL/20150830/us-east-1/service/aws4_request, \
         SignedHeaders=host;some-header;x-amz-date, \
         Signature=55e16b31f9bde5fd04f9d3b780dd2b5e5f11a5219001f91a8ca9ec83eaf1618f"
    );
    assert_eq!(request.headers()["x-amz-date"], "20150830T123600Z");
}

#[test]
fn model_ids_are_one_encoded_segment() {
    assert_eq!(
        encode_segment("anthropic.claude-3-haiku-20240307-v1:0"),
        "anthropic.claude-3-haiku-20240307-v1%3A0"
    );
    assert_eq!(
        encode_segment("arn:aws:bedrock:us-east-1:1:inference-profile/x"),
        "arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fx"
    );
}

/// One event stream message.
fn frame(message_type: &str, kind: &str, payload: &str) -> Vec<u8> {
    let type_header = if message_type == "exception" {
        ":exception-type"
    } else {
        ":event-type"
    };
    let message = Message::new(Bytes::from(payload.to_owned()))
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String(message_type.to_owned().into()),
        ))
        .add_header(Header::new(
            type_header,
            HeaderValue::String(kind.to_owned().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ));
    let mut out = Vec::new();
    write_message_to(&message, &mut out).unwrap();
    out
}

fn tool_stream() -> Vec<u8> {
    [
        frame("event", "messageStart", r#"{"role":"assistant","p":"abc"}"#),
        frame("event", "contentBlockDelta", r#"{"contentBlockIndex":0,"delta":{"text":"Checking é."}}"#),
        frame("event", "contentBlockStop", r#"{"contentBlockIndex":0}"#),
        frame("event", "contentBlockStart", r#"{"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"tu_1","name":"get_weather"}}}"#),
        frame("event", "contentBlockDelta", r#"{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"city\":"}}}"#),
        frame("event", "contentBlockDelta", r#"{"contentBlockIndex":1,"delta":{"toolUse":{"input":"\"Paris\"}"}}}"#),
        frame("event", "contentBlockStop", r#"{"contentBlockIndex":1}"#),
        frame("event", "messageStop", r#"{"stopReason":"tool_use"}"#),
        frame("event", "metadata", r#"{"usage":{"inputTokens":10,"outputTokens":5,"totalTokens":115,"cacheReadInputTokens":100},"metrics":{"latencyMs":1}}"#),
    ]
    .concat()
}

fn decode(pieces: &[&[u8]]) -> serde_json::Value {
    let mut decoder = BedrockStream::default();
    let mut chunks = Vec::new();
    for piece in pieces {
        match decoder.push(piece) {
            Ok(got) => chunks.extend(got),
            Err(e) => return serde_json::json!({"chunks": chunks, "error": e.to_string()}),
        }
    }
    match decoder.finish() {
        Ok(got) => chunks.extend(got),
        Err(e) => return serde_json::json!({"chunks": chunks, "error": e.to_string()}),
    }
    serde_json::json!({"chunks": chunks, "error": null})
}

#[test]
fn event_stream_decodes_split_anywhere() {
    let bytes = tool_stream();
    let whole = decode(&[&bytes]);
    assert!(whole["error"].is_null(), "{whole}");
    let chunks = whole["chunks"].as_array().unwrap();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(chunks[1]["choices"][0]["delta"]["content"], "Checking é.");
    let call = &chunks[2]["choices"][0]["delta"]["tool_calls"][0];
    assert_eq!(
        (call["id"].as_str(), call["function"]["name"].as_str()),
        (Some("tu_1"), Some("get_weather"))
    );
    let args: String = chunks[3..5]
        .iter()
        .map(|c| {
            c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(args, r#"{"city":"Paris"}"#);
    assert_eq!(chunks[5]["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(chunks[6]["usage"]["prompt_tokens"], 110);
    assert_eq!(
        chunks[6]["usage"]["prompt_tokens_details"]["cached_tokens"],
        100
    );
    assert_eq!(chunks.len(), 7);
    for cut in 0..=bytes.len() {
        let (a, b) = bytes.split_at(cut);
        assert_eq!(decode(&[a, b]), whole, "split at {cut}");
    }
    let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
    assert_eq!(decode(&bytewise), whole);
    // Cut in the middle: an error, not a silent end.
    let cut = decode(&[&bytes[..bytes.len() / 2]]);
    assert!(
        cut["error"].as_str().unwrap().contains("ended before"),
        "{cut}"
    );
}

#[test]
fn a_bad_crc_is_malformed() {
    let mut bytes = frame("event", "messageStart", r#"{"role":"assistant"}"#);
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    let mut decoder = BedrockStream::default();
    let error = decoder.push(&bytes).unwrap_err();
    assert!(
        matches!(error, TranslateError::Malformed { .. }),
        "{error:?}"
    );
}

#[test]
fn exceptions_are_classified_errors() {
    let bytes = [
        frame("event", "messageStart", r#"{"role":"assistant"}"#),
        frame(
            "exception",
            "throttlingException",
            r#"{"message":"Too many tokens."}"#,
        ),
    ]
    .concat();
    let mut decoder = BedrockStream::default();
    let first = decoder.push(&bytes).unwrap();
    assert_eq!(first.len(), 1);
    let Err(TranslateError::Upstream(error)) = decoder.push(&[]) else {
        panic!("expected the exception");
    };
    assert_eq!((error.status, error.kind.as_str()), (429, "rate_limit"));
    assert_eq!(error.message, "Too many tokens.");
    let validation = frame("exception", "validationException", r#"{"message":"bad"}"#);
    let Err(TranslateError::Upstream(error)) = BedrockStream::default().push(&validation) else {
        panic!("expected the exception");
    };
    assert_eq!(error.kind.as_str(), "invalid_request");
}

/// Breakpoints become `cachePoint` checkpoints after the system part, the
/// message part and the tool they mark, for models that take them; other
/// models get the same request without any.
#[test]
fn breakpoints_become_cache_points_for_models_that_take_them() {
    let req: sy_llm::ChatRequest = serde_json::from_value(serde_json::json!({
        "model": "m",
        "messages": [
            {"role": "system", "content": [
                {"type": "text", "text": "Rules."},
                {"type": "text", "text": "MANUAL", "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "Today is Monday."}
            ]},
            {"role": "user", "content": [
                {"type": "text", "text": "Earlier turns.", "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "Reset?"}
            ]}
        ],
        "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}},
                   "cache_control": {"type": "ephemeral"}}]
    }))
    .unwrap();
    let endpoint =
        crate::ProviderEndpoint::new("b", "https://bedrock-runtime.us-east-1.amazonaws.com");
    let point = serde_json::json!({"cachePoint": {"type": "default"}});
    let body = serde_json::to_value(super::request::build(&endpoint, &req, true).unwrap()).unwrap();
    assert_eq!(
        body["system"],
        serde_json::json!([{"text": "Rules."}, {"text": "MANUAL"}, point, {"text": "Today is Monday."}])
    );
    assert_eq!(
        body["messages"][0]["content"],
        serde_json::json!([{"text": "Earlier turns."}, point, {"text": "Reset?"}])
    );
    assert_eq!(body["toolConfig"]["tools"][1], point);
    assert_eq!(body["toolConfig"]["tools"][0]["toolSpec"]["name"], "lookup");

    let body =
        serde_json::to_value(super::request::build(&endpoint, &req, false).unwrap()).unwrap();
    assert_eq!(
        body["system"],
        serde_json::json!([{"text": "Rules.\nMANUAL\nToday is Monday."}])
    );
    assert!(!body.to_string().contains("cachePoint"), "{body}");
}

/// A breakpoint's lifetime reaches its checkpoint when Bedrock knows it
/// (`5m`, `1h`), wherever the checkpoint is; an unknown one, or none, is
/// left out (Bedrock's default), and lifetimes are kept in the client's
/// order even where Bedrock will refuse it.
#[test]
fn breakpoint_lifetimes_reach_their_cache_points() {
    let hour = serde_json::json!({"type": "ephemeral", "ttl": "1h"});
    let req: sy_llm::ChatRequest = serde_json::from_value(serde_json::json!({
        "model": "m",
        "messages": [
            {"role": "system", "content": [
                {"type": "text", "text": "MANUAL", "cache_control": hour}
            ]},
            {"role": "user", "content": [
                {"type": "text", "text": "A", "cache_control": {"type": "ephemeral", "ttl": "5m"}},
                {"type": "text", "text": "B", "cache_control": {"type": "ephemeral", "ttl": "10m"}},
                {"type": "text", "text": "C", "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "D", "cache_control": hour}
            ]}
        ],
        "tools": [{"type": "function", "function": {"name": "lookup"}, "cache_control": hour}]
    }))
    .unwrap();
    let endpoint =
        crate::ProviderEndpoint::new("b", "https://bedrock-runtime.us-east-1.amazonaws.com");
    let body = serde_json::to_value(super::request::build(&endpoint, &req, true).unwrap()).unwrap();
    let point = |ttl: Option<&str>| match ttl {
        Some(ttl) => serde_json::json!({"cachePoint": {"type": "default", "ttl": ttl}}),
        None => serde_json::json!({"cachePoint": {"type": "default"}}),
    };
    assert_eq!(body["toolConfig"]["tools"][1], point(Some("1h")));
    assert_eq!(
        body["system"],
        serde_json::json!([{"text": "MANUAL"}, point(Some("1h"))])
    );
    assert_eq!(
        body["messages"][0]["content"],
        serde_json::json!([
            {"text": "A"}, point(Some("5m")),
            {"text": "B"}, point(None),
            {"text": "C"}, point(None),
            {"text": "D"}, point(Some("1h"))
        ])
    );
}

/// The stream's closing usage splits cache writes by lifetime as the
/// whole answer does: `cacheDetails`' one-hour writes are the long ones.
#[test]
fn stream_usage_counts_one_hour_writes_apart() {
    let metadata = r#"{"usage":{"inputTokens":10,"outputTokens":5,"totalTokens":0,"cacheReadInputTokens":0,"cacheWriteInputTokens":1500,"cacheDetails":[{"ttl":"1h","inputTokens":1000},{"ttl":"5m","inputTokens":500}]},"metrics":{"latencyMs":1}}"#;
    let bytes = [
        frame("event", "messageStart", r#"{"role":"assistant"}"#),
        frame(
            "event",
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"text":"Hi."}}"#,
        ),
        frame("event", "messageStop", r#"{"stopReason":"end_turn"}"#),
        frame("event", "metadata", metadata),
    ]
    .concat();
    let mut decoder = BedrockStream::default();
    let mut chunks = decoder.push(&bytes).unwrap();
    chunks.extend(decoder.finish().unwrap());
    let usage = chunks.last().and_then(|c| c.usage.clone()).unwrap();
    let tokens = usage.to_tokens();
    assert_eq!(
        (tokens.prompt, tokens.cache_write, tokens.cache_write_long),
        (1510, 1500, 1000)
    );
}

/// A marked image gets its checkpoint right after it, for models that take
/// them, as a marked text part does; other models get the image alone.
#[test]
fn an_image_breakpoint_becomes_a_cache_point_after_the_image() {
    let req: sy_llm::ChatRequest = serde_json::from_value(serde_json::json!({
        "model": "m",
        "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR"},
             "cache_control": {"type": "ephemeral", "ttl": "1h"}},
            {"type": "text", "text": "Describe it."}
        ]}]
    }))
    .unwrap();
    let endpoint =
        crate::ProviderEndpoint::new("b", "https://bedrock-runtime.us-east-1.amazonaws.com");
    let image = serde_json::json!({"image": {"format": "png", "source": {"bytes": "iVBOR"}}});
    let body = serde_json::to_value(super::request::build(&endpoint, &req, true).unwrap()).unwrap();
    assert_eq!(
        body["messages"][0]["content"],
        serde_json::json!([
            image,
            {"cachePoint": {"type": "default", "ttl": "1h"}},
            {"text": "Describe it."}
        ])
    );
    let body =
        serde_json::to_value(super::request::build(&endpoint, &req, false).unwrap()).unwrap();
    assert_eq!(
        body["messages"][0]["content"],
        serde_json::json!([image, {"text": "Describe it."}])
    );
}

/// Writes reported only by lifetime (the total is optional on the wire)
/// still count, and a total below its breakdown is raised to it, so no
/// written token goes unbilled.
#[test]
fn cache_writes_count_when_only_their_breakdown_is_given() {
    let tokens = |wire: &str| {
        let wire: super::wire::WireUsage = serde_json::from_str(wire).unwrap();
        let t = super::response::usage(&wire).to_tokens();
        (t.prompt, t.cache_write, t.cache_write_long)
    };
    let details = r#""cacheDetails":[{"ttl":"1h","inputTokens":30},{"ttl":"5m","inputTokens":10}]"#;
    assert_eq!(
        tokens(&format!(
            r#"{{"inputTokens":5,"outputTokens":1,{details}}}"#
        )),
        (45, 40, 30)
    );
    assert_eq!(
        tokens(&format!(
            r#"{{"inputTokens":5,"outputTokens":1,"cacheWriteInputTokens":20,{details}}}"#
        )),
        (45, 40, 30)
    );
    assert_eq!(
        tokens(r#"{"inputTokens":5,"outputTokens":1,"cacheWriteInputTokens":20}"#),
        (25, 20, 0)
    );
}

/// A tool result's breakpoint becomes a checkpoint right after the result
/// block (none can sit inside it), for models that take them; two results
/// answering one turn share the user turn, each followed by its own.
#[test]
fn a_tool_results_breakpoint_follows_the_result() {
    let req: sy_llm::ChatRequest = serde_json::from_value(serde_json::json!({
        "model": "m",
        "messages": [
            {"role": "user", "content": "Look both up."},
            {"role": "assistant", "tool_calls": [
                {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                {"id": "b", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "a", "content": [
                {"type": "text", "text": "long result", "cache_control": {"type": "ephemeral"}}]},
            {"role": "tool", "tool_call_id": "b", "content": "short"}
        ]
    }))
    .unwrap();
    let endpoint =
        crate::ProviderEndpoint::new("b", "https://bedrock-runtime.us-east-1.amazonaws.com");
    let result = |id: &str, text: &str| serde_json::json!({"toolResult": {"toolUseId": id, "content": [{"text": text}]}});
    let body = serde_json::to_value(super::request::build(&endpoint, &req, true).unwrap()).unwrap();
    assert_eq!(
        body["messages"][2]["content"],
        serde_json::json!([
            result("a", "long result"),
            {"cachePoint": {"type": "default"}},
            result("b", "short")
        ])
    );
    let body =
        serde_json::to_value(super::request::build(&endpoint, &req, false).unwrap()).unwrap();
    assert_eq!(
        body["messages"][2]["content"],
        serde_json::json!([result("a", "long result"), result("b", "short")])
    );
}

/// An inline file becomes a document block named after the file (cleaned
/// to the characters Converse allows, with the part's place), followed by
/// its checkpoint for models that take them; in a tool's result it stays
/// inside the result, its checkpoint after the result.
#[test]
fn files_become_documents_with_their_checkpoints() {
    let req: sy_llm::ChatRequest = serde_json::from_value(serde_json::json!({
        "model": "m",
        "messages": [
            {"role": "user", "content": [
                {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBER",
                                          "filename": "Q3  report_v2.final.pdf"},
                 "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "Summarise it."}
            ]},
            {"role": "assistant", "tool_calls": [{"id": "t1", "type": "function",
                "function": {"name": "read", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "t1", "content": [
                {"type": "file", "file": {"file_data": "data:text/csv;base64,YSxi"},
                 "cache_control": {"type": "ephemeral"}}
            ]}
        ]
    }))
    .unwrap();
    let endpoint =
        crate::ProviderEndpoint::new("b", "https://bedrock-runtime.us-east-1.amazonaws.com");
    let body = serde_json::to_value(super::request::build(&endpoint, &req, true).unwrap()).unwrap();
    assert_eq!(
        body["messages"][0]["content"],
        serde_json::json!([
            {"document": {"format": "pdf", "name": "Q3 report v2 final (0-0)", "source": {"bytes": "JVBER"}}},
            {"cachePoint": {"type": "default"}},
            {"text": "Summarise it."}
        ])
    );
    assert_eq!(
        body["messages"][2]["content"],
        serde_json::json!([
            {"toolResult": {"toolUseId": "t1", "content": [
                {"document": {"format": "csv", "name": "document (2-0)", "source": {"bytes": "YSxi"}}}
            ]}},
            {"cachePoint": {"type": "default"}}
        ])
    );
    let audio: sy_llm::ChatRequest = serde_json::from_value(serde_json::json!({
        "model": "m",
        "messages": [{"role": "user", "content": [
            {"type": "file", "file": {"file_data": "data:audio/wav;base64,UklG"}}
        ]}]
    }))
    .unwrap();
    let error = super::request::build(&endpoint, &audio, true).unwrap_err();
    assert!(error.is_client_error());
    assert!(error.to_string().contains("not audio/wav"), "{error}");
}
