//! The wire `usage` object and its conversion to [`TokenUsage`].
//!
//! OpenAI's convention, which the canonical form keeps: `prompt_tokens`
//! includes cached prompt tokens (`prompt_tokens_details.cached_tokens` is a
//! subset, not an addition) and `completion_tokens` includes reasoning
//! tokens (`completion_tokens_details.reasoning_tokens` is a subset). This is
//! also [`TokenUsage`]'s convention, so conversion is field to field. Other
//! providers' conventions are stated and converted in their own adapters.

use serde::{Deserialize, Serialize};
use sy_core::TokenUsage;

use crate::chat::Extra;

/// `prompt_tokens_details` member for prompt tokens written to the
/// provider's cache (not an OpenAI field: set by the adapters of providers
/// that report and bill cache writes, Anthropic and Bedrock).
pub const CACHE_WRITE: &str = "cache_creation_tokens";

/// `prompt_tokens_details` member for the part of [`CACHE_WRITE`] written
/// for the longer lifetime (Anthropic's one hour).
pub const CACHE_WRITE_LONG: &str = "cache_creation_1h_tokens";

/// Token counts of one completion, as on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens, cached ones included.
    pub prompt_tokens: u64,
    /// Generated tokens, reasoning ones included.
    pub completion_tokens: u64,
    /// Prompt plus completion.
    pub total_tokens: u64,
    /// Breakdown of the prompt tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    /// Breakdown of the completion tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
    /// Fields not typed here.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Subsets of the prompt tokens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PromptTokensDetails {
    /// Served from the provider's prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_tokens: Option<u64>,
    /// Fields not typed here (`audio_tokens`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Subsets of the completion tokens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompletionTokensDetails {
    /// Spent on hidden reasoning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
    /// Fields not typed here (`audio_tokens`, prediction counts, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Usage {
    /// The wire form of gateway counts, details included (as OpenAI sends
    /// them, so clients reading `prompt_tokens_details.cached_tokens` find a
    /// number).
    pub fn from_tokens(tokens: &TokenUsage) -> Usage {
        // Cache writes only when there are some: OpenAI has no such field.
        let mut details = Extra::new();
        if tokens.cache_write > 0 {
            details.insert(CACHE_WRITE.to_owned(), tokens.cache_write.into());
        }
        if tokens.cache_write_long > 0 {
            details.insert(CACHE_WRITE_LONG.to_owned(), tokens.cache_write_long.into());
        }
        Usage {
            prompt_tokens: tokens.prompt,
            completion_tokens: tokens.completion,
            total_tokens: tokens.total(),
            prompt_tokens_details: Some(PromptTokensDetails {
                cached_tokens: Some(tokens.cached),
                extra: details,
            }),
            completion_tokens_details: Some(CompletionTokensDetails {
                reasoning_tokens: Some(tokens.reasoning),
                extra: Extra::new(),
            }),
            extra: Extra::new(),
        }
    }

    /// Gateway counts from a provider's report (`estimated` false).
    ///
    /// Normalises on the way: a cached or reasoning figure larger than the
    /// total it is part of is clamped, since a ledger must never bill more
    /// cached than prompt tokens.
    pub fn to_tokens(&self) -> TokenUsage {
        let cached = self
            .prompt_tokens_details
            .as_ref()
            .and_then(|d| d.cached_tokens)
            .unwrap_or(0);
        let reasoning = self
            .completion_tokens_details
            .as_ref()
            .and_then(|d| d.reasoning_tokens)
            .unwrap_or(0);
        let cached = cached.min(self.prompt_tokens);
        let detail = |key: &str| {
            self.prompt_tokens_details
                .as_ref()
                .and_then(|d| d.extra.get(key))
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0)
        };
        let cache_write = detail(CACHE_WRITE).min(self.prompt_tokens - cached);
        TokenUsage {
            prompt: self.prompt_tokens,
            completion: self.completion_tokens,
            cached,
            reasoning: reasoning.min(self.completion_tokens),
            cache_write,
            cache_write_long: detail(CACHE_WRITE_LONG).min(cache_write),
            estimated: false,
        }
    }

    /// Recompute `total_tokens` from its parts. Some OpenAI-compatible
    /// servers omit it or report zero.
    pub fn normalize(&mut self) {
        self.total_tokens = self.prompt_tokens.saturating_add(self.completion_tokens);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn from_tokens_has_openai_shape() {
        let tokens = TokenUsage {
            prompt: 10,
            completion: 5,
            cached: 2,
            reasoning: 1,
            estimated: true,
            ..TokenUsage::default()
        };
        let wire = serde_json::to_value(Usage::from_tokens(&tokens)).unwrap();
        assert_eq!(
            wire,
            json!({
                "prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
                "prompt_tokens_details": {"cached_tokens": 2},
                "completion_tokens_details": {"reasoning_tokens": 1}
            })
        );
    }

    #[test]
    fn to_tokens_clamps_and_keeps_unknown_fields() {
        let wire = json!({
            "prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 0,
            "prompt_tokens_details": {"cached_tokens": 9, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 2},
            "queue_time": 0.1
        });
        let mut usage: Usage = serde_json::from_value(wire).unwrap();
        let tokens = usage.to_tokens();
        assert_eq!(
            tokens,
            TokenUsage {
                prompt: 3,
                completion: 4,
                cached: 3,
                reasoning: 2,
                estimated: false,
                ..TokenUsage::default()
            }
        );
        usage.normalize();
        assert_eq!(usage.total_tokens, 7);
        let back = serde_json::to_value(&usage).unwrap();
        assert_eq!(back["queue_time"], json!(0.1));
        assert_eq!(back["prompt_tokens_details"]["audio_tokens"], json!(0));
    }
}
