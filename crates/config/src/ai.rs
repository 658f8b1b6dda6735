//! AI providers and the model names clients ask for.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::price::UsdPerMillion;
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
    /// API version: Azure's `api-version` query parameter (default
    /// `2024-10-21`), Anthropic's `anthropic-version` header (default
    /// `2023-06-01`); other kinds ignore it.
    #[serde(default)]
    pub api_version: Option<String>,
    /// Extra headers sent with every upstream request (`anthropic-beta`,
    /// `OpenAI-Organization`, ...). Credentials belong in `api_key`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Time allowed for a whole answer, and for each gap between streamed
    /// chunks. Default 600s.
    #[serde(default)]
    pub timeout: Option<DurationSpec>,
    /// Completion cap sent to providers that require one (Anthropic's
    /// `max_tokens`) when the client set none. Default 4096.
    #[serde(default)]
    pub max_tokens_default: Option<u32>,
    /// What to do with a request parameter the provider cannot take:
    /// `drop` it (default) or `refuse` the request with a 400 naming it.
    /// Parameters whose loss would change the answer's shape (`n` > 1,
    /// `logprobs`) are refused either way.
    #[serde(default)]
    pub unsupported_params: UnsupportedParamsSpec,
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
    /// Any server speaking OpenAI's Chat Completions (vLLM, Groq, Together,
    /// DeepSeek, OpenRouter, Fireworks, LM Studio, ...); `base_url` required.
    OpenaiCompatible,
    /// Azure OpenAI: the deployment's `model` is the Azure deployment name;
    /// `base_url` (`https://<resource>.openai.azure.com`) required.
    Azure,
    /// Anthropic's Messages API.
    Anthropic,
    /// Mistral's Chat Completions API.
    Mistral,
    /// Ollama through its OpenAI-compatible `/v1` endpoint.
    Ollama,
}

/// What to do with a request parameter the provider cannot take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnsupportedParamsSpec {
    /// Leave it out of the upstream request.
    #[default]
    Drop,
    /// Answer 400 naming the parameter and the provider.
    Refuse,
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
    /// Price of prompt tokens in USD per million (`2.50` or `"2.50"`);
    /// overrides the built-in price table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_price_per_million: Option<UsdPerMillion>,
    /// Price of completion tokens (reasoning included) in USD per million.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_price_per_million: Option<UsdPerMillion>,
    /// Price of prompt tokens served from the provider's cache, USD per
    /// million; defaults to the input price when only that is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_input_price_per_million: Option<UsdPerMillion>,
    /// Context window in tokens: prompt estimate + `max_tokens` above it is
    /// refused with `context_length_exceeded` before the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
    /// Requests per minute this deployment accepts (used by routing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u64>,
    /// Tokens per minute this deployment accepts (used by routing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<u64>,
    /// Lower is tried first by the priority-fallback strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
}

fn one() -> u32 {
    1
}
