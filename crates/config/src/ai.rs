//! AI providers and the model names clients ask for.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::units::DurationSpec;

/// An AI provider account or server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ProviderSpec {
    /// Unique name that deployments refer to.
    pub name: String,
    /// Which wire protocol the provider speaks.
    pub kind: ProviderKindSpec,
    /// Base URL, e.g. `https://api.openai.com/v1`; each kind has a default.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Credential; write `${OPENAI_API_KEY}` rather than the key itself.
    #[serde(default)]
    pub api_key: Option<String>,
    /// Settings of the built-in mock provider.
    #[serde(default)]
    pub mock: Option<MockProviderSpec>,
}

/// Provider wire protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKindSpec {
    /// The built-in mock: deterministic answers, no network.
    Mock,
    /// OpenAI's API.
    Openai,
    /// Any server speaking OpenAI's Chat Completions (vLLM, Ollama, Groq, ...).
    OpenaiCompatible,
}

/// The mock provider's behaviour, for demos and tests.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct MockProviderSpec {
    /// Delay before the first token.
    #[serde(default)]
    pub latency: Option<DurationSpec>,
    /// Delay between streamed chunks.
    #[serde(default)]
    pub chunk_delay: Option<DurationSpec>,
}

/// A model name clients ask for, and the deployments behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ModelSpec {
    /// The public name, e.g. `gpt-4o` or `fast`.
    pub name: String,
    /// Real models behind the name.
    pub deployments: Vec<DeploymentSpec>,
}

/// One real model at one provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct DeploymentSpec {
    /// Provider name.
    pub provider: String,
    /// The provider's model id.
    pub model: String,
    /// Relative share of traffic.
    #[serde(default = "one")]
    pub weight: u32,
}

fn one() -> u32 {
    1
}
