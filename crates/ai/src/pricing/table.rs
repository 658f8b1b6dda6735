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
//!
//! Gemini, Mistral and Bedrock rows: the providers' own pricing pages
//! (ai.google.dev, mistral.ai, aws.amazon.com/bedrock/pricing) were not
//! readable in the research corpus either (the stored AWS copies carry no
//! figures). The same rule applies: a figure is here only where at least two
//! independent pages agree and no pricing page read disagrees. Each row
//! names one of those pages; `docs/pricing.md` lists the others. None of
//! these pages gave a confirmed cached-input price, so the cached-input
//! price is the input price (a cache hit is never under-charged).
//!
//! Cohere rows: cohere.com/pricing was not in the corpus either, and its
//! current page lists only some models; the same two-pages rule applies.
//! Cohere reports no cached tokens, so the cached-input price is the input
//! price. Only dated ids are priced: `command-r` names the retired 03-2024
//! version (another price than 08-2024), and the pages read disagree on
//! what `command-r-plus` names and on both aliases' prices.

use super::{Price, PriceEntry};

const ANTHROPIC: &str = "https://platform.claude.com/docs/en/docs/about-claude/pricing";
const OPENAI: &str = "https://platform.openai.com/docs/pricing";
const DEEPSEEK: &str = "https://api-docs.deepseek.com/quick_start/pricing-details-usd";
const GEMINI_DEPLOYBASE: &str = "https://deploybase.ai/articles/gemini-api-pricing";
const GEMINI_GEOTOOLBOX: &str = "https://geotoolbox.ai/blog/gemini-api-pricing";
const MISTRAL_APIDOG: &str = "https://apidog.com/blog/mistral-medium-3-5-api/";
const BEDROCK_PRISTREN: &str = "https://pristren.com/blog/amazon-nova-micro-ultra-fast";
const BEDROCK_INVENTIVEHQ: &str = "https://inventivehq.com/blog/aws-bedrock-pricing-guide";
const COHERE_A: &str = "https://openrouter.ai/cohere/command-a/api";
const COHERE_R_PLUS: &str = "https://openrouter.ai/cohere/command-r-plus-08-2024/api";
const COHERE_R7B: &str = "https://openrouter.ai/cohere/command-r7b-12-2024/api";
const COHERE_R: &str = "https://docs.flexprice.io/cookbooks/pricing-teardowns/cohere-pricing";
const READ: &str = "2026-11-23";

const fn row(
    vendor: &'static str,
    model: &'static str,
    input: i64,
    cached_input: i64,
    output: i64,
    source: &'static str,
) -> PriceEntry {
    // As `super::is_claude`: Anthropic's rows and Claude on Bedrock.
    let claude = matches!(vendor.as_bytes(), b"anthropic") || contains(model, "claude");
    let (cache_write, cache_write_long) = if claude {
        ((input * 5 + 3) / 4, input * 2)
    } else {
        (input, input)
    };
    PriceEntry {
        vendor,
        model,
        price: Price {
            input,
            cached_input,
            output,
            cache_write,
            cache_write_long,
        },
        date: READ,
        source,
    }
}

/// Whether `hay` contains `needle` (`const`: the table is built at compile
/// time).
const fn contains(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let mut i = 0;
    while i + n.len() <= h.len() {
        let mut j = 0;
        while j < n.len() && h[i + j] == n[j] {
            j += 1;
        }
        if j == n.len() {
            return true;
        }
        i += 1;
    }
    false
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
    // Gemini Developer API, Standard (paid) tier, text input. Gemini 2.5 Pro
    // has two tiers: these are the prompts <= 200k tokens prices; above
    // 200k Google charges more ($2.50 in / $15 out), which this table cannot
    // express, so long prompts are under-priced. Cached input: see above.
    row(
        "gemini",
        "gemini-2.5-pro",
        1_250_000,
        1_250_000,
        10_000_000,
        GEMINI_DEPLOYBASE,
    ),
    row(
        "gemini",
        "gemini-2.5-flash",
        300_000,
        300_000,
        2_500_000,
        GEMINI_GEOTOOLBOX,
    ),
    row(
        "gemini",
        "gemini-2.5-flash-lite",
        100_000,
        100_000,
        400_000,
        GEMINI_GEOTOOLBOX,
    ),
    // Mistral: only exact ids. Mistral's `-YYMM` versions look like dates to
    // `candidates`, so a bare `mistral-medium` row would also price
    // `mistral-medium-2505` (Medium 3, a different price) and the moving
    // `mistral-medium-latest` alias. Mistral publishes no cached-input price.
    row(
        "mistral",
        "mistral-medium-3.5",
        1_500_000,
        1_500_000,
        7_500_000,
        MISTRAL_APIDOG,
    ),
    row(
        "mistral",
        "mistral-medium-3-5-26-04",
        1_500_000,
        1_500_000,
        7_500_000,
        MISTRAL_APIDOG,
    ),
    // AWS Bedrock, on-demand, US East; AWS quotes per 1,000 tokens, so
    // $0.0008 / 1K = $0.80 / 1M. Keys are Bedrock model ids after
    // `candidates` (`us.amazon.nova-pro-v1:0` -> `amazon.nova-pro`). AWS:
    // cross-region inference costs the source region's price.
    row(
        "bedrock",
        "amazon.nova-pro",
        800_000,
        800_000,
        3_200_000,
        BEDROCK_PRISTREN,
    ),
    row(
        "bedrock",
        "anthropic.claude-3-haiku",
        250_000,
        250_000,
        1_250_000,
        BEDROCK_INVENTIVEHQ,
    ),
    // Cohere, direct API, production key. OpenRouter forwards Cohere
    // models to Cohere's API and lists its prices; Flexprice's page is a
    // capture of cohere.com/pricing (2026-11-11). Keys are full dated ids:
    // `candidates` cuts `-08-2024` to `-08`, never to the family name.
    row(
        "cohere",
        "command-a-03-2025",
        2_500_000,
        2_500_000,
        10_000_000,
        COHERE_A,
    ),
    row(
        "cohere",
        "command-r-plus-08-2024",
        2_500_000,
        2_500_000,
        10_000_000,
        COHERE_R_PLUS,
    ),
    row(
        "cohere",
        "command-r-08-2024",
        150_000,
        150_000,
        600_000,
        COHERE_R,
    ),
    row(
        "cohere",
        "command-r7b-12-2024",
        37_500,
        37_500,
        150_000,
        COHERE_R7B,
    ),
];
