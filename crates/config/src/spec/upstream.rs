//! Upstream pools: targets, balancing, health checks, breaker, timeouts,
//! retries and TLS to the targets.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::yes;
use crate::units::DurationSpec;

/// A named pool of upstream servers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct UpstreamSpec {
    /// Unique name that routes refer to.
    pub name: String,
    /// The servers; at least one, and their weights must not all be 0.
    pub targets: Vec<TargetSpec>,
    /// How a target is picked for each request.
    #[serde(default)]
    pub balance: BalanceSpec,
    /// What `consistent_hash` hashes: required with it, refused with any
    /// other `balance`.
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
    /// TLS settings for `https://` targets; optional even with them (the
    /// public web roots are trusted), refused when no target is `https://`.
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
    /// Base URL: `http://host:port` or `https://host:port` (port defaults to
    /// 80 or 443), no path, query or `user@`; unique within the upstream.
    pub url: String,
    /// Relative share of traffic (weighted algorithms); 0 drains the target.
    #[serde(default = "one")]
    pub weight: u32,
}

pub(super) fn one() -> u32 {
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
