//! Mistral's request differs from OpenAI's in a few field names and
//! values; everything else is OpenAI's wire types.

/// Mistral's public API.
pub const DEFAULT_BASE_URL: &str = "https://api.mistral.ai/v1";

/// Mistral's name for `seed`.
pub(super) const RANDOM_SEED: &str = "random_seed";

/// Mistral's name for `tool_choice: "required"`.
pub(super) const TOOL_CHOICE_ANY: &str = "any";
