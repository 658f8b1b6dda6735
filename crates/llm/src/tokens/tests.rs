//! Counts checked against known values.
//!
//! Sources:
//! - OpenAI cookbook, "How to count tokens with tiktoken"
//!   (openai/openai-cookbook, examples/How_to_count_tokens_with_tiktoken.ipynb):
//!   `"tiktoken is great!"` is 6 cl100k tokens; `"antidisestablishmentarianism"`
//!   6; `"2 + 2 = 4"` 7; `"お誕生日おめでとう"` 9. Its six-message example
//!   is 129 prompt tokens for gpt-3.5-turbo / gpt-4 and 124 for gpt-4o /
//!   gpt-4o-mini, and its weather-tool example 105 and 101 — each equal to
//!   the `prompt_tokens` the OpenAI API reported, as printed in the notebook.

use serde_json::json;

use super::*;
use crate::chat::Role;

fn request(value: serde_json::Value) -> ChatRequest {
    serde_json::from_value(value).unwrap()
}

#[test]
fn cookbook_string_counts() {
    assert_eq!(count_text_tokens("tiktoken is great!", "gpt-4"), 6);
    assert_eq!(
        count_text_tokens("antidisestablishmentarianism", "gpt-4"),
        6
    );
    assert_eq!(count_text_tokens("2 + 2 = 4", "gpt-3.5-turbo"), 7);
    assert_eq!(count_text_tokens("お誕生日おめでとう", "gpt-4"), 9);
    assert_eq!(count_text_tokens("", "gpt-4o"), 0);
}

#[test]
fn encodings_by_model() {
    for m in [
        "gpt-4o",
        "gpt-4o-2024-08-06",
        "gpt-4o-mini",
        "gpt-4.1-nano",
        "gpt-5",
        "o1",
        "o3-mini",
        "o4-mini",
        "openai/gpt-4o",
        "ft:gpt-4o-mini:org::abc",
    ] {
        assert_eq!(encoding_for_model(m), Encoding::O200kBase, "{m}");
    }
    for m in [
        "gpt-4",
        "gpt-4-turbo",
        "gpt-3.5-turbo",
        "claude-sonnet-4",
        "mock-1",
        "omni",
        "",
    ] {
        assert_eq!(encoding_for_model(m), Encoding::Cl100kBase, "{m}");
    }
}

fn cookbook_messages() -> serde_json::Value {
    json!([
        {"role": "system", "content": "You are a helpful, pattern-following assistant that translates corporate jargon into plain English."},
        {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
        {"role": "system", "name": "example_assistant", "content": "Things working well together will increase revenue."},
        {"role": "system", "name": "example_user", "content": "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."},
        {"role": "system", "name": "example_assistant", "content": "Let's talk later when we're less busy about how to do better."},
        {"role": "user", "content": "This late pivot means we don't have time to boil the ocean for the client deliverable."}
    ])
}

#[test]
fn cookbook_messages_match_the_api() {
    let req = request(json!({"model": "x", "messages": cookbook_messages()}));
    assert_eq!(count_prompt_tokens(&req, "gpt-3.5-turbo"), 129);
    assert_eq!(count_prompt_tokens(&req, "gpt-4-0613"), 129);
    assert_eq!(count_prompt_tokens(&req, "gpt-4o"), 124);
    assert_eq!(count_prompt_tokens(&req, "gpt-4o-mini-2024-07-18"), 124);
}

#[test]
fn cookbook_tools_match_the_api() {
    let req = request(json!({
        "model": "x",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant that can answer to questions about the weather."},
            {"role": "user", "content": "What's the weather like in San Francisco?"}
        ],
        "tools": [{
            "type": "function",
            "function": {
                "name": "get_current_weather",
                "description": "Get the current weather in a given location",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                        "unit": {"type": "string", "description": "The unit of temperature to return", "enum": ["celsius", "fahrenheit"]}
                    },
                    "required": ["location"]
                }
            }
        }]
    }));
    assert_eq!(count_prompt_tokens(&req, "gpt-3.5-turbo"), 105);
    assert_eq!(count_prompt_tokens(&req, "gpt-4"), 105);
    assert_eq!(count_prompt_tokens(&req, "gpt-4o"), 101);
    assert_eq!(count_prompt_tokens(&req, "gpt-4o-mini"), 101);
}

#[test]
fn tool_calls_and_images_add_tokens() {
    let plain = Message::text(Role::Assistant, "");
    let mut with_call = plain.clone();
    with_call.tool_calls = Some(vec![
        serde_json::from_value(json!({
            "id": "c1", "type": "function",
            "function": {"name": "get_current_weather", "arguments": "{\"location\":\"Paris\"}"}
        }))
        .unwrap(),
    ]);
    let base = count_message_tokens(&plain, "gpt-4o");
    let extra = TOKENS_PER_TOOL_CALL
        + count_text_tokens("get_current_weather", "gpt-4o")
        + count_text_tokens("{\"location\":\"Paris\"}", "gpt-4o");
    assert_eq!(count_message_tokens(&with_call, "gpt-4o"), base + extra);

    let req = request(
        json!({"model": "x", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "hi"},
            {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}}
        ]}]}),
    );
    // primer 3 + message 3 + "user" 1 + "hi" 1 + low-detail image 85.
    assert_eq!(count_prompt_tokens(&req, "gpt-4o"), 3 + 3 + 1 + 1 + 85);
}

/// The memo answers a text counted before without counting it again, keeps
/// the vocabularies apart, and never answers one text with another's count.
#[test]
fn counts_are_remembered_per_text_and_vocabulary() {
    let misses = || cache::MISSES.with(std::cell::Cell::get);
    let text = "A system prompt that every call of this test repeats, word for word.";
    let first = count_with(Encoding::O200kBase, text);
    let before = misses();
    assert_eq!(count_with(Encoding::O200kBase, text), first);
    assert_eq!(misses(), before, "the second count was not looked up");
    // Same text, other vocabulary: its own count.
    count_with(Encoding::Cl100kBase, text);
    assert_eq!(misses(), before + 1);

    // Thousands of distinct texts (more than fill some slots twice): every
    // answer, first or repeated, is the text's own BPE count.
    let bpe = encoder(Encoding::Cl100kBase).unwrap();
    let texts: Vec<String> = (0..40_000u32)
        .map(|i| format!("message {i}: {}", "lorem ipsum ".repeat((i % 7) as usize)))
        .collect();
    for round in 0..2 {
        for t in &texts {
            let truth = bpe.encode_ordinary(t).len() as u64;
            assert_eq!(
                count_with(Encoding::Cl100kBase, t),
                truth,
                "round {round}: {t:?}"
            );
        }
    }
}
