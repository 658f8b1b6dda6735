//! Whole upstream response → canonical response.
//!
//! Input: `fixtures/responses/<provider>/<scenario>.json`, a response body
//! as the provider documents it. Snapshot: `<scenario>.expected.json`.

use serde_json::json;

use crate::golden::{check, fixture, kind_named, read, report};

fn providers_with_fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixture("responses"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn response_goldens() {
    let mut failures = Vec::new();
    for provider in providers_with_fixtures() {
        let adapter = kind_named(&provider).adapter();
        for input in crate::golden::inputs(&format!("responses/{provider}"), ".json") {
            let got = match adapter.chat_response(&read(&input)) {
                Ok(response) => serde_json::to_value(response).unwrap(),
                Err(e) => json!({"error": e.to_string()}),
            };
            let snapshot = input.with_extension("expected.json");
            failures.extend(check(&snapshot, &got));
        }
    }
    report(failures);
}

#[test]
fn malformed_bodies_are_provider_faults() {
    for provider in [
        "openai",
        "azure",
        "anthropic",
        "mistral",
        "ollama",
        "bedrock",
        "gemini",
        "cohere",
    ] {
        let adapter = kind_named(provider).adapter();
        for body in [&b"<html>502 Bad Gateway</html>"[..], b"{\"id\":", b"{}"] {
            let error = adapter.chat_response(body).unwrap_err();
            assert!(
                matches!(error, sy_providers::TranslateError::Malformed { .. }),
                "{provider}: {error:?}"
            );
            assert!(!error.is_client_error());
        }
    }
}

#[test]
fn usage_conventions() {
    // Anthropic: input excludes cache reads and writes; canonical prompt
    // includes them, cached = reads.
    let body = json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude",
        "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 10, "cache_read_input_tokens": 100,
                  "cache_creation_input_tokens": 5, "output_tokens": 7}
    });
    let response = kind_named("anthropic")
        .adapter()
        .chat_response(body.to_string().as_bytes())
        .unwrap();
    let tokens = response.usage.unwrap().to_tokens();
    assert_eq!(
        (tokens.prompt, tokens.cached, tokens.completion),
        (115, 100, 7)
    );
    // Writes are counted apart from reads, the one-hour ones among them.
    assert_eq!((tokens.cache_write, tokens.cache_write_long), (5, 0));
    let body = json!({
        "id": "msg_2", "type": "message", "role": "assistant", "model": "claude",
        "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 10, "cache_read_input_tokens": 100,
                  "cache_creation_input_tokens": 50, "output_tokens": 7,
                  "cache_creation": {"ephemeral_5m_input_tokens": 20, "ephemeral_1h_input_tokens": 30}}
    });
    assert_eq!(input_counts("anthropic", &body), (160, 100, 50, 30));
    // Bedrock reports writes too, by lifetime in `cacheDetails` when it
    // has them.
    let body = json!({
        "output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 10, "outputTokens": 7, "totalTokens": 0,
                  "cacheReadInputTokens": 100, "cacheWriteInputTokens": 40}
    });
    assert_eq!(input_counts("bedrock", &body), (150, 100, 40, 0));
    let body = json!({
        "output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 10, "outputTokens": 7, "totalTokens": 0,
                  "cacheReadInputTokens": 100, "cacheWriteInputTokens": 40,
                  "cacheDetails": [{"ttl": "1h", "inputTokens": 30}, {"ttl": "5m", "inputTokens": 10}]}
    });
    assert_eq!(input_counts("bedrock", &body), (150, 100, 40, 30));
}

/// `(prompt, cached, cache_write, cache_write_long)` of [`tokens_of`].
fn input_counts(kind: &str, body: &serde_json::Value) -> (u64, u64, u64, u64) {
    let t = tokens_of(kind, body);
    (t.prompt, t.cached, t.cache_write, t.cache_write_long)
}

/// The gateway's counts of a whole answer `body` from a provider of `kind`.
fn tokens_of(kind: &str, body: &serde_json::Value) -> sy_core::TokenUsage {
    kind_named(kind)
        .adapter()
        .chat_response(body.to_string().as_bytes())
        .unwrap()
        .usage
        .unwrap()
        .to_tokens()
}
