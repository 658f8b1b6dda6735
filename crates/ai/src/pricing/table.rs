//! The built-in price table: USD micro-dollars per million tokens.
//!
//! Every row names the page it was read from and the date it was read. Only
//! figures found in a provider's published pricing are here; models whose
//! price could not be confirmed are left out (see `docs/pricing.md`), and a
//! deployment can always set its own price in config.
//!
//! OpenAI rows: the pricing page itself was not reachable from the research
//! corpus; each figure was taken where at least two independent copies that
//! quote `platform.openai.com/docs/pricing` agree.

use super::{Price, PriceEntry};

const ANTHROPIC: &str = "https://platform.claude.com/docs/en/docs/about-claude/pricing";
const OPENAI: &str = "https://platform.openai.com/docs/pricing";
const DEEPSEEK: &str = "https://api-docs.deepseek.com/quick_start/pricing-details-usd";
const READ: &str = "2026-11-23";

const fn row(
    vendor: &'static str,
    model: &'static str,
    input: i64,
    cached_input: i64,
    output: i64,
    source: &'static str,
) -> PriceEntry {
    PriceEntry {
        vendor,
        model,
        price: Price {
            input,
            cached_input,
            output,
        },
        date: READ,
        source,
    }
}

/// `(vendor, base model id)` → price. Keys are lower case, without date or
/// version suffixes (see [`super::candidates`]).
pub(super) static TABLE: &[PriceEntry] = &[
    // Anthropic: "Cache hits & refreshes" is the cached-input price.
    row(
        "anthropic",
        "claude-opus-4-6",
        5_000_000,
        500_000,
        25_000_000,
        ANTHROPIC,
    ),
    row(
        "anthropic",
        "claude-opus-4-5",
        5_000_000,
        500_000,
        25_000_000,
        ANTHROPIC,
    ),
    row(
        "anthropic",
        "claude-opus-4-1",
        15_000_000,
        1_500_000,
        75_000_000,
        ANTHROPIC,
    ),
    row(
        "anthropic",
        "claude-opus-4",
        15_000_000,
        1_500_000,
        75_000_000,
        ANTHROPIC,
    ),
    row(
        "anthropic",
        "claude-sonnet-4-6",
        3_000_000,
        300_000,
        15_000_000,
        ANTHROPIC,
    ),
    row(
        "anthropic",
        "claude-sonnet-4-5",
        3_000_000,
        300_000,
        15_000_000,
        ANTHROPIC,
    ),
    row(
        "anthropic",
        "claude-sonnet-4",
        3_000_000,
        300_000,
        15_000_000,
        ANTHROPIC,
    ),
    row(
        "anthropic",
        "claude-3-7-sonnet",
        3_000_000,
        300_000,
        15_000_000,
        ANTHROPIC,
    ),
    row(
        "anthropic",
        "claude-haiku-4-5",
        1_000_000,
        100_000,
        5_000_000,
        ANTHROPIC,
    ),
    row(
        "anthropic",
        "claude-3-5-haiku",
        800_000,
        80_000,
        4_000_000,
        ANTHROPIC,
    ),
    row(
        "anthropic",
        "claude-3-opus",
        15_000_000,
        1_500_000,
        75_000_000,
        ANTHROPIC,
    ),
    row(
        "anthropic",
        "claude-3-haiku",
        250_000,
        30_000,
        1_250_000,
        ANTHROPIC,
    ),
    // OpenAI.
    row("openai", "gpt-4o", 2_500_000, 1_250_000, 10_000_000, OPENAI),
    row("openai", "gpt-4o-mini", 150_000, 75_000, 600_000, OPENAI),
    row("openai", "gpt-4.1", 2_000_000, 500_000, 8_000_000, OPENAI),
    row(
        "openai",
        "gpt-4.1-mini",
        400_000,
        100_000,
        1_600_000,
        OPENAI,
    ),
    row("openai", "gpt-4.1-nano", 100_000, 25_000, 400_000, OPENAI),
    row("openai", "o1", 15_000_000, 7_500_000, 60_000_000, OPENAI),
    row("openai", "o4-mini", 1_100_000, 275_000, 4_400_000, OPENAI),
    // DeepSeek: "cache hit" is the cached-input price, "cache miss" the
    // input price.
    row(
        "deepseek",
        "deepseek-chat",
        270_000,
        70_000,
        1_100_000,
        DEEPSEEK,
    ),
    row(
        "deepseek",
        "deepseek-reasoner",
        550_000,
        140_000,
        2_190_000,
        DEEPSEEK,
    ),
];
