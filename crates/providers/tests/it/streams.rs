//! Streamed upstream bytes → canonical chunks.
//!
//! Input: `fixtures/streams/<provider>/<scenario>.sse`, the raw body as the
//! provider sends it. Snapshot: `<scenario>.expected.json` with the chunks
//! and the error that ended the stream, if any. Every stream is also
//! decoded split at every byte boundary and one byte at a time, which must
//! give the same result.

use serde_json::{Value, json};
use sy_providers::StreamDecoder;

use crate::golden::{check, fixture, inputs, kind_named, read, report};

/// Decode `pieces` in order with a fresh decoder.
fn decode(decoder: &mut dyn StreamDecoder, pieces: &[&[u8]]) -> Value {
    let mut chunks = Vec::new();
    let mut error = Value::Null;
    for piece in pieces {
        match decoder.push(piece) {
            Ok(got) => chunks.extend(got),
            Err(e) => {
                error = json!(e.to_string());
                break;
            }
        }
    }
    if error.is_null() {
        match decoder.finish() {
            Ok(got) => chunks.extend(got),
            Err(e) => error = json!(e.to_string()),
        }
    }
    json!({"chunks": chunks, "error": error})
}

fn providers_with_fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixture("streams"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn stream_goldens() {
    let mut failures = Vec::new();
    for provider in providers_with_fixtures() {
        let adapter = kind_named(&provider).adapter();
        for input in inputs(&format!("streams/{provider}"), ".sse") {
            let bytes = read(&input);
            let whole = decode(adapter.stream_decoder().as_mut(), &[&bytes]);
            failures.extend(check(&input.with_extension("expected.json"), &whole));

            for cut in 0..=bytes.len() {
                let (a, b) = bytes.split_at(cut);
                let split = decode(adapter.stream_decoder().as_mut(), &[a, b]);
                if split != whole {
                    failures.push(format!(
                        "{}: differs when split at byte {cut}",
                        input.display()
                    ));
                    break;
                }
            }
            let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
            if decode(adapter.stream_decoder().as_mut(), &bytewise) != whole {
                failures.push(format!("{}: differs one byte at a time", input.display()));
            }
        }
    }
    report(failures);
}

#[test]
fn a_cut_stream_is_an_error() {
    for (provider, file) in [
        ("openai", "streams/openai/text.sse"),
        ("anthropic", "streams/anthropic/text.sse"),
        ("gemini", "streams/gemini/text.sse"),
        ("cohere", "streams/cohere/text.sse"),
    ] {
        let bytes = read(&fixture(file));
        let cut = &bytes[..bytes.len() / 3];
        let got = decode(
            kind_named(provider).adapter().stream_decoder().as_mut(),
            &[cut],
        );
        let error = got["error"].as_str().unwrap_or_default().to_owned();
        assert!(error.contains("ended before"), "{provider}: {got}");
    }
}
