//! Cost of counting a request's prompt tokens on the request path.
//!
//! "Typical request": a system prompt, a four-turn conversation of a few
//! sentences each and one tool definition (about 300 tokens), counted for
//! gpt-4o (o200k_base) and for a non-OpenAI model (cl100k_base). Encoders
//! are warmed before measuring: their one-time construction happens at the
//! first request, not per request.
//!
//! Counts are memoised per text, so the `typical` figures are those of a
//! prompt whose texts were seen before (a conversation's earlier turns, a
//! shared system prompt); `…/new-text` counts a text never seen, the cost
//! of a message's first appearance.
//!
//! Run: `cargo bench -p sy-llm --bench tokens`.

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use sy_llm::ChatRequest;
use sy_llm::tokens::{count_prompt_tokens, count_text_tokens, warm_up};

fn typical() -> ChatRequest {
    let body = serde_json::json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are a concise assistant for an online bookshop. Answer in two or three sentences, cite the catalogue when you can, and never invent prices."},
            {"role": "user", "content": "Do you have any books about the history of cartography, ideally with lots of maps and illustrations?"},
            {"role": "assistant", "content": "Yes: 'Maps: Their Untold Stories' and 'The Art of Cartography' are both richly illustrated histories. Would you like paperback or hardcover?"},
            {"role": "user", "content": "Hardcover please, and can you check whether either ships to Norway within a week?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "check_shipping", "arguments": "{\"isbn\":\"9780000000001\",\"country\":\"NO\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "{\"ships\":true,\"days\":5}"}
        ],
        "tools": [{"type": "function", "function": {
            "name": "check_shipping",
            "description": "Check whether a book ships to a country and how long it takes.",
            "parameters": {"type": "object", "properties": {
                "isbn": {"type": "string", "description": "The book's ISBN-13."},
                "country": {"type": "string", "description": "ISO 3166 alpha-2 country code.", "enum": ["NO", "SE", "DK", "FI"]}
            }, "required": ["isbn", "country"]}
        }}]
    });
    serde_json::from_value(body).unwrap_or_else(|_| ChatRequest::new("gpt-4o", Vec::new()))
}

fn main() {
    warm_up();
    let req = typical();
    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("count_prompt_tokens");
    g.throughput(Throughput::Elements(1));
    g.bench_function("typical/gpt-4o", |b| {
        b.iter(|| count_prompt_tokens(black_box(&req), black_box("gpt-4o")))
    });
    g.bench_function("typical/claude", |b| {
        b.iter(|| count_prompt_tokens(black_box(&req), black_box("claude-sonnet-4")))
    });
    g.finish();
    let text = "The quick brown fox jumps over the lazy dog. ".repeat(20);
    c.bench_function("count_text_tokens/200-words", |b| {
        b.iter(|| count_text_tokens(black_box(&text), black_box("gpt-4o")))
    });
    let mut n = 0u64;
    c.bench_function("count_text_tokens/200-words/new-text", |b| {
        b.iter_batched(
            || {
                n += 1;
                format!("{text}{n}")
            },
            |fresh| count_text_tokens(black_box(&fresh), black_box("gpt-4o")),
            criterion::BatchSize::SmallInput,
        )
    });
    c.final_summary();
}
