use sy_config::{DeploymentSpec, UsdPerMillion};
use sy_core::{Money, TokenUsage};

use super::*;

fn usage(prompt: u64, cached: u64, completion: u64) -> TokenUsage {
    TokenUsage {
        prompt,
        completion,
        cached,
        reasoning: 0,
        estimated: false,
    }
}

#[test]
fn suffixes_are_stripped_not_prefixes_matched() {
    assert_eq!(
        lookup("openai", "gpt-4o-2024-08-06").unwrap().model,
        "gpt-4o"
    );
    assert_eq!(
        lookup("openai", "gpt-4o-mini-2024-07-18").unwrap().model,
        "gpt-4o-mini"
    );
    assert_eq!(lookup("openai", "GPT-4.1").unwrap().model, "gpt-4.1");
    assert_eq!(
        lookup("anthropic", "claude-3-5-haiku-20241022")
            .unwrap()
            .model,
        "claude-3-5-haiku"
    );
    assert_eq!(
        lookup("anthropic", "claude-sonnet-4-5-latest")
            .unwrap()
            .model,
        "claude-sonnet-4-5"
    );
    assert_eq!(
        lookup("anthropic", "claude-opus-4-1@20250805")
            .unwrap()
            .model,
        "claude-opus-4-1"
    );
    assert!(lookup("openai", "gpt-4o-audio-preview").is_none());
    assert!(lookup("anthropic", "gpt-4o").is_none(), "vendor must match");
    assert!(lookup("openai", "gpt-4o-mini-tts").is_none());
    assert_eq!(
        candidates("us.anthropic.claude-3-5-haiku-20241022-v1:0"),
        [
            "anthropic.claude-3-5-haiku-20241022-v1:0",
            "anthropic.claude-3-5-haiku-20241022",
            "anthropic.claude-3-5-haiku"
        ]
    );
    assert_eq!(candidates("gpt-4-0613"), ["gpt-4-0613", "gpt-4"]);
}

#[test]
fn every_row_is_dated_sourced_and_reachable() {
    for e in table() {
        assert!(e.source.starts_with("https://"), "{e:?}");
        assert_eq!(e.date.len(), 10, "{e:?}");
        assert_eq!(lookup(e.vendor, e.model), Some(e), "{e:?}");
        assert!(e.price.cached_input <= e.price.input, "{e:?}");
    }
}

#[test]
fn cost_is_exact_and_rounds_up_per_component() {
    let gpt4o = lookup("openai", "gpt-4o").unwrap().price;
    // 1 token at $2.50/M = 2.5 micro-dollars → 3.
    assert_eq!(gpt4o.cost(&usage(1, 0, 0)), Money::from_micros(3));
    // 1000 prompt (400 cached) + 500 completion:
    // 600 × 2.5 + 400 × 1.25 + 500 × 10 = 1500 + 500 + 5000.
    assert_eq!(gpt4o.cost(&usage(1000, 400, 500)), Money::from_micros(7000));
    // Cached larger than prompt is clamped, never negative.
    assert_eq!(gpt4o.cost(&usage(10, 50, 0)), Money::from_micros(13));
    // A million one-token requests add up exactly: 3 micro-dollars each.
    let mut total = Money::ZERO;
    for _ in 0..1_000_000 {
        total += gpt4o.cost(&usage(1, 0, 0));
    }
    assert_eq!(total, Money::from_micros(3_000_000));
    assert_eq!(total.to_string(), "3.000000");
}

#[test]
fn reasoning_is_billed_as_output() {
    let o4 = lookup("openai", "o4-mini").unwrap().price;
    let mut u = usage(0, 0, 1_000_000);
    let plain = o4.cost(&u);
    u.reasoning = 900_000;
    assert_eq!(o4.cost(&u), plain, "reasoning is part of completion");
    assert_eq!(plain, Money::from_micros(4_400_000));
}

fn spec(
    model: &str,
    input: Option<i64>,
    output: Option<i64>,
    cached: Option<i64>,
) -> DeploymentSpec {
    let mut d: DeploymentSpec =
        serde_json::from_value(serde_json::json!({"provider": "p", "model": model})).unwrap();
    d.input_price_per_million = input.map(UsdPerMillion);
    d.output_price_per_million = output.map(UsdPerMillion);
    d.cached_input_price_per_million = cached.map(UsdPerMillion);
    d
}

#[test]
fn config_overrides_the_table_field_by_field() {
    let table = deployment_price(Some("openai"), &spec("gpt-4o", None, None, None)).unwrap();
    assert_eq!(table.input, 2_500_000);
    let p = deployment_price(Some("openai"), &spec("gpt-4o", Some(2_000_000), None, None)).unwrap();
    assert_eq!(
        (p.input, p.cached_input, p.output),
        (2_000_000, 1_250_000, 10_000_000)
    );
    // No table row: cached defaults to input, output to zero.
    let p = deployment_price(None, &spec("my-llama", Some(500_000), None, None)).unwrap();
    assert_eq!((p.input, p.cached_input, p.output), (500_000, 500_000, 0));
    assert!(deployment_price(None, &spec("my-llama", None, None, None)).is_none());
    assert!(deployment_price(Some("openai"), &spec("unknown", None, None, None)).is_none());
}

#[test]
fn vendor_from_kind_and_base_url() {
    let p = |v: serde_json::Value| serde_json::from_value::<sy_config::ProviderSpec>(v).unwrap();
    assert_eq!(
        vendor_for(&p(serde_json::json!({"name": "o", "kind": "openai"}))),
        Some("openai")
    );
    assert_eq!(
        vendor_for(&p(
            serde_json::json!({"name": "d", "kind": "openai_compatible", "base_url": "https://api.deepseek.com/v1"})
        )),
        Some("deepseek")
    );
    assert_eq!(
        vendor_for(&p(
            serde_json::json!({"name": "l", "kind": "openai_compatible", "base_url": "http://localhost:11434/v1"})
        )),
        None
    );
    assert_eq!(
        vendor_for(&p(serde_json::json!({"name": "m", "kind": "mock"}))),
        None
    );
}
