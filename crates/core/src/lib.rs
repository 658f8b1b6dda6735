//! Vocabulary shared by every Switchyard crate: identifiers, money, token
//! counts and the classification of errors.
//!
//! Invariants: no I/O, no async runtime, no allocation on the hot path beyond
//! what a caller asks for. Everything here is cheap to copy or clone.

mod error;
pub mod hash;
mod ids;
mod money;
mod text;

pub use error::ErrorClass;
pub use hash::{FastMap, FastSet};
pub use ids::RequestId;
pub use money::Money;
pub use text::ShortText;

/// Token counts as reported by a provider or estimated by the gateway.
///
/// `estimated` is true when any part came from a local estimate rather than
/// the provider's own usage report (for example a stream cut short).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TokenUsage {
    /// Tokens in the prompt, including cached ones.
    pub prompt: u64,
    /// Tokens generated, including reasoning tokens.
    pub completion: u64,
    /// Prompt tokens served from the provider's prompt cache.
    pub cached: u64,
    /// Completion tokens spent on hidden reasoning.
    pub reasoning: u64,
    /// Prompt tokens written to the provider's prompt cache: part of
    /// `prompt`, apart from `cached` (Anthropic bills them above the input
    /// price).
    #[serde(default)]
    pub cache_write: u64,
    /// Of `cache_write`, those written for the longer of two lifetimes
    /// (Anthropic's one hour), billed higher still.
    #[serde(default)]
    pub cache_write_long: u64,
    /// Whether any figure is a local estimate.
    pub estimated: bool,
}

impl TokenUsage {
    /// Prompt plus completion.
    pub fn total(&self) -> u64 {
        self.prompt + self.completion
    }
}
