//! Route policies (IP rules, CORS, key auth, JWT and OAuth2 introspection,
//! rate limits, body limit, header transforms) and the consumers that
//! authentication maps callers to.

use std::collections::BTreeMap;

use schemars::JsonSchema;

use super::LimitsSpec;
use serde::{Deserialize, Serialize};

use crate::units::{ByteSize, Cidr, DurationSpec};

/// Policies of a route. They run in a fixed order whatever order they are
/// written in: ip → cors → authentication (key_auth, jwt or
/// oauth2_introspection) → rate_limits → body_limit → request_headers →
/// (upstream) → response_headers.
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
    /// Require a signed JWT whose consumer claim names a consumer. At most
    /// one of `key_auth`, `jwt` and `oauth2_introspection` per route.
    #[serde(default)]
    pub jwt: Option<JwtSpec>,
    /// Require an OAuth2 access token, checked at the identity provider's
    /// introspection endpoint (RFC 7662). At most one of `key_auth`, `jwt`
    /// and `oauth2_introspection` per route.
    #[serde(default)]
    pub oauth2_introspection: Option<IntrospectionSpec>,
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

/// JWT bearer-token authentication (RFC 7519). The token's signature is
/// checked with `secret`, `public_keys` or the keys at `jwks_url` (at least
/// one), then `exp`, `nbf`, `iss` and `aud`; the `consumer_claim` names the
/// consumer the request is made as.
#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct JwtSpec {
    /// Accepted algorithms. Default: every one the configured keys can
    /// verify (`HS256` with `secret`; `RS256` and `ES256` with `public_keys`
    /// or `jwks_url`). `none` is never accepted.
    #[serde(default)]
    pub algorithms: Vec<JwtAlgorithmSpec>,
    /// Shared secret for `HS256`; take it from the environment (`${JWT_SECRET}`).
    #[serde(default)]
    pub secret: Option<String>,
    /// PEM public keys for `RS256` (RSA) and `ES256` (P-256), each
    /// `-----BEGIN PUBLIC KEY-----` (or `BEGIN RSA PUBLIC KEY`).
    #[serde(default)]
    pub public_keys: Vec<String>,
    /// The identity provider's JSON Web Key Set (RFC 7517), `http://` or
    /// `https://`. Fetched at start, every `jwks_refresh`, and when a token
    /// names an unknown key id (at most once per 30 seconds).
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// How often the key set is fetched again.
    #[serde(default = "default_jwks_refresh")]
    pub jwks_refresh: DurationSpec,
    /// Required `iss` claim (exact match).
    #[serde(default)]
    pub issuer: Option<String>,
    /// Accepted audiences: the token's `aud` must name at least one.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Clock skew allowed when checking `exp` and `nbf`.
    #[serde(default = "default_leeway")]
    pub leeway: DurationSpec,
    /// Refuse tokens without `exp` (tokens that never expire).
    #[serde(default = "default_true")]
    pub require_exp: bool,
    /// The claim holding the consumer's name; a dotted path reaches into
    /// objects (`app.id`).
    #[serde(default = "default_jwt_consumer_claim")]
    pub consumer_claim: String,
    /// Also accept the token in this header (its whole value, or `Bearer <token>`).
    #[serde(default)]
    pub header: Option<String>,
    /// Also accept the token in this query parameter (off by default: URLs leak into logs).
    #[serde(default)]
    pub query_param: Option<String>,
}

/// A JWS signature algorithm the `jwt` policy can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum JwtAlgorithmSpec {
    /// HMAC with SHA-256 and the shared `secret`.
    #[serde(rename = "HS256")]
    Hs256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    #[serde(rename = "RS256")]
    Rs256,
    /// ECDSA on P-256 with SHA-256.
    #[serde(rename = "ES256")]
    Es256,
}

impl JwtAlgorithmSpec {
    /// The name as written in a token header and in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            JwtAlgorithmSpec::Hs256 => "HS256",
            JwtAlgorithmSpec::Rs256 => "RS256",
            JwtAlgorithmSpec::Es256 => "ES256",
        }
    }
}

fn default_jwks_refresh() -> DurationSpec {
    DurationSpec::from_secs(600)
}

fn default_leeway() -> DurationSpec {
    DurationSpec::from_secs(30)
}

fn default_true() -> bool {
    true
}

fn default_jwt_consumer_claim() -> String {
    "sub".into()
}

/// The secret never reaches a log line through `{:?}`.
impl std::fmt::Debug for JwtSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtSpec")
            .field("algorithms", &self.algorithms)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("public_keys", &self.public_keys.len())
            .field("jwks_url", &self.jwks_url)
            .field("jwks_refresh", &self.jwks_refresh)
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .field("leeway", &self.leeway)
            .field("require_exp", &self.require_exp)
            .field("consumer_claim", &self.consumer_claim)
            .field("header", &self.header)
            .field("query_param", &self.query_param)
            .finish()
    }
}

/// OAuth2 token introspection (RFC 7662): the bearer token is sent to `url`
/// with the gateway's client credentials; an active token's
/// `consumer_claim` names the consumer. Answers are cached by the token's
/// SHA-256.
#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct IntrospectionSpec {
    /// The introspection endpoint, `http://` or `https://`.
    pub url: String,
    /// The gateway's client id at the identity provider (HTTP Basic).
    pub client_id: String,
    /// The gateway's client secret; take it from the environment (`${INTROSPECTION_SECRET}`).
    pub client_secret: String,
    /// How long an answer (active or not) is reused; never past the token's `exp`.
    #[serde(default = "default_introspection_ttl")]
    pub cache_ttl: DurationSpec,
    /// The field of the introspection answer holding the consumer's name; a
    /// dotted path reaches into objects.
    #[serde(default = "default_introspection_consumer_claim")]
    pub consumer_claim: String,
    /// Scopes the token must all have (in its space-separated `scope`).
    #[serde(default)]
    pub required_scopes: Vec<String>,
    /// Longest wait for the introspection endpoint.
    #[serde(default = "default_introspection_timeout")]
    pub timeout: DurationSpec,
}

fn default_introspection_ttl() -> DurationSpec {
    DurationSpec::from_secs(60)
}

fn default_introspection_consumer_claim() -> String {
    "client_id".into()
}

fn default_introspection_timeout() -> DurationSpec {
    DurationSpec::from_secs(5)
}

/// The client secret never reaches a log line through `{:?}`.
impl std::fmt::Debug for IntrospectionSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntrospectionSpec")
            .field("url", &self.url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("cache_ttl", &self.cache_ttl)
            .field("consumer_claim", &self.consumer_claim)
            .field("required_scopes", &self.required_scopes)
            .field("timeout", &self.timeout)
            .finish()
    }
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
    /// The owning tenant (a name from `tenants`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Products this consumer is subscribed to (approved, file-managed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<String>,
    /// Limits on all of this consumer's keys together.
    #[serde(default, skip_serializing_if = "LimitsSpec::is_empty")]
    pub limits: LimitsSpec,
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
