//! Whole upstream response → canonical response.
//!
//! Input: `fixtures/responses/<provider>/<scenario>.json`, a response body
//! as the provider documents it. Snapshot: `<scenario>.expected.json`.

use serde_json::{Value, json};

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
    let _: Value = body;
}
