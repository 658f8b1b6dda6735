//! Upstream error answers → classified provider errors.
//!
//! Input: `fixtures/errors/<provider>/<scenario>.json` holding `status`,
//! `headers` and `body` (JSON, or a string sent as raw bytes). Snapshot:
//! `<scenario>.expected.json`.

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::{Value, json};

use crate::golden::{check, fixture, inputs, kind_named, read_json, report};

#[test]
fn error_goldens() {
    let mut failures = Vec::new();
    let mut providers: Vec<String> = std::fs::read_dir(fixture("errors"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    providers.sort();
    for provider in providers {
        let adapter = kind_named(&provider).adapter();
        for input in inputs(&format!("errors/{provider}"), ".json") {
            let case = read_json(&input);
            let status = StatusCode::from_u16(case["status"].as_u64().unwrap() as u16).unwrap();
            let mut headers = HeaderMap::new();
            for (name, value) in case["headers"].as_object().into_iter().flatten() {
                headers.insert(
                    HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    HeaderValue::from_str(value.as_str().unwrap()).unwrap(),
                );
            }
            let body = match &case["body"] {
                Value::String(text) => text.clone().into_bytes(),
                other => serde_json::to_vec(other).unwrap(),
            };
            let error = adapter.error(status, &headers, &body);
            let got = json!({
                "status": error.status,
                "kind": error.kind.as_str(),
                "retryable": error.kind.is_retryable(),
                "message": error.message,
                "code": error.code,
                "retry_after_ms": error.retry_after.map(|d| d.as_millis() as u64),
            });
            failures.extend(check(&input.with_extension("expected.json"), &got));
        }
    }
    report(failures);
}
