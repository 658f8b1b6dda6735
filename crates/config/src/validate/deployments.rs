//! Value rules for a deployment's prices, context window and rate hints.

use super::Report;
use crate::spec::ConfigSpec;

/// Highest accepted price: $10,000 per million tokens, far above any
/// published price; a larger figure is a typo (cents for dollars, a missing
/// decimal point).
pub(crate) const MAX_PRICE_MICROS: i64 = 10_000 * 1_000_000;

/// Largest accepted context window, in tokens.
pub(crate) const MAX_CONTEXT_WINDOW: u64 = 100_000_000;

pub(super) fn check(spec: &ConfigSpec, r: &mut Report) {
    for (i, m) in spec.models.iter().enumerate() {
        for (k, d) in m.deployments.iter().enumerate() {
            let base = format!("models[{i}].deployments[{k}]");
            let prices = [
                ("input_price_per_million", d.input_price_per_million),
                ("output_price_per_million", d.output_price_per_million),
                (
                    "cached_input_price_per_million",
                    d.cached_input_price_per_million,
                ),
            ];
            for (field, price) in prices {
                let Some(price) = price else { continue };
                if price.micros() < 0 {
                    r.push(
                        format!("{base}.{field}"),
                        format!("a price cannot be negative (got {price})"),
                    );
                } else if price.micros() > MAX_PRICE_MICROS {
                    r.push(
                        format!("{base}.{field}"),
                        format!(
                            "{price} USD per million tokens is implausibly high (max 10000); \
                             prices are in dollars per million tokens, e.g. `2.50`"
                        ),
                    );
                }
            }
            if let Some(window) = d.context_window
                && (window == 0 || window > MAX_CONTEXT_WINDOW)
            {
                r.push(
                    format!("{base}.context_window"),
                    format!("the context window is in tokens, 1 to {MAX_CONTEXT_WINDOW}"),
                );
            }
            for (field, value) in [("rpm", d.rpm), ("tpm", d.tpm)] {
                if value == Some(0) {
                    r.push(
                        format!("{base}.{field}"),
                        "0 would refuse every request; leave it out for no limit",
                    );
                }
            }
        }
    }
}
