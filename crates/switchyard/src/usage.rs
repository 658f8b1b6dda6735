//! Where rate-limit buckets and usage counters live: in this process (a
//! single node; the store keeps its day and month usage across restarts),
//! or in Redis when the config has a `cluster` section (shared by every
//! node, which is then also where usage survives restarts).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sy_cluster::{Cluster, ClusterOptions, ClusterTls, LedgerOptions, OnError, RedisLedger};
use sy_config::{ClusterOnError, ClusterSpec, ClusterTlsSpec};
use sy_state::{LocalLedger, LocalLimiter, QuotaLedger, RateLimiter};
use sy_telemetry::Metrics;

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
        cluster: Cluster,
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
            tls: spec.tls.as_ref().map(read_tls).transpose()?,
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
            cluster: redis,
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

    /// With a cluster, `/metrics` shows its failed Redis calls and the
    /// settlements waiting to be resent (read when rendered).
    pub(crate) fn report_to(&self, metrics: &Metrics) {
        if let Usage::Cluster {
            cluster, ledger, ..
        } = self
        {
            let (cluster, ledger) = (cluster.clone(), ledger.clone());
            metrics.on_render(move |m| m.set_cluster(cluster.errors(), ledger.unsent()));
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
            let unsent = ledger.unsent();
            if unsent > 0 {
                tracing::error!(
                    operations = unsent,
                    "usage settlements Redis did not confirm are lost at shutdown \
                     (their estimates stay counted)"
                );
            }
        }
    }
}

/// The PEM files of `cluster.tls`, read once at start (like the listener's
/// and upstreams' certificates, paths are relative to the working
/// directory).
fn read_tls(spec: &ClusterTlsSpec) -> anyhow::Result<ClusterTls> {
    let read = |key: &str, path: &Option<String>| {
        path.as_deref()
            .map(|p| std::fs::read(p).with_context(|| format!("cluster.tls.{key}: reading `{p}`")))
            .transpose()
    };
    let cert = read("client_cert_file", &spec.client_cert_file)?;
    let key = read("client_key_file", &spec.client_key_file)?;
    Ok(ClusterTls {
        ca_pem: read("ca_file", &spec.ca_file)?,
        client: cert.zip(key),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(dir: &std::path::Path, ca: &str, cert: Option<&str>) -> ClusterTlsSpec {
        let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
        ClusterTlsSpec {
            ca_file: Some(path(ca)),
            client_cert_file: cert.map(path),
            client_key_file: cert.map(|_| path("key.pem")),
        }
    }

    #[test]
    fn tls_files_are_read_and_a_missing_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [("ca.pem", "CA"), ("cert.pem", "CERT"), ("key.pem", "KEY")] {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let tls = read_tls(&spec(dir.path(), "ca.pem", Some("cert.pem"))).unwrap();
        assert_eq!(tls.ca_pem.as_deref(), Some(&b"CA"[..]));
        assert_eq!(tls.client, Some((b"CERT".to_vec(), b"KEY".to_vec())));
        let tls = read_tls(&spec(dir.path(), "ca.pem", None)).unwrap();
        assert!(tls.client.is_none());

        let err = read_tls(&spec(dir.path(), "missing.pem", None)).unwrap_err();
        let shown = format!("{err:#}");
        assert!(
            shown.contains("cluster.tls.ca_file") && shown.contains("missing.pem"),
            "{shown}"
        );
    }
}
