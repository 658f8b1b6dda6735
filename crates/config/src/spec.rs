//! The configuration file's types. Every struct denies unknown fields so a typo
//! fails loudly with the list of allowed keys; defaults live beside the field
//! so the JSON Schema shows them.

use std::collections::BTreeMap;

use crate::units::Cidr;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ai::{ModelSpec, ProviderSpec};
use crate::units::{ByteSize, DurationSpec};

/// The whole configuration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ConfigSpec {
    /// Process-wide settings.
    #[serde(default)]
    pub server: ServerSpec,
    /// Where the data plane accepts client traffic.
    #[serde(default = "default_listeners")]
    pub listeners: Vec<ListenerSpec>,
    /// The admin listener: `/healthz`, `/readyz`, `/metrics`. `null` disables it.
    #[serde(default = "default_admin")]
    pub admin: Option<AdminSpec>,
    /// Client addresses whose `X-Forwarded-For` is believed when finding the
    /// client IP (for IP rules, rate-limit keys and hashing).
    #[serde(default)]
    pub trusted_proxies: Vec<Cidr>,
    /// Named pools of upstream servers.
    #[serde(default)]
    pub upstreams: Vec<UpstreamSpec>,
    /// Routes, matched by priority and then specificity.
    #[serde(default)]
    pub routes: Vec<RouteSpec>,
    /// Applications allowed to call routes that require a key.
    #[serde(default)]
    pub consumers: Vec<ConsumerSpec>,
    /// AI providers (OpenAI, Anthropic, the built-in mock, ...).
    #[serde(default)]
    pub providers: Vec<ProviderSpec>,
    /// Model names clients ask for, mapped to provider deployments.
    #[serde(default)]
    pub models: Vec<ModelSpec>,
    /// The JSON access log.
    #[serde(default)]
    pub access_log: AccessLogSpec,
}

fn default_listeners() -> Vec<ListenerSpec> {
    vec![ListenerSpec::default()]
}

fn default_admin() -> Option<AdminSpec> {
    Some(AdminSpec::default())
}

/// Process-wide settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ServerSpec {
    /// Worker threads for the data plane; 0 means one per CPU core.
    #[serde(default)]
    pub workers: usize,
    /// How long a graceful shutdown waits for in-flight requests and streams.
    #[serde(default = "default_grace")]
    pub shutdown_grace: DurationSpec,
}

fn default_grace() -> DurationSpec {
    DurationSpec::from_secs(30)
}

impl Default for ServerSpec {
    fn default() -> Self {
        ServerSpec { workers: 0, shutdown_grace: default_grace() }
    }
}

/// A data-plane listener.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ListenerSpec {
    /// Name used in logs and metrics.
    #[serde(default = "default_listener_name")]
    pub name: String,
    /// Socket address, e.g. `127.0.0.1:8080` or `[::]:443`.
    #[serde(default = "default_bind")]
    pub bind: String,
    /// TLS; absent means plain HTTP (HTTP/1.1 and h2c).
    #[serde(default)]
    pub tls: Option<TlsListenerSpec>,
    /// Accept HTTP/2 (h2c prior knowledge on plain listeners, ALPN `h2` on TLS).
    #[serde(default = "yes")]
    pub http2: bool,
    /// Protective limits.
    #[serde(default)]
    pub limits: ListenerLimitsSpec,
}

fn default_listener_name() -> String {
    "main".into()
}
fn default_bind() -> String {
    "127.0.0.1:8080".into()
}
fn yes() -> bool {
    true
}

impl Default for ListenerSpec {
    fn default() -> Self {
        ListenerSpec {
            name: default_listener_name(),
            bind: default_bind(),
            tls: None,
            http2: true,
            limits: ListenerLimitsSpec::default(),
        }
    }
}

/// TLS on a listener. Files are PEM and are reloaded when they change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct TlsListenerSpec {
    /// Certificate chain (PEM), leaf first.
    pub cert_file: String,
    /// Private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key_file: String,
    /// CA bundle (PEM) for client certificates; enables mTLS.
    #[serde(default)]
    pub client_ca_file: Option<String>,
    /// With `client_ca_file`: whether a client certificate is required.
    #[serde(default = "yes")]
    pub require_client_cert: bool,
}

/// Limits protecting a listener from slow, huge or abusive clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ListenerLimitsSpec {
    /// Total size of the request line and headers; larger gets 431.
    #[serde(default = "default_max_header_bytes")]
    pub max_header_bytes: ByteSize,
    /// Request body size; larger gets 413. Routes may set a lower limit.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: ByteSize,
    /// Time allowed to receive a request's headers (slowloris guard).
    #[serde(default = "default_header_timeout")]
    pub header_read_timeout: DurationSpec,
    /// How long an idle keep-alive connection stays open.
    #[serde(default = "default_idle")]
    pub idle_timeout: DurationSpec,
    /// Open connections at most; more are refused at accept.
    #[serde(default = "default_max_conns")]
    pub max_connections: usize,
    /// HTTP/2 streams per connection at once.
    #[serde(default = "default_h2_streams")]
    pub h2_max_concurrent_streams: u32,
    /// HTTP/2 streams a client may reset before the server answers them
    /// (rapid-reset guard, CVE-2023-44487).
    #[serde(default = "default_h2_resets")]
    pub h2_max_pending_reset_streams: usize,
}

fn default_max_header_bytes() -> ByteSize {
    ByteSize(64 * 1024)
}
fn default_max_body() -> ByteSize {
    ByteSize(10 * 1024 * 1024)
}
fn default_header_timeout() -> DurationSpec {
    DurationSpec::from_secs(10)
}
fn default_idle() -> DurationSpec {
    DurationSpec::from_secs(60)
}
fn default_max_conns() -> usize {
    10_000
}
fn default_h2_streams() -> u32 {
    256
}
fn default_h2_resets() -> usize {
    20
}

impl Default for ListenerLimitsSpec {
    fn default() -> Self {
        ListenerLimitsSpec {
            max_header_bytes: default_max_header_bytes(),
            max_body_bytes: default_max_body(),
            header_read_timeout: default_header_timeout(),
            idle_timeout: default_idle(),
            max_connections: default_max_conns(),
            h2_max_concurrent_streams: default_h2_streams(),
            h2_max_pending_reset_streams: default_h2_resets(),
        }
    }
}

/// The admin listener (health, readiness, metrics).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct AdminSpec {
    /// Socket address; keep it on loopback or a private network.
    #[serde(default = "default_admin_bind")]
    pub bind: String,
}

fn default_admin_bind() -> String {
    "127.0.0.1:9901".into()
}

impl Default for AdminSpec {
    fn default() -> Self {
        AdminSpec { bind: default_admin_bind() }
    }
}

/// The access log: one JSON line per request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct AccessLogSpec {
    /// Write access log lines.
    #[serde(default = "yes")]
    pub enabled: bool,
}

impl Default for AccessLogSpec {
    fn default() -> Self {
        AccessLogSpec { enabled: true }
    }
}

/// A named pool of upstream servers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct UpstreamSpec {
    /// Unique name that routes refer to.
    pub name: String,
    /// The servers.
    pub targets: Vec<TargetSpec>,
    /// How a target is picked for each request.
    #[serde(default)]
    pub balance: BalanceSpec,
    /// For `consistent_hash`: what is hashed.
    #[serde(default)]
    pub hash_on: Option<HashOnSpec>,
    /// Active and passive health checking.
    #[serde(default)]
    pub health_check: HealthCheckSpec,
    /// Per-target circuit breaker; absent disables it.
    #[serde(default)]
    pub circuit_breaker: Option<CircuitBreakerSpec>,
    /// Timeouts for calls to this pool.
    #[serde(default)]
    pub timeouts: TimeoutsSpec,
    /// Retries; absent means no retries.
    #[serde(default)]
    pub retries: Option<RetrySpec>,
    /// Speak HTTP/2 to the targets (h2c for `http://`, ALPN for `https://`).
    #[serde(default)]
    pub http2: bool,
    /// TLS settings for `https://` targets.
    #[serde(default)]
    pub tls: Option<UpstreamTlsSpec>,
    /// Idle keep-alive connections kept per target.
    #[serde(default = "default_pool_idle")]
    pub max_idle_per_target: usize,
}

fn default_pool_idle() -> usize {
    1024
}

/// One upstream server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct TargetSpec {
    /// Base URL: `http://host:port` or `https://host:port`, no path.
    pub url: String,
    /// Relative share of traffic (weighted algorithms); 0 drains the target.
    #[serde(default = "one")]
    pub weight: u32,
}

fn one() -> u32 {
    1
}

/// Load-balancing algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BalanceSpec {
    /// Each target in turn, ignoring weights.
    RoundRobin,
    /// Smooth weighted round robin: each target in proportion to its weight.
    #[default]
    Weighted,
    /// The target with the fewest requests in flight relative to its weight.
    LeastConnections,
    /// A hash of a header, cookie or the client IP picks the target, so the
    /// same key keeps landing on the same target while the pool is stable.
    ConsistentHash,
    /// Power of two choices on peak-EWMA latency times in-flight requests.
    PeakEwma,
}

/// What `consistent_hash` hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum HashOnSpec {
    /// A request header's value.
    Header(String),
    /// A cookie's value.
    Cookie(String),
    /// The client IP (after trusted-proxy resolution).
    ClientIp,
}

/// Health checking.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct HealthCheckSpec {
    /// Probe each target periodically.
    #[serde(default)]
    pub active: Option<ActiveHealthSpec>,
    /// Eject targets that fail live traffic.
    #[serde(default)]
    pub passive: Option<PassiveHealthSpec>,
}

/// Periodic probes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ActiveHealthSpec {
    /// Path requested with GET.
    #[serde(default = "default_health_path")]
    pub path: String,
    /// Time between probes.
    #[serde(default = "default_health_interval")]
    pub interval: DurationSpec,
    /// Probe timeout.
    #[serde(default = "default_health_timeout")]
    pub timeout: DurationSpec,
    /// Consecutive successes that mark a target healthy again.
    #[serde(default = "default_two")]
    pub healthy_threshold: u32,
    /// Consecutive failures that mark a target unhealthy.
    #[serde(default = "default_three")]
    pub unhealthy_threshold: u32,
}

fn default_health_path() -> String {
    "/".into()
}
fn default_health_interval() -> DurationSpec {
    DurationSpec::from_secs(5)
}
fn default_health_timeout() -> DurationSpec {
    DurationSpec::from_secs(2)
}
fn default_two() -> u32 {
    2
}
fn default_three() -> u32 {
    3
}

/// Outlier ejection from live traffic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct PassiveHealthSpec {
    /// Consecutive failed requests (connect errors, 5xx) that eject a target.
    #[serde(default = "default_five")]
    pub consecutive_failures: u32,
    /// First ejection time; doubles on each repeated ejection.
    #[serde(default = "default_ejection")]
    pub ejection_time: DurationSpec,
    /// Ceiling for the growing ejection time.
    #[serde(default = "default_max_ejection")]
    pub max_ejection_time: DurationSpec,
}

fn default_five() -> u32 {
    5
}
fn default_ejection() -> DurationSpec {
    DurationSpec::from_secs(10)
}
fn default_max_ejection() -> DurationSpec {
    DurationSpec::from_secs(300)
}

/// Per-target circuit breaker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct CircuitBreakerSpec {
    /// Consecutive failures that open the circuit.
    #[serde(default = "default_five")]
    pub failure_threshold: u32,
    /// How long the circuit stays open before letting probes through.
    #[serde(default = "default_open_for")]
    pub open_for: DurationSpec,
    /// Requests let through while half-open; all must succeed to close.
    #[serde(default = "one")]
    pub half_open_requests: u32,
}

fn default_open_for() -> DurationSpec {
    DurationSpec::from_secs(30)
}

/// Timeouts for one upstream call. `0s` disables a timeout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct TimeoutsSpec {
    /// TCP (and TLS) connect.
    #[serde(default = "default_connect")]
    pub connect: DurationSpec,
    /// From sending the request to receiving the response headers.
    #[serde(default = "default_response_header")]
    pub response_header: DurationSpec,
    /// Longest gap between two chunks of the response body.
    #[serde(default = "default_idle_body")]
    pub idle: DurationSpec,
    /// The whole call, including retries; `0s` for none.
    #[serde(default)]
    pub total: DurationSpec,
}

fn default_connect() -> DurationSpec {
    DurationSpec::from_secs(5)
}
fn default_response_header() -> DurationSpec {
    DurationSpec::from_secs(60)
}
fn default_idle_body() -> DurationSpec {
    DurationSpec::from_secs(60)
}

impl Default for TimeoutsSpec {
    fn default() -> Self {
        TimeoutsSpec {
            connect: default_connect(),
            response_header: default_response_header(),
            idle: default_idle_body(),
            total: DurationSpec::default(),
        }
    }
}

/// Retries with exponential back-off, jitter and a budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct RetrySpec {
    /// Retries after the first attempt.
    #[serde(default = "default_two")]
    pub attempts: u32,
    /// Response statuses that are retried.
    #[serde(default = "default_retry_statuses")]
    pub on_statuses: Vec<u16>,
    /// Retry when the connection could not be made (always safe: nothing was sent).
    #[serde(default = "yes")]
    pub on_connect_error: bool,
    /// Also retry non-idempotent methods (POST, PATCH) after a response status.
    #[serde(default)]
    pub retry_non_idempotent: bool,
    /// First back-off; doubles each retry, with full jitter.
    #[serde(default = "default_backoff_base")]
    pub backoff_base: DurationSpec,
    /// Back-off ceiling.
    #[serde(default = "default_backoff_max")]
    pub backoff_max: DurationSpec,
    /// Retries allowed as a fraction of recent requests (0.2 = 20 %).
    #[serde(default = "default_budget_ratio")]
    pub budget_ratio: f64,
    /// Retries per second always allowed, whatever the ratio.
    #[serde(default = "default_budget_min")]
    pub budget_min_per_sec: u32,
}

fn default_retry_statuses() -> Vec<u16> {
    vec![502, 503, 504]
}
fn default_backoff_base() -> DurationSpec {
    DurationSpec::from_millis(25)
}
fn default_backoff_max() -> DurationSpec {
    DurationSpec::from_secs(1)
}
fn default_budget_ratio() -> f64 {
    0.2
}
fn default_budget_min() -> u32 {
    10
}

/// TLS to upstream targets.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct UpstreamTlsSpec {
    /// CA bundle (PEM) to trust instead of the public web roots.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// Client certificate (PEM) presented to the upstream.
    #[serde(default)]
    pub client_cert_file: Option<String>,
    /// Client key (PEM).
    #[serde(default)]
    pub client_key_file: Option<String>,
    /// Server name to verify instead of the target's host.
    #[serde(default)]
    pub server_name: Option<String>,
}

/// A route: what it matches, what it does, where it sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct RouteSpec {
    /// Unique name, used in logs and metrics.
    pub name: String,
    /// Higher wins; among equal priorities the most specific match wins.
    #[serde(default)]
    pub priority: i32,
    /// Conditions; all must hold.
    #[serde(default, rename = "match")]
    pub matches: MatchSpec,
    /// Path and host rewriting before the upstream call.
    #[serde(default)]
    pub rewrite: Option<RewriteSpec>,
    /// Policies applied to the route's requests.
    #[serde(default)]
    pub policies: PoliciesSpec,
    /// Where matching requests go.
    pub target: RouteTargetSpec,
}

/// Route match conditions.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct MatchSpec {
    /// Hosts: `api.example.com` or `*.example.com` (one or more labels). Empty matches any.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Methods, upper case. Empty matches any.
    #[serde(default)]
    pub methods: Vec<String>,
    /// Path condition; absent matches any path.
    #[serde(default)]
    pub path: Option<PathMatchSpec>,
    /// Header conditions.
    #[serde(default)]
    pub headers: Vec<ValueMatchSpec>,
    /// Query parameter conditions.
    #[serde(default)]
    pub query: Vec<ValueMatchSpec>,
}

/// How the path is matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum PathMatchSpec {
    /// The path equals this.
    Exact(String),
    /// The path starts with this at a segment boundary (`/api` matches
    /// `/api` and `/api/x`, not `/apix`).
    Prefix(String),
    /// Segments with `{name}` captures and an optional final `{*rest}`,
    /// e.g. `/users/{id}/orders/{*rest}`.
    Template(String),
}

/// A condition on a header or query parameter. Exactly one of `exact`,
/// `regex`, `present` must be given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ValueMatchSpec {
    /// Header (case-insensitive) or query parameter name.
    pub name: String,
    /// The value equals this.
    #[serde(default)]
    pub exact: Option<String>,
    /// The value matches this regular expression (anchored at both ends).
    #[serde(default)]
    pub regex: Option<String>,
    /// `true`: the name must be present; `false`: it must be absent.
    #[serde(default)]
    pub present: Option<bool>,
}

/// Rewrites before the upstream call.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct RewriteSpec {
    /// Remove this leading path prefix (`/api/users` → `/users`).
    #[serde(default)]
    pub strip_prefix: Option<String>,
    /// Replace the path with this template; `{name}` inserts a capture from
    /// a `template` path match, e.g. `/v2/users/{id}`.
    #[serde(default)]
    pub path: Option<String>,
    /// Replace the Host header sent upstream (default: the client's host).
    #[serde(default)]
    pub host: Option<String>,
}

/// Where a route sends requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum RouteTargetSpec {
    /// An upstream pool by name.
    Upstream(String),
    /// A weighted split between pools (canaries, A/B).
    Split(Vec<SplitSpec>),
    /// The AI gateway: OpenAI- and Anthropic-compatible endpoints under this route.
    Ai(AiTargetSpec),
    /// A fixed response, for maintenance pages and tests.
    Respond(RespondSpec),
}

/// One branch of a weighted split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct SplitSpec {
    /// Upstream pool.
    pub upstream: String,
    /// Relative share.
    pub weight: u32,
}

/// The AI endpoint on a route.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct AiTargetSpec {
    /// Models reachable on this route; empty means every configured model.
    #[serde(default)]
    pub models: Vec<String>,
}

/// A fixed response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct RespondSpec {
    /// Status code.
    #[serde(default = "default_status")]
    pub status: u16,
    /// Body text.
    #[serde(default)]
    pub body: String,
    /// Response headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

fn default_status() -> u16 {
    200
}

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
    ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"].map(String::from).to_vec()
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
    /// Extra requests allowed in a burst above the steady rate (default: `requests`).
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum KeySpec {
    /// The key itself; best taken from the environment with `${VAR}`.
    Key(String),
    /// Lower-case hex SHA-256 of the key.
    Sha256(String),
}
