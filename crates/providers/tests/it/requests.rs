//! Canonical request → upstream request, per provider.
//!
//! Input: `fixtures/requests/<scenario>.json` (a canonical request as a
//! client sends it). Snapshot: `fixtures/requests/<scenario>.to.<provider>.json`
//! holding the method, URL, headers and body, or the translation error.

use serde_json::{Value, json};
use sy_llm::ChatRequest;
use sy_providers::{TranslateError, UnsupportedParams};

use crate::golden::{check, fixture, inputs, providers, read_json, report};

fn translate(
    kind: sy_providers::ProviderKind,
    endpoint: &sy_providers::ProviderEndpoint,
    req: &ChatRequest,
) -> Value {
    match kind.adapter().chat_request(endpoint, req, "real-model") {
        Ok(request) => {
            let mut headers = serde_json::Map::new();
            for (name, value) in request.headers() {
                headers.insert(name.as_str().to_owned(), json!(value.to_str().unwrap()));
            }
            let body: Value = serde_json::from_slice(request.body()).unwrap();
            json!({
                "method": request.method().as_str(),
                "url": request.uri().to_string(),
                "headers": headers,
                "body": body,
            })
        }
        Err(e) => json!({"error": e.to_string(), "client_error": e.is_client_error()}),
    }
}

#[test]
fn request_goldens() {
    let mut failures = Vec::new();
    for input in inputs("requests", ".json") {
        let req: ChatRequest = serde_json::from_value(read_json(&input))
            .unwrap_or_else(|e| panic!("{}: {e}", input.display()));
        let scenario = input.file_stem().unwrap().to_string_lossy().into_owned();
        for (name, kind, endpoint) in providers() {
            let got = translate(kind, &endpoint, &req);
            let snapshot = fixture(&format!("requests/{scenario}.to.{name}.json"));
            failures.extend(check(&snapshot, &got));
        }
    }
    report(failures);
}

#[test]
fn credentials_are_sensitive_headers() {
    let req: ChatRequest =
        serde_json::from_value(read_json(&fixture("requests/plain.json"))).unwrap();
    for (name, kind, endpoint) in providers() {
        let request = kind.adapter().chat_request(&endpoint, &req, "m").unwrap();
        let secret: Vec<_> = request
            .headers()
            .iter()
            .filter(|(_, v)| v.to_str().unwrap().contains("sk-test"))
            .collect();
        assert_eq!(secret.len(), 1, "{name}: one credential header");
        assert!(
            secret[0].1.is_sensitive(),
            "{name}: {} not sensitive",
            secret[0].0
        );
    }
}

#[test]
fn refuse_policy_names_the_parameter_and_provider() {
    let req: ChatRequest =
        serde_json::from_value(read_json(&fixture("requests/stream.json"))).unwrap();
    let expectations = [
        (
            "anthropic",
            "parameter `presence_penalty` is not supported by provider anthropic",
        ),
        (
            "mistral",
            "parameter `user` is not supported by provider mistral",
        ),
        (
            "ollama",
            "parameter `user` is not supported by provider ollama",
        ),
        (
            "bedrock",
            "parameter `presence_penalty` is not supported by provider bedrock",
        ),
        (
            "gemini",
            "parameter `user` is not supported by provider gemini",
        ),
        (
            "cohere",
            "parameter `user` is not supported by provider cohere",
        ),
    ];
    for (name, kind, mut endpoint) in providers() {
        endpoint.unsupported_params = UnsupportedParams::Refuse;
        let result = kind.adapter().chat_request(&endpoint, &req, "m");
        match expectations.iter().find(|(n, _)| *n == name) {
            Some((_, message)) => {
                let error = result.unwrap_err();
                assert!(
                    matches!(error, TranslateError::Unsupported { .. }),
                    "{name}"
                );
                assert_eq!(error.to_string(), *message);
            }
            None => assert!(result.is_ok(), "{name} takes every parameter"),
        }
    }
}
