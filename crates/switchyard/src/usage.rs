//! Where rate-limit buckets and usage counters live: in this process (a
//! single node; the store keeps its day and month usage across restarts),
//! or in Redis when the config has a `cluster` section (shared by every
//! node, which is then also where usage survives restarts).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sy_cluster::{Cluster, ClusterOptions, LedgerOptions, OnError, RedisLedger};
use sy_config::{ClusterOnError, ClusterSpec};
use sy_state::{LocalLedger, LocalLimiter, QuotaLedger, RateLimiter};

/// The longest a shutdown waits for queued settlements to reach Redis.
const FLUSH_AT_SHUTDOWN: Duration = Duration::from_secs(5);

/// The limiter and the ledger of one process, for its whole life: reloads
/// keep the counts.
pub(crate) enum Usage {
    Local {
        limiter: Arc<LocalLimiter>,
        ledger: LocalLedger,
    },
    Cluster {
        limiter: Arc<dyn RateLimiter>,
        ledger: RedisLedger,
    },
}

impl Usage {
    /// In memory without `cluster`; in Redis with it (one connection for
    /// both, made lazily, so a Redis that is down does not stop a start).
    pub(crate) fn new(cluster: Option<&ClusterSpec>) -> anyhow::Result<Usage> {
        let Some(spec) = cluster else {
            return Ok(Usage::Local {
                limiter: Arc::new(LocalLimiter::default()),
                ledger: LocalLedger::new(),
            });
        };
        let redis = Cluster::new(ClusterOptions {
            url: spec.redis.clone(),
            prefix: spec.prefix.clone(),
            timeout: spec.timeout.get(),
            on_error: match spec.on_error {
                ClusterOnError::Allow => OnError::Allow,
                ClusterOnError::Deny => OnError::Deny,
            },
        })
        .context("cluster.redis")?;
        tracing::info!(
            prefix = %spec.prefix,
            on_error = ?spec.on_error,
            "rate limits and usage counters are shared through Redis"
        );
        Ok(Usage::Cluster {
            limiter: Arc::new(redis.limiter()),
            ledger: redis.ledger(LedgerOptions::default()),
        })
    }

    pub(crate) fn limiter(&self) -> Arc<dyn RateLimiter> {
        match self {
            Usage::Local { limiter, .. } => limiter.clone(),
            Usage::Cluster { limiter, .. } => Arc::clone(limiter),
        }
    }

    pub(crate) fn ledger(&self) -> Arc<dyn QuotaLedger> {
        match self {
            Usage::Local { ledger, .. } => Arc::new(ledger.clone()),
            Usage::Cluster { ledger, .. } => Arc::new(ledger.clone()),
        }
    }

    /// The in-memory ledger, whose day and month counters the store keeps;
    /// `None` when Redis keeps them.
    pub(crate) fn local_ledger(&self) -> Option<&LocalLedger> {
        match self {
            Usage::Local { ledger, .. } => Some(ledger),
            Usage::Cluster { .. } => None,
        }
    }

    /// At shutdown: send the settlements and releases still queued.
    pub(crate) async fn flush(&self) {
        if let Usage::Cluster { ledger, .. } = self {
            if tokio::time::timeout(FLUSH_AT_SHUTDOWN, ledger.flush())
                .await
                .is_err()
            {
                tracing::warn!("queued usage settlements did not all reach Redis before shutdown");
            }
        }
    }
}
