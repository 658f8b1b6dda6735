//! AI providers and the model names clients ask for.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::price::UsdPerMillion;
use crate::spec::LimitsSpec;
use crate::units::DurationSpec;

/// An AI provider account or server.
#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    /// Cloud region of regional providers (Bedrock: `us-east-1`); gives the
    /// base URL when `base_url` is unset.
    #[serde(default)]
    pub region: Option<String>,
    /// AWS credentials for SigV4-signed providers (Bedrock).
    #[serde(default)]
    pub aws: Option<AwsCredentialsSpec>,
}

/// AWS credentials; write `${AWS_ACCESS_KEY_ID}` and friends rather than
/// the values.
#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct AwsCredentialsSpec {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Session token of temporary credentials.
    #[serde(default)]
    pub session_token: Option<String>,
}

impl std::fmt::Debug for AwsCredentialsSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AwsCredentialsSpec([redacted])")
    }
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
    /// AWS Bedrock's Converse API: `region` and `aws` credentials (or an
    /// `api_key`, Bedrock's bearer API key) required; `model` is the
    /// Bedrock model or inference profile id.
    Bedrock,
    /// Google's Gemini API (`generateContent`, key in `x-goog-api-key`);
    /// default base URL `https://generativelanguage.googleapis.com/v1beta`.
    Gemini,
    /// Cohere's v2 Chat API; default base URL `https://api.cohere.com`.
    Cohere,
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
    /// How a deployment is chosen for each call.
    #[serde(default)]
    pub strategy: RoutingStrategySpec,
    /// Other models tried, in order, once every deployment of this one has
    /// failed or been skipped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallbacks: Vec<String>,
    /// A larger-context model used when the prompt does not fit this
    /// model's deployments (estimate over `context_window`, or a provider's
    /// context-length error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window_fallback: Option<String>,
    /// Retries of a failing deployment before the next one is tried.
    #[serde(default)]
    pub retries: RetriesSpec,
    /// Time allowed for each attempt to produce its answer (for streams,
    /// the first chunk). Default: the provider's `timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationSpec>,
    /// When a failing deployment is taken out of rotation for a while.
    #[serde(default)]
    pub cooldown: CooldownSpec,
    /// Limits on all calls to this model name, whoever makes them.
    #[serde(default, skip_serializing_if = "LimitsSpec::is_empty")]
    pub limits: LimitsSpec,
}

/// How a model picks among its deployments. Deployments in cool-down or at
/// their `rpm`/`tpm` limit are skipped by every strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoutingStrategySpec {
    /// Lowest `priority` first; weighted random among equal priorities;
    /// the next priority only when the better ones fail or are skipped.
    #[default]
    PriorityFallback,
    /// Smooth weighted round robin over `weight`.
    Weighted,
    /// Lowest moving average of time to first token; untried deployments
    /// are explored first.
    LeastLatency,
    /// Cheapest for the estimated prompt and completion, by the price table
    /// or the deployment's prices.
    LeastCost,
    /// Fewest calls in flight.
    LeastBusy,
}

/// Retries of one deployment (with exponential back-off and jitter) before
/// the router moves to the next deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct RetriesSpec {
    /// Extra attempts on the same deployment after a retryable failure
    /// (5xx, timeout, connection error); 429s move on at once. Default 0.
    #[serde(default)]
    pub attempts: u32,
    /// Back-off before the first retry; doubles each retry. Default 100ms.
    #[serde(default = "backoff_base")]
    pub backoff_base: DurationSpec,
    /// Longest back-off. Default 2s.
    #[serde(default = "backoff_max")]
    pub backoff_max: DurationSpec,
}

impl Default for RetriesSpec {
    fn default() -> Self {
        RetriesSpec {
            attempts: 0,
            backoff_base: backoff_base(),
            backoff_max: backoff_max(),
        }
    }
}

fn backoff_base() -> DurationSpec {
    DurationSpec::from_millis(100)
}

fn backoff_max() -> DurationSpec {
    DurationSpec::from_secs(2)
}

/// Passive health: a deployment that fails `failures` times in a row is
/// skipped for `duration`. A 429 with `Retry-After` cools the deployment
/// down for that long at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct CooldownSpec {
    /// Consecutive failures that trigger a cool-down. Default 3.
    #[serde(default = "cooldown_failures")]
    pub failures: u32,
    /// How long the deployment is skipped. Default 30s.
    #[serde(default = "cooldown_duration")]
    pub duration: DurationSpec,
}

impl Default for CooldownSpec {
    fn default() -> Self {
        CooldownSpec {
            failures: cooldown_failures(),
            duration: cooldown_duration(),
        }
    }
}

fn cooldown_failures() -> u32 {
    3
}

fn cooldown_duration() -> DurationSpec {
    DurationSpec::from_secs(30)
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

/// Credentials never reach a log line through `{:?}`: the key and header
/// values (which may carry tokens) are redacted.
impl std::fmt::Debug for ProviderSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderSpec")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("api_version", &self.api_version)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("timeout", &self.timeout)
            .field("max_tokens_default", &self.max_tokens_default)
            .field("unsupported_params", &self.unsupported_params)
            .field("mock", &self.mock)
            .field("region", &self.region)
            .field("aws", &self.aws)
            .finish()
    }
}

#[cfg(test)]
mod redaction_tests {
    use super::*;

    #[test]
    fn debug_never_prints_credentials() {
        let spec: ProviderSpec = serde_yaml_ng::from_str(
            "{ name: p, kind: openai, api_key: sk-secret-value, headers: { x-token: tok-secret } }",
        )
        .unwrap();
        let text = format!("{spec:?}");
        assert!(
            !text.contains("sk-secret-value") && !text.contains("tok-secret"),
            "{text}"
        );
        assert!(
            text.contains("<redacted>") && text.contains("x-token"),
            "{text}"
        );
    }
}
