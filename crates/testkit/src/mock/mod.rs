//! A fast, real HTTP upstream for tests and benchmarks.
//!
//! [`MockUpstream::start`] binds `127.0.0.1` (port 0 unless told), serves
//! HTTP/1.1 and cleartext HTTP/2 (or both over TLS) with hyper, and returns a
//! [`MockHandle`] to steer and observe it. Every response carries
//! `x-upstream: <name>` so a test can tell which target answered.
//!
//! Endpoints (any method unless noted):
//!
//! | path | answer |
//! |---|---|
//! | `/` and anything unlisted | 200 `ok` |
//! | `/health` | 200 `healthy`, or 503 `unhealthy` after `set_healthy(false)`; ignores `set_fail` |
//! | `/echo` | JSON: `method`, `path`, `query`, `headers`, `body`, `upstream`, `version` |
//! | `/status/{code}` | that status, body `status {code}` |
//! | `/delay/{ms}` | 200 `ok` after `ms` milliseconds (before headers) |
//! | `/stream?chunks=N&interval_ms=M` | chunked body, chunk *i* is `chunk i\n` |
//! | `/sse?chunks=N&interval_ms=M` | `text/event-stream`, event *i* is `data: event i` |
//! | `/hang` | never answers |
//! | `/reset` | closes the connection without an answer (HTTP/2: resets the stream) |
//! | `/ws` | WebSocket echo of text and binary messages |
//! | `POST /v1/chat/completions` | OpenAI Chat Completions, JSON or (`"stream": true`) SSE |
//! | `POST /v1/messages` | Anthropic Messages API, JSON or SSE (answers and steering in `mock/anthropic.rs`) |
//! | `/__stats` | JSON `{"upstream", "requests"}`; not counted itself |
//!
//! `set_fail(Some(code))` makes every path except `/health` and `/__stats`
//! answer `code` with an OpenAI-shaped error body.

mod anthropic;
mod body;
mod chat;
mod routes;
mod ws;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::time::Duration;

use http::HeaderValue;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

pub use body::MockBody;

use crate::tls::{self, PemPair, TlsError};

/// How a mock upstream is started. `Default` gives name `mock`, an ephemeral
/// port, plain HTTP and 20 chat stream chunks with no pause between them.
#[derive(Clone, Debug)]
pub struct MockOptions {
    /// Echoed in `x-upstream` and in `/echo` so tests can tell targets apart.
    pub name: String,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Content chunks in a streamed chat completion; also the completion's
    /// token count, streamed or not.
    pub chat_chunks: usize,
    /// Pause between streamed chat content chunks (the first comes at once).
    pub chat_interval: Duration,
    /// Serve HTTPS with this identity instead of plain HTTP.
    pub tls: Option<ServerTls>,
}

impl Default for MockOptions {
    fn default() -> Self {
        Self {
            name: "mock".to_owned(),
            port: 0,
            chat_chunks: 20,
            chat_interval: Duration::ZERO,
            tls: None,
        }
    }
}

impl MockOptions {
    /// Defaults with the given name.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// Sets the port (0 = any free one).
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Sets the chat stream's chunk count and the pause between chunks.
    #[must_use]
    pub fn chat_stream(mut self, chunks: usize, interval: Duration) -> Self {
        self.chat_chunks = chunks;
        self.chat_interval = interval;
        self
    }

    /// Serves HTTPS with `identity`; see [`crate::tls`] to make one.
    #[must_use]
    pub fn tls(mut self, identity: PemPair) -> Self {
        self.tls = Some(ServerTls {
            identity,
            client_ca_pem: None,
        });
        self
    }

    /// Serves HTTPS and demands a client certificate signed by `client_ca_pem`.
    #[must_use]
    pub fn mtls(mut self, identity: PemPair, client_ca_pem: impl Into<String>) -> Self {
        self.tls = Some(ServerTls {
            identity,
            client_ca_pem: Some(client_ca_pem.into()),
        });
        self
    }
}

/// TLS settings of an HTTPS mock.
#[derive(Clone, Debug)]
pub struct ServerTls {
    /// The server's certificate chain and key.
    pub identity: PemPair,
    /// When set, clients must present a certificate signed by this CA.
    pub client_ca_pem: Option<String>,
}

/// Why a mock could not start, or why a request was dropped on purpose.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    /// Binding the listener failed.
    #[error("mock upstream: {0}")]
    Io(#[from] io::Error),
    /// The TLS identity could not be loaded.
    #[error("mock upstream TLS: {0}")]
    Tls(#[from] TlsError),
    /// `/reset` asked for the connection to be dropped.
    #[error("connection reset on request")]
    Reset,
    /// Reading the request body failed.
    #[error("reading request body: {0}")]
    Body(#[from] hyper::Error),
}

/// Entry point; see the module docs for the endpoints.
pub struct MockUpstream;

impl MockUpstream {
    /// Binds `127.0.0.1:<opts.port>` and serves on the current tokio runtime
    /// until [`MockHandle::shutdown`] or the handle is dropped.
    pub async fn start(opts: MockOptions) -> Result<MockHandle, MockError> {
        let acceptor = match &opts.tls {
            Some(t) => Some(TlsAcceptor::from(tls::server_config(
                &t.identity,
                t.client_ca_pem.as_deref(),
            )?)),
            None => None,
        };
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, opts.port)).await?;
        let addr = listener.local_addr()?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared::new(&opts, stop_rx.clone()));
        let task = tokio::spawn(accept_loop(listener, acceptor, shared.clone(), stop_rx));
        Ok(MockHandle {
            name: opts.name,
            addr,
            https: opts.tls.is_some(),
            shared,
            stop: stop_tx,
            task: Some(task),
        })
    }
}

/// A running mock. Dropping it stops the listener and open connections.
pub struct MockHandle {
    /// The name sent back in `x-upstream`.
    pub name: String,
    addr: SocketAddr,
    https: bool,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl MockHandle {
    /// The bound loopback address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>` (or `https://` when serving TLS), no slash.
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Requests received so far, every path except `/__stats` included.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Makes `/health` answer 200 (`true`) or 503 (`false`).
    pub fn set_healthy(&self, healthy: bool) {
        self.shared.healthy.store(healthy, Ordering::Relaxed);
    }

    /// With `Some(status)`, every request but `/health` and `/__stats` gets
    /// that status; `None` restores normal answers. Codes outside 100..=999
    /// are treated as `None`.
    pub fn set_fail(&self, status: Option<u16>) {
        let code = status.filter(|s| (100..=999).contains(s)).unwrap_or(0);
        self.shared.fail.store(code, Ordering::Relaxed);
    }

    /// Stops accepting, closes every open connection (hanging ones too) and
    /// waits for the listener task to end.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        if let Some(task) = self.task.take() {
            // The task only ends by itself; a join error means it panicked,
            // which a shutdown has nothing to add to.
            let _ = task.await;
        }
    }
}

impl Drop for MockHandle {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

/// State shared by every connection of one mock.
pub(crate) struct Shared {
    pub(crate) name: String,
    pub(crate) name_header: HeaderValue,
    pub(crate) requests: AtomicU64,
    pub(crate) healthy: AtomicBool,
    /// 0 = normal; otherwise the status every request gets.
    pub(crate) fail: AtomicU16,
    pub(crate) chat: chat::ChatTemplate,
    /// Turns true when the mock stops; long-lived tasks (WebSockets) watch it.
    pub(crate) stop: watch::Receiver<bool>,
}

impl Shared {
    fn new(opts: &MockOptions, stop: watch::Receiver<bool>) -> Self {
        let name_header = HeaderValue::from_str(&opts.name)
            .unwrap_or_else(|_| HeaderValue::from_static("invalid-name"));
        Self {
            name: opts.name.clone(),
            name_header,
            requests: AtomicU64::new(0),
            healthy: AtomicBool::new(true),
            fail: AtomicU16::new(0),
            chat: chat::ChatTemplate::new(opts.chat_chunks, opts.chat_interval),
            stop,
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = stop.wait_for(|s| *s) => return,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            // Out of descriptors or an aborted handshake: back off briefly
            // instead of spinning, then keep serving.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        // Latency matters more than packet count for a benchmark upstream.
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let stop = stop.clone();
        match acceptor.clone() {
            None => {
                tokio::spawn(serve_connection(stream, shared, stop));
            }
            Some(acceptor) => {
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(stream).await {
                        serve_connection(tls, shared, stop).await;
                    }
                });
            }
        }
    }
}

/// Serves one connection until it closes or the mock stops.
async fn serve_connection<I>(io: I, shared: Arc<Shared>, mut stop: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| routes::handle(shared.clone(), req));
    let builder = auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    tokio::select! {
        _ = conn => {}
        _ = stop.wait_for(|s| *s) => {}
    }
}
