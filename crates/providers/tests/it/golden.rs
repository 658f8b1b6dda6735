//! Fixture loading, snapshot comparison and a readable JSON diff.

use std::path::{Path, PathBuf};

use serde_json::Value;
use sy_providers::{Credential, ProviderEndpoint, ProviderKind};

/// `tests/fixtures/<rel>`.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

pub fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&read(path))
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Files in `tests/fixtures/<dir>` ending in `ext` but not in
/// `.expected.json`, sorted.
pub fn inputs(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(fixture(dir))
        .unwrap_or_else(|e| panic!("listing {dir}: {e}"))
        .map(|entry| entry.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.ends_with(ext) && !name.contains(".expected.") && !name.contains(".to.")
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no fixtures in {dir}");
    out
}

/// Compare `got` with the snapshot at `path`; with `UPDATE_GOLDENS` set,
/// write it instead. Returns a failure description, so a test can report
/// every mismatching fixture at once.
pub fn check(path: &Path, got: &Value) -> Option<String> {
    if std::env::var_os("UPDATE_GOLDENS").is_some() {
        let mut text = serde_json::to_string_pretty(got).unwrap();
        text.push('\n');
        std::fs::write(path, text).unwrap();
        return None;
    }
    if !path.exists() {
        return Some(format!(
            "{}: missing snapshot (run with UPDATE_GOLDENS=1)",
            path.display()
        ));
    }
    let expected = read_json(path);
    let mut lines = Vec::new();
    diff("$", &expected, got, &mut lines);
    (!lines.is_empty()).then(|| format!("{}:\n  {}", path.display(), lines.join("\n  ")))
}

/// Panic listing every failure.
pub fn report(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} golden mismatch(es):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Differences between two JSON values, one line per differing path.
pub fn diff(path: &str, expected: &Value, got: &Value, out: &mut Vec<String>) {
    match (expected, got) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, va) in a {
                let p = format!("{path}.{key}");
                match b.get(key) {
                    Some(vb) => diff(&p, va, vb, out),
                    None => out.push(format!("{p}: expected {va}, missing")),
                }
            }
            for (key, vb) in b {
                if !a.contains_key(key) {
                    out.push(format!("{path}.{key}: unexpected {vb}"));
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                diff(&format!("{path}[{i}]"), va, vb, out);
            }
            if a.len() != b.len() {
                out.push(format!(
                    "{path}: expected {} items, got {}",
                    a.len(),
                    b.len()
                ));
            }
        }
        _ if expected != got => out.push(format!("{path}: expected {expected}, got {got}")),
        _ => {}
    }
}

/// The providers under test with the endpoint each is called through.
pub fn providers() -> Vec<(&'static str, ProviderKind, ProviderEndpoint)> {
    let endpoint = |base: &str| {
        let mut e = ProviderEndpoint::new("test", base);
        e.credential = Some(Credential::new("sk-test"));
        e
    };
    vec![
        (
            "openai",
            ProviderKind::Openai,
            endpoint("https://api.openai.com/v1"),
        ),
        (
            "azure",
            ProviderKind::Azure,
            endpoint("https://res.openai.azure.com"),
        ),
        (
            "anthropic",
            ProviderKind::Anthropic,
            endpoint("https://api.anthropic.com/v1"),
        ),
        (
            "mistral",
            ProviderKind::Mistral,
            endpoint("https://api.mistral.ai/v1"),
        ),
        (
            "ollama",
            ProviderKind::Ollama,
            endpoint("http://localhost:11434/v1"),
        ),
        (
            "gemini",
            ProviderKind::Gemini,
            endpoint("https://generativelanguage.googleapis.com/v1beta"),
        ),
        (
            "cohere",
            ProviderKind::Cohere,
            endpoint("https://api.cohere.com"),
        ),
        ("bedrock", ProviderKind::Bedrock, bedrock_endpoint()),
    ]
}

/// Bedrock signs with SigV4: AWS's documentation credentials, a fixed
/// clock (2015-08-30T12:36:00Z, the date of AWS's SigV4 examples) so the
/// `authorization` header is stable, and `sk-test` inside the session
/// token, the one header that carries it.
pub fn bedrock_endpoint() -> ProviderEndpoint {
    let mut e = ProviderEndpoint::new("test", "https://bedrock-runtime.us-east-1.amazonaws.com");
    e.region = Some("us-east-1".to_owned());
    e.aws = Some(sy_providers::AwsCredentials {
        access_key_id: Credential::new("AKIDEXAMPLE"),
        secret_access_key: Credential::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        session_token: Some(Credential::new("sk-test-session")),
    });
    e.clock = || std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_440_938_160);
    e
}

/// The adapter for a fixture folder name.
pub fn kind_named(name: &str) -> ProviderKind {
    providers()
        .into_iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, kind, _)| kind)
        .unwrap_or_else(|| panic!("no provider named {name}"))
}
