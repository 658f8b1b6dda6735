//! Cost of serving a whole embeddings answer of float vectors: the
//! provider's bytes walked once and `model` replaced
//! (`EmbeddingsJson::scan` + `stamped`) against decoding every number and
//! writing it again (what the gateway did before), for one input and for a
//! batch of 16, 1,536-wide vectors (`text-embedding-3-small`'s width); and
//! a request of 64 inputs sent on with only `model` replaced against
//! encoded again.
//!
//! Run: `cargo bench -p sy-llm --bench embeddings`.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput};
use sy_llm::embeddings::{EmbeddingsJson, EmbeddingsRequest, EmbeddingsResponse};
use sy_llm::openai::with_model;

/// An answer of `inputs` vectors of `width` floats, written as OpenAI
/// writes them (shortest round-trip decimals, some with exponents).
fn answer(inputs: usize, width: usize) -> String {
    let data: Vec<String> = (0..inputs)
        .map(|i| {
            let v: Vec<String> = (0..width)
                .map(|j| {
                    let x = ((i * 7919 + j * 104_729) % 20_011) as f32 / 20_011.0 - 0.5;
                    format!("{}", x / 37.0)
                })
                .collect();
            format!(
                r#"{{"object":"embedding","index":{i},"embedding":[{}]}}"#,
                v.join(",")
            )
        })
        .collect();
    format!(
        r#"{{"object":"list","data":[{}],"model":"text-embedding-3-small","usage":{{"prompt_tokens":{},"total_tokens":{}}}}}"#,
        data.join(","),
        inputs * 8,
        inputs * 8
    )
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    for (name, inputs) in [("one", 1), ("batch16", 16)] {
        let body = Bytes::from(answer(inputs, 1536));
        let mut g = c.benchmark_group(format!("embeddings/{name}"));
        g.throughput(Throughput::Bytes(body.len() as u64));
        // Both must accept the body, or the figures compare nothing.
        assert!(EmbeddingsJson::scan(body.clone()).is_ok(), "{name}");
        assert!(
            sy_llm::from_json::<EmbeddingsResponse>(&body).is_ok(),
            "{name}"
        );
        g.bench_function("bytes", |b| {
            b.iter(|| {
                EmbeddingsJson::scan(black_box(body.clone()))
                    .map(|json| json.stamped("public").len())
                    .unwrap_or(0)
            })
        });
        g.bench_function("decode-encode", |b| {
            b.iter(|| {
                sy_llm::from_json::<EmbeddingsResponse>(black_box(&body))
                    .map(|mut answer| {
                        answer.model = "public".to_owned();
                        serde_json::to_vec(&answer).map_or(0, |v| v.len())
                    })
                    .unwrap_or(0)
            })
        });
        g.finish();
    }
    // The request side: 64 inputs of ~1 KB each, sent on with only `model`
    // replaced against encoded again from the decoded request.
    let input: Vec<String> = (0..64)
        .map(|i| {
            format!("Document {i}: ") + &"some text to embed, with \\\"quotes\\\". ".repeat(24)
        })
        .collect();
    let body = format!(
        r#"{{"model":"public","input":[{}]}}"#,
        input
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(",")
    );
    let decoded = sy_llm::from_json::<EmbeddingsRequest>(body.as_bytes());
    assert!(decoded.is_ok(), "the benchmark's request decodes");
    let Ok(request) = decoded else { return };
    let mut g = c.benchmark_group("embeddings/request64");
    g.throughput(Throughput::Bytes(body.len() as u64));
    assert!(with_model(body.as_bytes(), "real").is_some());
    g.bench_function("bytes", |b| {
        b.iter(|| with_model(black_box(body.as_bytes()), "real").map_or(0, |v| v.len()))
    });
    g.bench_function("encode", |b| {
        b.iter(|| {
            let mut sent = black_box(&request).clone();
            sent.model = "real".to_owned();
            serde_json::to_vec(&sent).map_or(0, |v| v.len())
        })
    });
    g.finish();
    c.final_summary();
}
