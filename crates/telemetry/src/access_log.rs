//! The JSON access log: one line per request, written by a dedicated task so
//! the request path only formats and hands over.

use std::time::SystemTime;

use serde::Serialize;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

/// One access log line. Field names are the stable log schema.
#[derive(Debug, Serialize)]
pub struct AccessLogLine<'a> {
    /// RFC 3339 time the request arrived, UTC, milliseconds.
    #[serde(serialize_with = "rfc3339")]
    pub ts: SystemTime,
    /// Request id.
    pub request_id: &'a str,
    /// Client IP after trusted-proxy resolution.
    pub client_ip: String,
    /// Method.
    pub method: &'a str,
    /// Path (without the query string: it may carry secrets).
    pub path: &'a str,
    /// HTTP version, e.g. `HTTP/1.1`.
    pub protocol: &'a str,
    /// Host header or `:authority`.
    pub host: &'a str,
    /// Matched route, if any.
    pub route: Option<&'a str>,
    /// Upstream pool and target that answered, if any.
    pub upstream: Option<&'a str>,
    /// Target address, e.g. `127.0.0.1:9000`.
    pub target: Option<&'a str>,
    /// Upstream attempts made (1 + retries).
    pub attempts: u32,
    /// Status sent to the client.
    pub status: u16,
    /// Request body bytes received (known once the body is read).
    pub bytes_in: u64,
    /// Response body bytes sent.
    pub bytes_out: u64,
    /// Milliseconds from request head to response head.
    pub duration_ms: f64,
    /// Milliseconds spent waiting for the upstream's response head.
    pub upstream_ms: Option<f64>,
    /// Machine-readable error code, when the gateway produced an error.
    pub error: Option<&'a str>,
    /// Consumer name, when authenticated.
    pub consumer: Option<&'a str>,
    /// AI calls: the model the client asked for, what answered, tokens and cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ai: Option<AiLogFields<'a>>,
}

/// The AI part of an access log line.
#[derive(Debug, Serialize)]
pub struct AiLogFields<'a> {
    /// Public model name asked for.
    pub model: &'a str,
    /// `provider/model` that answered.
    pub deployment: &'a str,
    /// Prompt tokens (provider-reported unless `estimated`).
    pub prompt_tokens: Option<u64>,
    /// Completion tokens.
    pub completion_tokens: Option<u64>,
    /// Prompt tokens served from the provider's cache.
    pub cached_tokens: Option<u64>,
    /// Prompt tokens written to the provider's cache (billed above input
    /// by Anthropic).
    pub cache_write_tokens: Option<u64>,
    /// Whether the token counts are the gateway's estimate (a cut stream).
    pub estimated: bool,
    /// Cost in USD with six decimals, when the deployment has a price.
    pub cost_usd: Option<String>,
}

fn rfc3339<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&humantime::format_rfc3339_millis(*t))
}

/// Handle for writing access log lines; cheap to clone.
#[derive(Debug, Clone)]
pub struct AccessLog {
    tx: Option<mpsc::Sender<Vec<u8>>>,
}

impl AccessLog {
    /// A log that drops everything (access log disabled).
    pub fn disabled() -> Self {
        AccessLog { tx: None }
    }

    /// Start the writer task on stdout. The task ends after every handle is
    /// dropped and the queue is written out, so awaiting it at shutdown
    /// flushes every accepted line.
    pub fn stdout() -> (Self, tokio::task::JoinHandle<()>) {
        Self::to_writer(tokio::io::stdout())
    }

    /// Start the writer task on any writer (tests use a pipe).
    pub fn to_writer<W>(writer: W) -> (Self, tokio::task::JoinHandle<()>)
    where
        W: tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(65_536);
        let task = tokio::spawn(async move {
            let mut out = tokio::io::BufWriter::with_capacity(64 * 1024, writer);
            while let Some(line) = rx.recv().await {
                if out.write_all(&line).await.is_err() {
                    break;
                }
                // Write out whatever else is queued, then flush once.
                while let Ok(line) = rx.try_recv() {
                    if out.write_all(&line).await.is_err() {
                        return;
                    }
                }
                if out.flush().await.is_err() {
                    break;
                }
            }
            let _ = out.flush().await;
        });
        (AccessLog { tx: Some(tx) }, task)
    }

    /// Whether lines are written at all.
    pub fn enabled(&self) -> bool {
        self.tx.is_some()
    }

    /// Queue an already formatted line from a context that cannot await (a
    /// drop guard). When the queue is full a task waits for room instead.
    pub fn send_detached(&self, line: Vec<u8>) {
        let Some(tx) = &self.tx else { return };
        if let Err(mpsc::error::TrySendError::Full(line)) = tx.try_send(line) {
            let tx = tx.clone();
            tokio::spawn(async move {
                let _ = tx.send(line).await;
            });
        }
    }

    /// Queue a line. When the queue is full the caller waits rather than the
    /// line being dropped: a slow log sink slows requests, it never loses lines.
    pub async fn write(&self, line: &AccessLogLine<'_>) {
        let Some(tx) = &self.tx else { return };
        let mut buf = Vec::with_capacity(384);
        if serde_json::to_writer(&mut buf, line).is_err() {
            return;
        }
        buf.push(b'\n');
        match tx.try_send(buf) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(buf)) => {
                let _ = tx.send(buf).await;
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn lines_are_json_and_flushed_on_close() {
        let (client, mut server) = tokio::io::duplex(1 << 16);
        let (log, task) = AccessLog::to_writer(client);
        for i in 0..3u16 {
            let line = AccessLogLine {
                ts: SystemTime::UNIX_EPOCH,
                request_id: "r1",
                client_ip: "127.0.0.1".into(),
                method: "GET",
                path: "/x",
                protocol: "HTTP/1.1",
                host: "h",
                route: Some("r"),
                upstream: None,
                target: None,
                attempts: 1,
                status: 200 + i,
                bytes_in: 0,
                bytes_out: 2,
                duration_ms: 0.5,
                upstream_ms: None,
                error: None,
                consumer: None,
                ai: None,
            };
            log.write(&line).await;
        }
        drop(log);
        task.await.unwrap();
        let mut text = String::new();
        server.read_to_string(&mut text).await.unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[2]["status"], 202);
        assert_eq!(lines[0]["ts"], "1970-01-01T00:00:00.000Z");
    }
}
