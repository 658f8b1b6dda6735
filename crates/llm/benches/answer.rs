//! Cost of taking in a whole Chat Completions answer on the request path:
//! `ChatCompletionJson::scan` (check the JSON, find the stamped members,
//! read `usage`) against decoding the answer with serde, for the short
//! answer the benchmark's mock upstream writes and a longer one.
//!
//! Run: `cargo bench -p sy-llm --bench answer`.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput};
use serde::de::IgnoredAny;
use sy_llm::ChatResponse;
use sy_llm::openai::ChatCompletionJson;

const SHORT: &str = r#"{"id":"chatcmpl-0","object":"chat.completion","created":1795554934,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"t0 t1 t2 t3 t4 t5 t6 t7 t8 t9 t10 t11 t12 t13 t14 t15 t16 t17 t18 t19 ","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":17,"completion_tokens":20,"total_tokens":37},"system_fingerprint":null}"#;

fn long() -> String {
    let content =
        "A longer answer, with \\\"quotes\\\", a newline\\n and some non-ASCII: caf\u{e9}. "
            .repeat(40);
    SHORT.replace(
        "t0 t1 t2 t3 t4 t5 t6 t7 t8 t9 t10 t11 t12 t13 t14 t15 t16 t17 t18 t19 ",
        &content,
    )
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    for (name, text) in [("short", SHORT.to_owned()), ("long", long())] {
        let body = Bytes::from(text);
        let mut g = c.benchmark_group(format!("answer/{name}"));
        g.throughput(Throughput::Bytes(body.len() as u64));
        // Every variant must accept the body, or the figures compare
        // nothing.
        assert!(ChatCompletionJson::scan(body.clone()).is_ok(), "{name}");
        assert!(
            serde_json::from_slice::<ChatResponse>(&body).is_ok(),
            "{name}"
        );
        g.bench_function("scan", |b| {
            b.iter(|| ChatCompletionJson::scan(black_box(body.clone())).is_ok())
        });
        g.bench_function("serde-skip", |b| {
            b.iter(|| serde_json::from_slice::<IgnoredAny>(black_box(&body)).is_ok())
        });
        g.bench_function("serde-decode", |b| {
            b.iter(|| serde_json::from_slice::<ChatResponse>(black_box(&body)).is_ok())
        });
        g.finish();
    }
    c.final_summary();
}
