//! Deployment prices, context window and rate hints.

use crate::support::{errors, expect_only, load};

const HEAD: &str = "providers: [{ name: p, kind: mock }]\nmodels:\n  - name: m\n    deployments:\n";

#[test]
fn prices_parse_exactly_from_numbers_and_strings() {
    let yaml = format!(
        "{HEAD}      - {{ provider: p, model: x, input_price_per_million: 2.5, output_price_per_million: \"10.00\", cached_input_price_per_million: 0.075, context_window: 128000, rpm: 500, tpm: 30000, priority: -1 }}\n"
    );
    let spec = load(&yaml).unwrap();
    let d = &spec.models[0].deployments[0];
    assert_eq!(d.input_price_per_million.unwrap().micros(), 2_500_000);
    assert_eq!(d.output_price_per_million.unwrap().micros(), 10_000_000);
    assert_eq!(d.cached_input_price_per_million.unwrap().micros(), 75_000);
    assert_eq!(d.context_window, Some(128_000));
    assert_eq!(
        (d.rpm, d.tpm, d.priority),
        (Some(500), Some(30_000), Some(-1))
    );
}

#[test]
fn negative_and_absurd_prices_are_refused() {
    let yaml = format!(
        "{HEAD}      - {{ provider: p, model: x, input_price_per_million: -1, output_price_per_million: 25000 }}\n"
    );
    let errs = errors(&yaml);
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "models[0].deployments[0].input_price_per_million",
            "models[0].deployments[0].output_price_per_million"
        ]
    );
    assert!(errs[0].message.contains("cannot be negative"), "{errs:?}");
    assert!(errs[1].message.contains("implausibly high"), "{errs:?}");
}

#[test]
fn too_many_decimals_is_a_parse_error() {
    let yaml = format!(
        "{HEAD}      - {{ provider: p, model: x, input_price_per_million: \"0.0000001\" }}\n"
    );
    let errs = errors(&yaml);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].message.contains("more than 6 decimals"), "{errs:?}");
}

#[test]
fn zero_window_and_rates_are_refused() {
    let yaml = format!("{HEAD}      - {{ provider: p, model: x, context_window: 0 }}\n");
    expect_only(
        &yaml,
        "models[0].deployments[0].context_window",
        "0 }",
        "in tokens",
    );
    let yaml = format!("{HEAD}      - {{ provider: p, model: x, rpm: 0, tpm: 0 }}\n");
    let errs = errors(&yaml);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs[0].message.contains("leave it out"));
}
