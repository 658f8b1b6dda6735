//! Golden tests live in `tests/golden.rs`; these cover what fixtures cannot.

use sy_llm::ChatRequest;

use super::request::{body, body_json};

/// The request encoded with its `model` spliced equals the copy-and-encode
/// it replaces, for requests with and without streaming, usage options,
/// extension fields and names that need escaping.
#[test]
fn the_spliced_body_equals_the_copied_one() {
    let requests = [
        r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#,
        r#"{"model":"bench-model","messages":[{"role":"system","content":"be \"terse\""},{"role":"user","content":"héllo\n"}],"max_tokens":32}"#,
        r#"{"model":"a\"b\\c","messages":[{"role":"user","content":"x"}],"stream":true}"#,
        r#"{"model":"\u0001\\\"\u001f","messages":[{"role":"user","content":"x"}]}"#,
        r#"{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":true}}"#,
        r#"{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":false,"x":1}}"#,
        r#"{"model":"m","messages":[{"role":"user","content":"x"}],"stream":false,"metadata":{"k":"v"},"service_tier":"flex"}"#,
        r#"{"model":"","messages":[{"role":"user","content":[{"type":"text","text":"t"}]}],"tools":[{"type":"function","function":{"name":"f","parameters":{}}}]}"#,
    ];
    for text in requests {
        let req: ChatRequest = serde_json::from_str(text).expect("a valid request");
        for model in ["gpt-4o-mini", "real \"model\" ✓", ""] {
            for usage_option in [true, false] {
                let spliced = body_json(&req, model, usage_option).expect("encodes");
                let copied = serde_json::to_vec(&body(&req, model, usage_option)).expect("encodes");
                assert_eq!(
                    String::from_utf8_lossy(&spliced),
                    String::from_utf8_lossy(&copied),
                    "{text} -> {model} (usage option {usage_option})"
                );
            }
        }
    }
}

/// A text or image part's `cache_control` reaches compatible servers
/// (OpenRouter and LiteLLM map it to Anthropic's breakpoints) and not
/// OpenAI, which refuses it; the part's other members reach both.
#[test]
fn cache_control_goes_to_compatible_servers_only() {
    use crate::{ProviderAdapter, ProviderEndpoint};

    let req: ChatRequest = serde_json::from_str(
        r#"{"model":"m","messages":[{"role":"user","content":[
            {"type":"text","text":"long","cache_control":{"type":"ephemeral"},"x_hint":1},
            {"type":"image_url","image_url":{"url":"https://example.com/a.png"},"cache_control":{"type":"ephemeral"}},
            {"type":"text","text":"short"},
            {"type":"file","file":{"file_id":"file-1"},"cache_control":{"type":"ephemeral"}}]}]}"#,
    )
    .expect("a valid request");
    let endpoint = ProviderEndpoint::new("p", "http://127.0.0.1:9/v1");
    let parts = |adapter: super::OpenAi| {
        let request = adapter
            .chat_request(&endpoint, &req, "real")
            .expect("translates");
        let body: serde_json::Value = serde_json::from_slice(request.body()).expect("JSON");
        body["messages"][0]["content"].clone()
    };
    let image =
        serde_json::json!({"type":"image_url","image_url":{"url":"https://example.com/a.png"}});
    let mut marked = image.clone();
    marked["cache_control"] = serde_json::json!({"type":"ephemeral"});
    let compatible = parts(super::OpenAi::COMPATIBLE);
    assert_eq!(
        compatible[0],
        serde_json::json!({"type":"text","text":"long","cache_control":{"type":"ephemeral"},"x_hint":1})
    );
    assert_eq!(compatible[1], marked);
    let official = parts(super::OpenAi::OFFICIAL);
    assert_eq!(
        official[0],
        serde_json::json!({"type":"text","text":"long","x_hint":1})
    );
    assert_eq!(official[1], image);
    let file = serde_json::json!({"type":"file","file":{"file_id":"file-1"}});
    let mut marked_file = file.clone();
    marked_file["cache_control"] = serde_json::json!({"type":"ephemeral"});
    assert_eq!((&compatible[3], &official[3]), (&marked_file, &file));
    // A file part's breakpoint alone marks the request too (so OpenAI's
    // body is re-encoded without it rather than sent as the client wrote).
    let only_file: ChatRequest = serde_json::from_value(serde_json::json!(
        {"model": "m", "messages": [{"role": "user", "content": [marked_file]}]}))
    .expect("a valid request");
    assert!(only_file.asks_for_prompt_cache());
}
