//! The configuration file's types. Every struct denies unknown fields so a typo
//! fails loudly with the list of allowed keys; defaults live beside the field
//! so the JSON Schema shows them.
//!
//! In YAML, enums with data are one-key maps (`target: { upstream: api }`,
//! `path: { prefix: /api }`) and enums without data are plain strings
//! (`balance: round_robin`), the same shapes as in JSON.
//!
//! This file holds the top level, listeners and the admin listener;
//! `upstream.rs`, `route.rs` and `policy.rs` hold the rest.

mod limits;
mod policy;
mod route;
mod tenancy;
mod upstream;

pub use limits::*;
pub use policy::*;
pub use route::*;
pub use tenancy::*;
pub use upstream::*;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ai::{ModelSpec, ProviderSpec};
use crate::units::{ByteSize, Cidr, DurationSpec};

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
    /// Where tenants, consumers, keys, products, subscriptions and the
    /// audit log are kept: `sqlite://data/switchyard.db` (the default; a
    /// file under `./data`, relative to the working directory),
    /// `sqlite:///abs/path.db`, or `postgres://user@host/db`. `null` runs
    /// from this file alone, without a store or the admin API's entities.
    #[serde(default = "default_store")]
    pub store: Option<String>,
    /// Teams owning consumers and products (applied into the store).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<TenantSpec>,
    /// Applications allowed to call routes that require a key.
    #[serde(default)]
    pub consumers: Vec<ConsumerSpec>,
    /// API products: routes and models that consumers subscribe to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<ProductSpec>,
    /// AI providers (OpenAI, Anthropic, the built-in mock, ...).
    #[serde(default)]
    pub providers: Vec<ProviderSpec>,
    /// Model names clients ask for, mapped to provider deployments.
    #[serde(default)]
    pub models: Vec<ModelSpec>,
    /// The JSON access log.
    #[serde(default)]
    pub access_log: AccessLogSpec,
    /// Rate limits and usage limits shared by several gateway nodes through
    /// one Redis. Absent: each node counts on its own, in memory (and, with
    /// a store, saves day and month usage there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterSpec>,
}

fn default_listeners() -> Vec<ListenerSpec> {
    vec![ListenerSpec::default()]
}

/// The default store: an SQLite file under `./data`.
pub const DEFAULT_STORE: &str = "sqlite://data/switchyard.db";

fn default_store() -> Option<String> {
    Some(DEFAULT_STORE.to_owned())
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
        ServerSpec {
            workers: 0,
            shutdown_grace: default_grace(),
        }
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
pub(super) fn yes() -> bool {
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
        AdminSpec {
            bind: default_admin_bind(),
        }
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

/// Several gateway nodes sharing rate-limit buckets and usage counters
/// through one Redis (a single server, or a primary behind one address;
/// not Redis Cluster). Changes take effect on restart.
#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ClusterSpec {
    /// The Redis server: `redis://[user:password@]host:port/db`,
    /// `rediss://…` for TLS, or `redis+unix:///path/to/socket`. Take a
    /// password from the environment (`${REDIS_PASSWORD}`).
    pub redis: String,
    /// Certificates for a `rediss://` server: a CA to trust instead of the
    /// system's roots, and a client certificate when the server asks for
    /// one. Without it, `rediss://` verifies the server against the
    /// system's trusted roots.
    #[serde(default)]
    pub tls: Option<ClusterTlsSpec>,
    /// Put before every key, so several gateways (or environments) can share
    /// one Redis without sharing limits.
    #[serde(default = "default_cluster_prefix")]
    pub prefix: String,
    /// The longest one Redis call may take (connecting included) before the
    /// request goes on as `on_error` says.
    #[serde(default = "default_cluster_timeout")]
    pub timeout: DurationSpec,
    /// When Redis fails or does not answer in time: `allow` lets the request
    /// through unlimited (and logs, at most every 10 s); `deny` refuses it
    /// with a 429 and `Retry-After: 1`.
    #[serde(default)]
    pub on_error: ClusterOnError,
}

/// TLS to Redis (`rediss://`). The server's name (or IP address) in the URL
/// must be in its certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ClusterTlsSpec {
    /// CA bundle (PEM) to trust instead of the system's roots.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// Client certificate (PEM) for a server that requires one
    /// (`tls-auth-clients yes`).
    #[serde(default)]
    pub client_cert_file: Option<String>,
    /// The client certificate's private key (PEM).
    #[serde(default)]
    pub client_key_file: Option<String>,
}

/// What a Redis failure means for the request that needed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClusterOnError {
    /// Let the request through (availability first).
    #[default]
    Allow,
    /// Refuse the request (limits first).
    Deny,
}

fn default_cluster_prefix() -> String {
    "switchyard".into()
}

fn default_cluster_timeout() -> DurationSpec {
    DurationSpec::from_millis(200)
}

impl std::fmt::Debug for ClusterSpec {
    /// The URL may carry a password: only its scheme and host are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = match self.redis.split_once("://") {
            Some((scheme, rest)) => {
                let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
                if rest.contains('@') {
                    format!("{scheme}://<redacted>@{host}")
                } else {
                    self.redis.clone()
                }
            }
            None => "<redacted>".to_owned(),
        };
        f.debug_struct("ClusterSpec")
            .field("redis", &shown)
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("on_error", &self.on_error)
            .field("tls", &self.tls)
            .finish()
    }
}
