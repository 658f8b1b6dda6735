use sy_config::{DeploymentSpec, UsdPerMillion};
use sy_core::{Money, TokenUsage};

use super::*;

fn usage(prompt: u64, cached: u64, completion: u64) -> TokenUsage {
    TokenUsage {
        prompt,
        completion,
        cached,
        ..TokenUsage::default()
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

#[test]
fn gemini_ids_as_configured_find_the_base_tier_price() {
    // `models/` prefix and `-latest` are dropped; case is ignored.
    let flash = lookup("gemini", "models/Gemini-2.5-Flash-latest").unwrap();
    assert_eq!(flash.model, "gemini-2.5-flash");
    assert_eq!(flash.price, Price::new(300_000, 300_000, 2_500_000, false));
    // 6,000 fresh + 4,000 cached (no confirmed cache price: billed as input)
    // + 2,000 out: 1800 + 1200 + 5000.
    assert_eq!(
        flash.price.cost(&usage(10_000, 4_000, 2_000)),
        Money::from_micros(8_000)
    );
    // Flash-Lite is its own row, not Flash's price by prefix.
    let lite = lookup("gemini", "gemini-2.5-flash-lite").unwrap().price;
    assert_eq!((lite.input, lite.output), (100_000, 400_000));
    assert_eq!(
        lite.cost(&usage(1_000_000, 0, 1_000_000)),
        Money::from_micros(500_000)
    );
    // Pro: the <= 200k-token tier.
    let pro = lookup("gemini", "gemini-2.5-pro").unwrap().price;
    assert_eq!((pro.input, pro.output), (1_250_000, 10_000_000));
    assert_eq!(pro.cost(&usage(1000, 0, 500)), Money::from_micros(6_250));
    // A dated preview is a different model: no price.
    assert!(lookup("gemini", "gemini-2.5-flash-preview-05-20").is_none());
    assert!(lookup("openai", "gemini-2.5-flash").is_none());
}

#[test]
fn mistral_versions_are_priced_exactly_never_by_alias() {
    let m = lookup("mistral", "mistralai/Mistral-Medium-3-5-26-04").unwrap();
    assert_eq!(m.model, "mistral-medium-3-5-26-04");
    assert_eq!(
        (m.price.input, m.price.cached_input, m.price.output),
        (1_500_000, 1_500_000, 7_500_000)
    );
    // 2,000 in × 1.5 + 1,000 out × 7.5.
    assert_eq!(
        m.price.cost(&usage(2000, 0, 1000)),
        Money::from_micros(10_500)
    );
    assert_eq!(
        lookup("mistral", "mistral-medium-3.5").unwrap().price,
        m.price
    );
    // `-latest` moves and `-2505` (Medium 3) has another price: both strip
    // to `mistral-medium`, which must stay unpriced.
    assert_eq!(
        candidates("mistral-medium-2505"),
        ["mistral-medium-2505", "mistral-medium"]
    );
    assert!(lookup("mistral", "mistral-medium-latest").is_none());
    assert!(lookup("mistral", "mistral-medium-2505").is_none());
}

#[test]
fn bedrock_ids_with_region_and_version_find_their_row() {
    let nova = lookup("bedrock", "us.amazon.nova-pro-v1:0").unwrap();
    assert_eq!(nova.model, "amazon.nova-pro");
    // $0.0008 / 1K input, $0.0032 / 1K output.
    assert_eq!(
        (nova.price.input, nova.price.cached_input, nova.price.output),
        (800_000, 800_000, 3_200_000)
    );
    assert_eq!(
        nova.price.cost(&usage(1000, 0, 1000)),
        Money::from_micros(4_000)
    );
    let haiku = lookup("bedrock", "eu.anthropic.claude-3-haiku-20240307-v1:0").unwrap();
    assert_eq!(haiku.model, "anthropic.claude-3-haiku");
    assert_eq!(
        (haiku.price.input, haiku.price.output),
        (250_000, 1_250_000)
    );
    // 1000 × 0.25 + 1000 × 1.25; one output token is 1.25 µ$ → 2.
    assert_eq!(
        haiku.price.cost(&usage(1000, 0, 1000)),
        Money::from_micros(1_500)
    );
    assert_eq!(haiku.price.cost(&usage(0, 0, 1)), Money::from_micros(2));
    // Same id through an ARN.
    assert_eq!(
        lookup(
            "bedrock",
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
        ),
        Some(haiku)
    );
    // Anthropic's own prices are not Bedrock's, nor the reverse; unconfirmed
    // Bedrock models stay unpriced.
    assert!(lookup("bedrock", "claude-3-haiku-20240307").is_none());
    assert!(lookup("anthropic", "anthropic.claude-3-haiku-20240307-v1:0").is_none());
    assert!(lookup("bedrock", "us.amazon.nova-lite-v1:0").is_none());
    assert!(lookup("bedrock", "anthropic.claude-3-5-haiku-20241022-v1:0").is_none());
}

#[test]
fn a_cohere_deployment_finds_its_dated_row_and_aliases_stay_unpriced() {
    let provider: sy_config::ProviderSpec =
        serde_json::from_value(serde_json::json!({"name": "co", "kind": "cohere"})).unwrap();
    let vendor = vendor_for(&provider);
    assert_eq!(vendor, Some("cohere"));
    let price = |model: &str| deployment_price(vendor, &spec(model, None, None, None));
    let a = price("command-a-03-2025").unwrap();
    assert_eq!(
        (a.input, a.cached_input, a.output),
        (2_500_000, 2_500_000, 10_000_000)
    );
    // Billed units as the adapter reports them: 1,000 in × 2.5 + 500 out × 10.
    assert_eq!(a.cost(&usage(1000, 0, 500)), Money::from_micros(7_500));
    assert_eq!(price("Command-R-Plus-08-2024"), Some(a));
    let r = price("command-r-08-2024").unwrap();
    assert_eq!((r.input, r.output), (150_000, 600_000));
    let r7b = price("command-r7b-12-2024").unwrap();
    assert_eq!((r7b.input, r7b.output), (37_500, 150_000));
    // 1,000 in at $0.0375/M is 37.5 µ$, charged 38.
    assert_eq!(r7b.cost(&usage(1000, 0, 0)), Money::from_micros(38));
    // `-08-2024` is cut to `-08`, never to the family: the aliases (which
    // may name a retired version at another price) and other dated versions
    // stay unpriced, and Cohere's prices are not another vendor's.
    assert_eq!(
        candidates("command-r-plus-08-2024"),
        ["command-r-plus-08-2024", "command-r-plus-08"]
    );
    for unpriced in [
        "command-r",
        "command-r-plus",
        "command-r-plus-04-2024",
        "command-r-03-2024",
        "command-a-reasoning-08-2025",
        "command-a",
    ] {
        assert!(price(unpriced).is_none(), "{unpriced}");
    }
    assert!(lookup("openai", "command-a-03-2025").is_none());
}

#[test]
fn cache_writes_are_billed_as_each_vendor_bills_them() {
    // Claude: 1.25× input for a five-minute write, 2× for a one-hour one.
    let sonnet = lookup("anthropic", "claude-sonnet-4-5").unwrap().price;
    assert_eq!(
        (sonnet.input, sonnet.cache_write, sonnet.cache_write_long),
        (3_000_000, 3_750_000, 6_000_000)
    );
    // 10,000 prompt tokens: 2,000 read from the cache, 5,000 written (1,000
    // of them for an hour), 3,000 plain; 100 out.
    let used = TokenUsage {
        prompt: 10_000,
        cached: 2_000,
        cache_write: 5_000,
        cache_write_long: 1_000,
        completion: 100,
        ..TokenUsage::default()
    };
    let expected = 3_000 * 3 + 2_000 * 3 / 10 + 4_000 * 15 / 4 + 1_000 * 6 + 100 * 15;
    assert_eq!(sonnet.cost(&used), Money::from_micros(expected));
    // More written than the prompt holds (a provider's bad figure) bills no
    // more than the whole prompt as writes.
    let absurd = TokenUsage {
        cache_write: 1_000_000,
        cache_write_long: 1_000_000,
        ..used
    };
    assert_eq!(
        sonnet.cost(&absurd),
        Money::from_micros(2_000 * 3 / 10 + 8_000 * 6 + 100 * 15)
    );
    // Claude on Bedrock is billed the same way; other models bill writes
    // as input.
    let haiku = lookup("bedrock", "anthropic.claude-3-haiku-20240307-v1:0")
        .unwrap()
        .price;
    assert_eq!(haiku.cache_write, (haiku.input * 5 + 3) / 4);
    let mini = lookup("openai", "gpt-4o-mini").unwrap().price;
    assert_eq!(
        (mini.cache_write, mini.cache_write_long),
        (mini.input, mini.input)
    );
    // An override of the input price moves the write prices with it.
    let d = spec("claude-sonnet-4-5", Some(2_000_000), None, None);
    let p = deployment_price(Some("anthropic"), &d).unwrap();
    assert_eq!((p.cache_write, p.cache_write_long), (2_500_000, 4_000_000));
}
