//! Cluster state in Redis: [`RedisLimiter`] and [`RedisLedger`] implement
//! `sy-state`'s [`RateLimiter`](sy_state::RateLimiter) and
//! [`QuotaLedger`](sy_state::QuotaLedger), so several gateway nodes share
//! rate-limit buckets and usage counters without callers changing.
//!
//! Invariants:
//! - Every decision is one Lua script on the server (EVALSHA, loaded on
//!   NOSCRIPT by [`redis::Script`]), so it is atomic across nodes, and reads
//!   the time with `TIME` on the server, so nodes with skewed clocks agree on
//!   buckets and windows.
//! - No Redis call is unbounded: each is cut off after
//!   [`ClusterOptions::timeout`], and a failure is answered by
//!   [`OnError`] (let through, or refuse), logged at most every few seconds
//!   — never a panic, a hang or a 500.
//! - Nothing on the request path waits for settlement or release: those go
//!   to a background task over a bounded channel.
//!
//! The scripts build the keys of windowed counters themselves (the window
//! start comes from the server's clock), so they run on one Redis (with
//! replicas or Sentinel behind one address), not on Redis Cluster, which
//! requires every key a script touches to be declared up front.

mod backend;
mod ledger;
mod limiter;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use ledger::{LedgerOptions, RedisLedger};
pub use limiter::RedisLimiter;

use backend::Backend;

/// What a Redis failure (an error, or no answer within the timeout) means
/// for the request that needed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Let the request through unlimited (Kong's `fault_tolerant`): an
    /// outage of the shared store should not take the gateway down with it.
    #[default]
    Allow,
    /// Refuse the request (429 with `Retry-After: 1`): for budgets that must
    /// never be passed, at the price of availability.
    Deny,
}

/// How to reach Redis, shared by the limiter and the ledger.
#[derive(Clone, PartialEq, Eq)]
pub struct ClusterOptions {
    /// `redis://[user:password@]host:port/db`, `rediss://…` for TLS, or
    /// `redis+unix:///path`.
    pub url: String,
    /// Put before every key (`{prefix}:rl:…`, `{prefix}:q:…`), so several
    /// gateways, or tests, can share one Redis without meeting.
    pub prefix: String,
    /// The longest any one Redis call may take, connecting included.
    pub timeout: Duration,
    /// What a failed call means.
    pub on_error: OnError,
    /// Certificates for a `rediss://` URL; `None` verifies the server
    /// against the system's trusted roots.
    pub tls: Option<ClusterTls>,
}

/// TLS material for `rediss://`, as PEM.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ClusterTls {
    /// CAs to trust instead of the system's roots.
    pub ca_pem: Option<Vec<u8>>,
    /// A client certificate chain and its key, for servers that require one.
    pub client: Option<(Vec<u8>, Vec<u8>)>,
}

impl fmt::Debug for ClusterTls {
    /// The private key is never shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterTls")
            .field("ca", &self.ca_pem.is_some())
            .field("client_certificate", &self.client.is_some())
            .finish()
    }
}

impl fmt::Debug for ClusterOptions {
    /// The URL may carry a password; it is left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterOptions")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("on_error", &self.on_error)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl ClusterOptions {
    /// Options with the defaults of the `cluster` config section: prefix
    /// `switchyard`, a 200 ms timeout, failures let through.
    pub fn new(url: impl Into<String>) -> ClusterOptions {
        ClusterOptions {
            url: url.into(),
            prefix: "switchyard".to_owned(),
            timeout: Duration::from_millis(200),
            on_error: OnError::Allow,
            tls: None,
        }
    }
}

/// Why a cluster could not be set up, or a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The URL does not name a Redis server.
    #[error("the Redis URL is not valid: {0}")]
    Url(#[source] redis::RedisError),
    /// The CA or client certificate for `rediss://` could not be used.
    #[error("the TLS certificates for Redis cannot be used: {0}")]
    Tls(String),
    /// Redis answered with an error, or the connection failed.
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// No answer in time.
    #[error("Redis did not answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// A script answered something it never sends (another program using
    /// the same keys, or a script of another version).
    #[error("unexpected answer from a Redis script: {0}")]
    Reply(String),
}

/// One connection to Redis (a multiplexed connection that reconnects by
/// itself) and the options every call follows. Cheap to clone; make the
/// limiter and the ledger from the same one so they share the connection.
#[derive(Clone)]
pub struct Cluster {
    backend: Arc<Backend>,
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("options", &self.backend.options)
            .finish()
    }
}

impl Cluster {
    /// Set up the connection without waiting for it: the gateway starts even
    /// when Redis is down (requests then follow [`OnError`] until it is
    /// back). Only a malformed URL or unusable certificates are errors. Call inside a Tokio runtime.
    pub fn new(options: ClusterOptions) -> Result<Cluster, ClusterError> {
        Ok(Cluster {
            backend: Arc::new(Backend::new(options)?),
        })
    }

    /// A rate limiter over this connection.
    pub fn limiter(&self) -> RedisLimiter {
        RedisLimiter::new(Arc::clone(&self.backend))
    }

    /// A quota ledger over this connection, with its background task
    /// (settlement, release, lease renewal) spawned on the current runtime.
    pub fn ledger(&self, options: LedgerOptions) -> RedisLedger {
        RedisLedger::new(Arc::clone(&self.backend), options)
    }

    /// Redis calls that failed or timed out since this cluster was made
    /// (the limiter's, the ledger's and their background work's).
    pub fn errors(&self) -> u64 {
        self.backend
            .errors_total
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The options this cluster was made with.
    pub fn options(&self) -> &ClusterOptions {
        &self.backend.options
    }
}
