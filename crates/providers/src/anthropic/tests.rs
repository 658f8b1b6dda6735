//! Golden tests live in `tests/golden.rs`; these cover what fixtures cannot.

use serde_json::{Value, json};

use crate::ProviderEndpoint;

fn body(request: Value) -> Result<Value, crate::TranslateError> {
    let req: sy_llm::ChatRequest = serde_json::from_value(request).unwrap();
    let endpoint = ProviderEndpoint::new("a", "https://api.anthropic.com");
    super::request::build(&endpoint, &req, "claude-sonnet-4-5")
        .map(|wire| serde_json::to_value(wire).unwrap())
}

fn file(media_type: &str, data: &str) -> Value {
    json!({"type": "file", "file": {"file_data": format!("data:{media_type};base64,{data}")}})
}

/// A document in a tool's result sits inside the `tool_result` block, and
/// its breakpoint moves onto the result, as a text part's does: Anthropic
/// refuses one inside a result's content.
#[test]
fn a_document_in_a_tool_result_moves_its_breakpoint_onto_the_result() {
    let mut pdf = file("application/pdf", "JVBER");
    pdf["cache_control"] = json!({"type": "ephemeral"});
    let got = body(json!({"model": "m", "messages": [
        {"role": "assistant", "tool_calls": [{"id": "t1", "type": "function",
            "function": {"name": "read", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "t1", "content": [pdf]}
    ]}))
    .unwrap();
    assert_eq!(
        got["messages"][1]["content"][0],
        json!({"type": "tool_result", "tool_use_id": "t1",
               "cache_control": {"type": "ephemeral"},
               "content": [{"type": "document",
                            "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBER"}}]})
    );
}

/// Files Anthropic cannot read, and text that is not base64 of UTF-8, are
/// refused as the client's error naming the part; a file by id too.
#[test]
fn files_anthropic_cannot_read_are_refused_naming_the_part() {
    for (part, says) in [
        (file("image/png", "iVBOR"), "not image/png"),
        (file("text/plain", "%%%"), "UTF-8 text in base64"),
        (file("text/plain", "//79"), "UTF-8 text in base64"),
        (
            json!({"type": "file", "file": {"file_id": "file-abc"}}),
            "content[1].type",
        ),
    ] {
        let error = body(
            json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "text", "text": "Read this."}, part
            ]}]}),
        )
        .unwrap_err();
        assert!(error.is_client_error(), "{error}");
        let text = error.to_string();
        assert!(
            text.contains("messages[0].content[1]") && text.contains(says),
            "{text}"
        );
    }
}

/// Plain text sent as a file becomes a text document of the decoded text;
/// a media type's parameters and case do not stop it.
#[test]
fn a_text_file_becomes_a_text_document() {
    let got = body(
        json!({"model": "m", "messages": [{"role": "user", "content": [
            file("Text/Plain; charset=utf-8", "aGVsbG8gd29ybGQ=")
        ]}]}),
    )
    .unwrap();
    assert_eq!(
        got["messages"][0]["content"][0],
        json!({"type": "document",
               "source": {"type": "text", "media_type": "text/plain", "data": "hello world"}})
    );
}

/// A part of Anthropic's own (as `/v1/messages` keeps a block it does not
/// translate) goes to Anthropic exactly as it came; OpenAI's other part
/// types, which Anthropic has no form for, are still refused.
#[test]
fn anthropic_blocks_pass_through_and_openai_only_parts_do_not() {
    let by_url = json!({"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"},
                        "cache_control": {"type": "ephemeral"}});
    let search = json!({"type": "search_result", "source": "https://example.com", "title": "T",
                        "content": [{"type": "text", "text": "found"}]});
    let got = body(
        json!({"model": "m", "messages": [{"role": "user", "content": [
            by_url.clone(), search.clone(), {"type": "text", "text": "Use these."}
        ]}]}),
    )
    .unwrap();
    assert_eq!(
        got["messages"][0]["content"],
        json!([by_url, search, {"type": "text", "text": "Use these."}])
    );
    for part in [
        json!({"type": "input_audio", "input_audio": {"data": "UklG", "format": "wav"}}),
        json!({"type": "refusal", "refusal": "no"}),
        json!({"no_type": true}),
    ] {
        let error = body(json!({"model": "m", "messages": [{"role": "user", "content": [part]}]}))
            .unwrap_err();
        assert!(
            error.to_string().contains("messages[0].content[0].type"),
            "{error}"
        );
    }
}

/// A block of Anthropic's own in a tool's result stays inside the
/// `tool_result` block, its breakpoint moved onto the result as a text
/// part's is.
#[test]
fn anthropic_blocks_in_a_tool_result_stay_inside_it() {
    let search = json!({"type": "search_result", "source": "https://example.com/kb", "title": "KB",
                        "content": [{"type": "text", "text": "Hold the button."}]});
    let mut marked = search.clone();
    marked["cache_control"] = json!({"type": "ephemeral"});
    let got = body(json!({"model": "m", "messages": [
        {"role": "assistant", "tool_calls": [{"id": "t1", "type": "function",
            "function": {"name": "search", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "t1", "content": [{"type": "text", "text": "1 hit"}, marked]}
    ]}))
    .unwrap();
    assert_eq!(
        got["messages"][1]["content"][0],
        json!({"type": "tool_result", "tool_use_id": "t1",
               "cache_control": {"type": "ephemeral"},
               "content": [{"type": "text", "text": "1 hit"}, search]})
    );
}
