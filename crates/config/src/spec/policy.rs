//! Route policies (IP rules, CORS, key auth, rate limits, body limit,
//! header transforms) and the consumers that key auth checks against.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::units::{ByteSize, Cidr, DurationSpec};

/// Policies of a route. They run in a fixed order whatever order they are
/// written in: ip → cors → key_auth → rate_limits → body_limit →
/// request_headers → (upstream) → response_headers.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct PoliciesSpec {
    /// IP allow and deny lists.
    #[serde(default)]
    pub ip: Option<IpRulesSpec>,
    /// Cross-origin resource sharing.
    #[serde(default)]
    pub cors: Option<CorsSpec>,
    /// Require an API key from `consumers`.
    #[serde(default)]
    pub key_auth: Option<KeyAuthSpec>,
    /// Token-bucket rate limits; each must pass.
    #[serde(default)]
    pub rate_limits: Vec<RateLimitSpec>,
    /// Request body limit for this route (lower than the listener's).
    #[serde(default)]
    pub body_limit: Option<ByteSize>,
    /// Changes to request headers sent upstream.
    #[serde(default)]
    pub request_headers: Option<HeaderTransformSpec>,
    /// Changes to response headers sent to the client.
    #[serde(default)]
    pub response_headers: Option<HeaderTransformSpec>,
}

/// IP rules by CIDR. Deny wins over allow; with a non-empty allow list,
/// anything not in it is denied.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct IpRulesSpec {
    /// Allowed networks.
    #[serde(default)]
    pub allow: Vec<Cidr>,
    /// Denied networks.
    #[serde(default)]
    pub deny: Vec<Cidr>,
}

/// CORS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct CorsSpec {
    /// Allowed origins (`https://app.example.com`) or `*`.
    pub allow_origins: Vec<String>,
    /// Allowed methods.
    #[serde(default = "default_cors_methods")]
    pub allow_methods: Vec<String>,
    /// Allowed request headers.
    #[serde(default)]
    pub allow_headers: Vec<String>,
    /// Response headers exposed to scripts.
    #[serde(default)]
    pub expose_headers: Vec<String>,
    /// Allow cookies and credentials (not with `*`).
    #[serde(default)]
    pub allow_credentials: bool,
    /// How long a preflight answer may be cached.
    #[serde(default)]
    pub max_age: Option<DurationSpec>,
}

fn default_cors_methods() -> Vec<String> {
    ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
        .map(String::from)
        .to_vec()
}

/// API-key authentication against `consumers`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct KeyAuthSpec {
    /// Also accept the key in this query parameter (off by default: URLs leak into logs).
    #[serde(default)]
    pub query_param: Option<String>,
    /// Only these consumers may call; empty means any consumer.
    #[serde(default)]
    pub consumers: Vec<String>,
}

/// A token-bucket rate limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct RateLimitSpec {
    /// Requests allowed per `per`.
    pub requests: u32,
    /// The window the rate is expressed in.
    pub per: DurationSpec,
    /// Bucket size: the most requests allowed at once before the steady rate applies (default: `requests`).
    #[serde(default)]
    pub burst: Option<u32>,
    /// What is counted separately.
    #[serde(default)]
    pub key: RateLimitKeySpec,
}

/// What a rate limit counts by.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum RateLimitKeySpec {
    /// One bucket for the whole route.
    #[default]
    Route,
    /// One bucket per client IP.
    ClientIp,
    /// One bucket per value of this header (missing header: one shared bucket).
    Header(String),
    /// One bucket per authenticated consumer.
    Consumer,
}

/// Header changes, applied in the order remove → rename → set → add.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct HeaderTransformSpec {
    /// Headers removed.
    #[serde(default)]
    pub remove: Vec<String>,
    /// Headers renamed, `from: to`.
    #[serde(default)]
    pub rename: BTreeMap<String, String>,
    /// Headers set, replacing any value.
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// Headers appended.
    #[serde(default)]
    pub add: BTreeMap<String, String>,
}

/// An application with API keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ConsumerSpec {
    /// Unique name.
    pub name: String,
    /// Keys. Only their SHA-256 is kept in memory.
    #[serde(default)]
    pub keys: Vec<KeySpec>,
}

/// An API key, in clear (use `${ENV_VAR}`) or as its SHA-256 in hex.
/// `Debug` prints neither.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum KeySpec {
    /// The key itself; best taken from the environment with `${VAR}`.
    Key(String),
    /// Lower-case hex SHA-256 of the key.
    Sha256(String),
}

impl std::fmt::Debug for KeySpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySpec::Key(_) => f.write_str("Key(<redacted>)"),
            KeySpec::Sha256(_) => f.write_str("Sha256(<redacted>)"),
        }
    }
}
