//! The shared Redis connection and the rules every call follows: a timeout,
//! a short pause after repeated failures, and error logs that cannot flood.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{FromRedisValue, ScriptInvocation};
use tokio::time::Instant;

use crate::{ClusterError, ClusterOptions, OnError};

/// How a certificate starts in a PEM file.
const CERT_PEM: &[u8] = b"-----BEGIN CERTIFICATE-----";

/// Failures in a row after which Redis is left alone for [`PAUSE`].
const FAILURES_TO_PAUSE: u32 = 3;

/// How long requests skip Redis (and get the [`OnError`] answer at once)
/// once it keeps failing: during an outage a request then costs nothing
/// instead of a timeout, and the first call after the pause probes again.
const PAUSE: Duration = Duration::from_secs(1);

/// At most one error log per this long; the ones skipped are counted in
/// the next.
const LOG_EVERY: Duration = Duration::from_secs(10);

pub(crate) struct Backend {
    pub(crate) options: ClusterOptions,
    conn: ConnectionManager,
    client: redis::Client,
    /// For [`crate::RedisLedger`]'s synchronous `current`, opened on first
    /// use; never touched on the request path.
    blocking: Mutex<Option<redis::Connection>>,
    epoch: Instant,
    failures: AtomicU32,
    /// Every failure so far, for metrics.
    pub(crate) errors_total: AtomicU64,
    /// Milliseconds since `epoch` until which Redis is skipped.
    paused_until: AtomicU64,
    errors: Throttle,
}

/// Lets one log line through per [`LOG_EVERY`] and counts the others.
#[derive(Default)]
pub(crate) struct Throttle {
    /// Milliseconds since the backend's epoch of the last line (0: none yet).
    last: AtomicU64,
    skipped: AtomicU64,
}

impl Throttle {
    /// `Some(lines skipped since the last one)` when a line may go out now.
    fn due(&self, now: u64) -> Option<u64> {
        let last = self.last.load(Ordering::Relaxed);
        let due = last == 0 || now.saturating_sub(last) >= millis(LOG_EVERY);
        if due
            && self
                .last
                .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return Some(self.skipped.swap(0, Ordering::Relaxed));
        }
        self.skipped.fetch_add(1, Ordering::Relaxed);
        None
    }
}

impl Backend {
    pub(crate) fn new(options: ClusterOptions) -> Result<Backend, ClusterError> {
        let client = match &options.tls {
            None => redis::Client::open(options.url.as_str()).map_err(ClusterError::Url)?,
            Some(tls) => {
                // The URL first, so its errors are not reported as the
                // certificates'.
                let info = redis::IntoConnectionInfo::into_connection_info(options.url.as_str())
                    .map_err(ClusterError::Url)?;
                // The client library reads a file without a certificate
                // as an empty trust store, which would fail every call
                // later; say so at start instead.
                let holds_certificate =
                    |pem: &[u8]| pem.windows(CERT_PEM.len()).any(|w| w == CERT_PEM);
                if tls.ca_pem.as_deref().is_some_and(|p| !holds_certificate(p)) {
                    return Err(ClusterError::Tls(
                        "the CA file holds no PEM certificate".into(),
                    ));
                }
                if tls
                    .client
                    .as_ref()
                    .is_some_and(|(c, _)| !holds_certificate(c))
                {
                    return Err(ClusterError::Tls(
                        "the client certificate file holds no PEM certificate".into(),
                    ));
                }
                let certificates = redis::TlsCertificates {
                    client_tls: tls
                        .client
                        .as_ref()
                        .map(|(cert, key)| redis::ClientTlsConfig {
                            client_cert: cert.clone(),
                            client_key: key.clone(),
                        }),
                    root_cert: tls.ca_pem.clone(),
                };
                redis::Client::build_with_tls(info, certificates)
                    .map_err(|e| ClusterError::Tls(e.to_string()))?
            }
        };
        // One quick retry inside the manager: the timeout and the pause
        // above decide how failures are handled, not a back-off that would
        // keep a reconnect future sleeping after Redis is back.
        // The library's own response timeout (500 ms by default) is set to
        // ours, so a longer configured timeout is not cut short.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.timeout))
            .set_response_timeout(Some(options.timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(20))
            .set_max_delay(options.timeout);
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(ClusterError::Url)?;
        Ok(Backend {
            options,
            conn,
            client,
            blocking: Mutex::new(None),
            epoch: Instant::now(),
            failures: AtomicU32::new(0),
            errors_total: AtomicU64::new(0),
            paused_until: AtomicU64::new(0),
            errors: Throttle::default(),
        })
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.options.prefix
    }

    pub(crate) fn on_error(&self) -> OnError {
        self.options.on_error
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether Redis is being left alone after repeated failures; callers
    /// answer by [`OnError`] without a round trip.
    pub(crate) fn paused(&self) -> bool {
        self.paused_until.load(Ordering::Relaxed) > self.now_ms()
    }

    /// Run a script, bounded by the timeout.
    pub(crate) async fn run<T: FromRedisValue>(
        &self,
        call: &ScriptInvocation<'_>,
        what: &'static str,
    ) -> Result<T, ClusterError> {
        let mut conn = self.conn.clone();
        let result =
            match tokio::time::timeout(self.options.timeout, call.invoke_async(&mut conn)).await {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(e)) => Err(ClusterError::Redis(e)),
                Err(_) => Err(ClusterError::Timeout(self.options.timeout)),
            };
        self.record(what, result)
    }

    /// Run a script on the blocking connection (opened on first use), the
    /// calling thread waiting at most the timeout for each step.
    pub(crate) fn run_blocking<T: FromRedisValue>(
        &self,
        call: &ScriptInvocation<'_>,
        what: &'static str,
    ) -> Result<T, ClusterError> {
        let mut slot = self.blocking.lock().unwrap_or_else(PoisonError::into_inner);
        let result = match slot.as_mut() {
            Some(conn) => call.invoke(conn).map_err(ClusterError::Redis),
            None => self.open_blocking().and_then(|mut conn| {
                let r = call.invoke(&mut conn).map_err(ClusterError::Redis);
                *slot = Some(conn);
                r
            }),
        };
        if result.is_err() {
            // Whatever state the connection is in, the next call starts afresh.
            *slot = None;
        }
        drop(slot);
        self.record(what, result)
    }

    fn open_blocking(&self) -> Result<redis::Connection, ClusterError> {
        let timeout = self.options.timeout;
        let conn = self.client.get_connection_with_timeout(timeout)?;
        conn.set_read_timeout(Some(timeout))?;
        conn.set_write_timeout(Some(timeout))?;
        Ok(conn)
    }

    fn record<T>(
        &self,
        what: &'static str,
        result: Result<T, ClusterError>,
    ) -> Result<T, ClusterError> {
        match &result {
            Ok(_) => self.failures.store(0, Ordering::Relaxed),
            Err(e) => self.failed(what, e),
        }
        result
    }

    /// Count a failure, pause after several in a row, and log unless a log
    /// went out less than [`LOG_EVERY`] ago.
    pub(crate) fn failed(&self, what: &'static str, error: &ClusterError) {
        let now = self.now_ms();
        self.errors_total.fetch_add(1, Ordering::Relaxed);
        if self.failures.fetch_add(1, Ordering::Relaxed) + 1 >= FAILURES_TO_PAUSE {
            let until = now.saturating_add(millis(PAUSE));
            self.paused_until.fetch_max(until, Ordering::Relaxed);
        }
        if let Some(skipped) = self.errors.due(now) {
            let answer = match self.options.on_error {
                OnError::Allow => "requests are let through",
                OnError::Deny => "requests are refused",
            };
            tracing::error!(
                operation = what,
                error = %error,
                similar_errors_not_logged = skipped,
                "cluster state in Redis unavailable; {answer} until it answers again"
            );
        }
    }

    /// Log through `throttle` (a limit of its own, for a different kind of
    /// trouble than Redis failing).
    pub(crate) fn warn_throttled(&self, throttle: &Throttle, message: &'static str) {
        if let Some(skipped) = throttle.due(self.now_ms()) {
            tracing::warn!(similar_warnings_not_logged = skipped, "{message}");
        }
    }
}

pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
