//! What a call costs: the built-in price table, per-deployment overrides
//! from config, and the cost arithmetic.
//!
//! Lookup is by *vendor* (who sets the price: `openai`, `anthropic`,
//! `deepseek`, …, derived from the provider kind, or for
//! `openai_compatible` from the base URL's host) and the deployment's model
//! id, normalised by [`candidates`]:
//! 1. lower-cased; a Bedrock region prefix (`us.`, `eu.`, `apac.`,
//!    `global.`) and a `models/` or `provider/` path prefix dropped;
//! 2. tried as is, then with each known suffix removed in turn: a Bedrock
//!    version (`-v2:0`, `-v1`), a Vertex version (`@20241022`), `-latest`,
//!    and a date (`-2024-08-06`, `-20241022`, `-0613`).
//!
//! So `gpt-4o-2024-08-06` → `gpt-4o`, `claude-3-5-haiku-20241022` →
//! `claude-3-5-haiku`, while `gpt-4o-mini` stays `gpt-4o-mini` and
//! `gpt-4o-audio-preview` matches nothing (no loose prefix matching: a
//! wrong price is worse than none).
//!
//! Cost convention (OpenAI's, which [`TokenUsage`] keeps): `prompt`
//! includes `cached` and `cache_write` (disjoint), `completion` includes
//! `reasoning`. So `cost = (prompt − cached − cache_write) × input + cached
//! × cached_input + cache writes × their price + completion × output`.
//! Cache writes are priced from the input price, wherever it came from
//! (table or override): Claude models (Anthropic, or Claude on Bedrock)
//! bill 1.25× input for a five-minute write and 2× for a one-hour one;
//! other models bill writes as input. Reasoning tokens are billed as
//! output, as OpenAI, Anthropic
//! (thinking), Gemini (thinking) and DeepSeek (CoT) all bill them. Adapters
//! of providers that report them apart must fold them into `completion`.
//! Each component is rounded up to the micro-dollar (`Money::for_tokens`),
//! so a call is never under-charged and sums of calls stay exact integers.

mod table;

use sy_config::{DeploymentSpec, ProviderSpec};
use sy_core::{Money, TokenUsage};

/// Prices in micro-dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    /// Uncached prompt tokens.
    pub input: i64,
    /// Prompt tokens served from the provider's cache.
    pub cached_input: i64,
    /// Completion tokens, reasoning included.
    pub output: i64,
    /// Prompt tokens written to the cache (the shorter lifetime).
    pub cache_write: i64,
    /// Prompt tokens written to the cache for the longer lifetime.
    pub cache_write_long: i64,
}

/// One row of the built-in table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceEntry {
    /// Who sets the price (`openai`, `anthropic`, `deepseek`).
    pub vendor: &'static str,
    /// Base model id.
    pub model: &'static str,
    /// The prices.
    pub price: Price,
    /// When the figures were read (ISO date).
    pub date: &'static str,
    /// The pricing page they were read from.
    pub source: &'static str,
}

impl Price {
    /// The cost of `usage` (see the module docs for the formula).
    pub fn cost(&self, usage: &TokenUsage) -> Money {
        let cached = usage.cached.min(usage.prompt);
        let written = usage.cache_write.min(usage.prompt - cached);
        let long = usage.cache_write_long.min(written);
        Money::for_tokens(usage.prompt - cached - written, self.input)
            + Money::for_tokens(cached, self.cached_input)
            + Money::for_tokens(written - long, self.cache_write)
            + Money::for_tokens(long, self.cache_write_long)
            + Money::for_tokens(usage.completion, self.output)
    }

    /// Input, cached-input and output prices, with the cache-write prices
    /// of the model family derived from the input price (module docs).
    pub fn new(input: i64, cached_input: i64, output: i64, claude: bool) -> Price {
        let (write, long) = if claude {
            // 1.25× and 2×, rounded up: never under-charged.
            (
                input.saturating_mul(5).saturating_add(3) / 4,
                input.saturating_mul(2),
            )
        } else {
            (input, input)
        };
        Price {
            input,
            cached_input,
            output,
            cache_write: write,
            cache_write_long: long,
        }
    }
}

/// Whether `model` at `vendor` is a Claude model (billed for cache writes
/// as Anthropic bills them).
pub fn is_claude(vendor: Option<&str>, model: &str) -> bool {
    vendor == Some("anthropic") || model.to_ascii_lowercase().contains("claude")
}

/// Every row of the built-in table.
pub fn table() -> &'static [PriceEntry] {
    table::TABLE
}

/// The table row for `model` at `vendor`, if any.
pub fn lookup(vendor: &str, model: &str) -> Option<&'static PriceEntry> {
    let keys = candidates(model);
    table::TABLE
        .iter()
        .filter(|e| e.vendor == vendor)
        .find(|e| keys.iter().any(|k| k == e.model))
}

/// The ids to try for `model`, most specific first.
pub fn candidates(model: &str) -> Vec<String> {
    let mut m = model.trim().to_ascii_lowercase();
    if let Some(rest) = m.rsplit('/').next() {
        m = rest.to_owned();
    }
    for region in ["us.", "eu.", "apac.", "global.", "us-gov."] {
        if let Some(rest) = m.strip_prefix(region) {
            m = rest.to_owned();
            break;
        }
    }
    let mut out = vec![m.clone()];
    let mut current = m;
    while let Some(shorter) = strip_suffix(&current) {
        out.push(shorter.clone());
        current = shorter;
    }
    out
}

/// Remove one known suffix, if `m` ends with one.
fn strip_suffix(m: &str) -> Option<String> {
    if let Some(at) = m.rfind('@') {
        return Some(m[..at].to_owned());
    }
    if let Some(rest) = m.strip_suffix("-latest") {
        return Some(rest.to_owned());
    }
    let (head, tail) = m.rsplit_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    // Bedrock version: `v1`, `v2:0`.
    if let Some(v) = tail.strip_prefix('v') {
        let (major, minor) = v.split_once(':').unwrap_or((v, "0"));
        if digits(major) && digits(minor) {
            return Some(head.to_owned());
        }
    }
    // Dates: `20241022`, `0613`, and `YYYY-MM-DD` (three dash groups).
    if digits(tail) && (tail.len() == 8 || tail.len() == 4) {
        return Some(head.to_owned());
    }
    if digits(tail) && tail.len() == 2 {
        let mut parts = m.rsplitn(4, '-');
        let (d, mo, y) = (parts.next()?, parts.next()?, parts.next()?);
        if digits(d) && mo.len() == 2 && digits(mo) && y.len() == 4 && digits(y) {
            return parts.next().map(str::to_owned);
        }
    }
    None
}

/// Who sets the price for `provider`'s calls: its kind's name, or for an
/// `openai_compatible` server the vendor its base URL points at.
pub fn vendor_for(provider: &ProviderSpec) -> Option<&'static str> {
    let kind = serde_json::to_value(provider.kind).ok()?;
    let vendor = match kind.as_str()? {
        "openai" => "openai",
        "anthropic" => "anthropic",
        "gemini" => "gemini",
        "mistral" => "mistral",
        "cohere" => "cohere",
        "deepseek" => "deepseek",
        "bedrock" => "bedrock",
        "openai_compatible" => {
            let url = provider.base_url.as_deref()?;
            let host = url.split("://").nth(1)?.split(['/', ':']).next()?;
            [
                ("api.openai.com", "openai"),
                ("api.deepseek.com", "deepseek"),
                ("api.anthropic.com", "anthropic"),
            ]
            .iter()
            .find(|(h, _)| host == *h)
            .map(|(_, v)| *v)?
        }
        _ => return None,
    };
    Some(vendor)
}

/// The price of a deployment: the table's (by `vendor` and model) with any
/// config override applied field by field. With an override and no table
/// row, a missing cached price is the input price and a missing input or
/// output price is zero. `None` when neither exists: the call is unpriced.
pub fn deployment_price(vendor: Option<&str>, spec: &DeploymentSpec) -> Option<Price> {
    let table = vendor.and_then(|v| lookup(v, &spec.model)).map(|e| e.price);
    let input = spec.input_price_per_million.map(|p| p.micros());
    let output = spec.output_price_per_million.map(|p| p.micros());
    let cached = spec.cached_input_price_per_million.map(|p| p.micros());
    if input.is_none() && output.is_none() && cached.is_none() {
        return table;
    }
    let base = table.unwrap_or(Price::new(0, input.unwrap_or(0), 0, false));
    Some(Price::new(
        input.unwrap_or(base.input),
        cached.unwrap_or(base.cached_input),
        output.unwrap_or(base.output),
        is_claude(vendor, &spec.model),
    ))
}

#[cfg(test)]
mod tests;
