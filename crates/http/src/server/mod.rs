//! The listener: accept, optional TLS, HTTP/1.1 (our own connection loop,
//! [`h1`]) or HTTP/2 (hyper's), limits and graceful drain.

mod body;
mod h1;
mod response;
mod upgrade;

pub use body::{RequestBody, RequestBodyError};
pub use upgrade::{NotUpgraded, OnUpgrade, Upgraded};

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::server::conn::http2;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::activity::{ActiveGuard, Activity, TrackedIo, Verdict};
use crate::body::Body;
use crate::io::{Prefixed, ServerIo};
use crate::tls::ReloadingTls;
use h1::{Ended, H1Conf};

/// Limits of one listener (see `ListenerLimitsSpec` in the config for meaning).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Request line plus headers, in bytes.
    pub max_header_bytes: usize,
    /// Time from a connection's first byte (or its previous response) to a complete request head.
    pub header_read_timeout: Duration,
    /// Idle keep-alive time.
    pub idle_timeout: Duration,
    /// Open connections at most.
    pub max_connections: usize,
    /// HTTP/2 concurrent streams per connection.
    pub h2_max_concurrent_streams: u32,
    /// HTTP/2 reset streams tolerated before the connection is closed.
    pub h2_max_pending_reset_streams: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header_bytes: 64 * 1024,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 10_000,
            h2_max_concurrent_streams: 256,
            h2_max_pending_reset_streams: 20,
        }
    }
}

/// Who is on the other end of a connection.
#[derive(Debug)]
pub struct ConnInfo {
    /// The TCP peer.
    pub peer: SocketAddr,
    /// Our address.
    pub local: SocketAddr,
    /// Whether the connection is TLS.
    pub tls: bool,
    /// Listener name.
    pub listener: Arc<str>,
    /// Activity tracker; the handler holds a guard per request.
    activity: Arc<Activity>,
}

impl ConnInfo {
    /// Mark a request in progress until the guard drops (keeps the idle
    /// watchdog away from long responses).
    pub fn request_started(&self) -> ActiveGuard {
        self.activity.request_started()
    }
}

/// Serves requests. Implemented by the proxy.
pub trait Handler: Send + Sync + 'static {
    /// Whether to hand over the next HTTP/1.1 request's fields as
    /// [`RequestFields`](crate::RequestFields) to
    /// [`call_lines`](Self::call_lines), beside an empty header map, where
    /// the head allows it (see [`crate::request_fields`]). For a handler
    /// that passes most requests on reading few of their fields; asked
    /// before each request head.
    fn fields_as_lines(&self) -> bool {
        false
    }

    /// What the server calls: `lines` holds the request's fields when
    /// [`fields_as_lines`](Self::fields_as_lines) kept them so (its header
    /// map is then empty). By default they become the map and the request
    /// goes to [`call`](Self::call). A parameter, not an extension: an
    /// extension costs two allocations and a hashed insert and removal on
    /// every request.
    fn call_lines(
        &self,
        mut req: Request<RequestBody>,
        lines: Option<crate::RequestFields>,
        conn: Arc<ConnInfo>,
    ) -> impl Future<Output = Response<Body>> + Send {
        if let Some(lines) = lines {
            *req.headers_mut() = lines.into_map();
        }
        self.call(req, conn)
    }

    /// Answer one request. Must not fail: errors become responses.
    fn call(
        &self,
        req: Request<RequestBody>,
        conn: Arc<ConnInfo>,
    ) -> impl Future<Output = Response<Body>> + Send;
}

/// Counters of one listener, read by the metrics endpoint.
#[derive(Debug, Default)]
pub struct ListenerStats {
    /// Connections accepted.
    pub accepted: AtomicU64,
    /// Connections closed.
    pub closed: AtomicU64,
    /// Connections refused because `max_connections` was reached.
    pub refused: AtomicU64,
    /// Connections closed by the header-read timeout.
    pub header_timeouts: AtomicU64,
    /// TLS handshakes that failed.
    pub tls_failures: AtomicU64,
}

impl ListenerStats {
    /// Connections open now.
    pub fn open(&self) -> u64 {
        self.accepted
            .load(Ordering::Relaxed)
            .saturating_sub(self.closed.load(Ordering::Relaxed))
    }
}

/// One listener ready to run.
pub struct Listener {
    /// Name for logs.
    pub name: Arc<str>,
    /// The bound socket.
    pub socket: TcpListener,
    /// TLS, if any.
    pub tls: Option<Arc<ReloadingTls>>,
    /// Accept HTTP/2.
    pub http2: bool,
    /// Limits.
    pub limits: Limits,
    /// Counters.
    pub stats: Arc<ListenerStats>,
}

impl Listener {
    /// Accept connections until `shutdown` fires; each connection runs on
    /// `tracker` so the caller can wait for the drain. On shutdown, open
    /// connections finish their in-flight requests and then close, however
    /// long that takes (see [`Listener::run_draining_within`] for a bound).
    pub async fn run<H: Handler>(
        self,
        handler: Arc<H>,
        shutdown: CancellationToken,
        tracker: TaskTracker,
    ) {
        self.run_draining_within(handler, shutdown, tracker, None)
            .await;
    }

    /// [`Listener::run`], but a connection still busy `grace` after
    /// `shutdown` fired is closed, cutting its requests and streams (their
    /// bodies are dropped, so access log lines are still written). Without
    /// this, a hung request would keep its connection task, and everything
    /// it holds, alive after the caller stopped waiting for the drain.
    pub async fn run_draining_within<H: Handler>(
        self,
        handler: Arc<H>,
        shutdown: CancellationToken,
        tracker: TaskTracker,
        grace: Option<Duration>,
    ) {
        let permits = Arc::new(Semaphore::new(self.limits.max_connections.max(1)));
        let protocols = Arc::new(self.protocols());
        loop {
            let accepted = tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                r = self.socket.accept() => r,
            };
            let (stream, peer) = match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // EMFILE and friends: back off briefly instead of spinning.
                    tracing::warn!(listener = %self.name, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                self.stats.refused.fetch_add(1, Ordering::Relaxed);
                drop(stream);
                continue;
            };
            let _ = stream.set_nodelay(true);
            self.stats.accepted.fetch_add(1, Ordering::Relaxed);
            let local = stream.local_addr().unwrap_or(peer);
            let ctx = ConnTask {
                handler: handler.clone(),
                protocols: protocols.clone(),
                grace,
                tls: self.tls.clone(),
                limits: self.limits.clone(),
                stats: self.stats.clone(),
                name: self.name.clone(),
                shutdown: shutdown.clone(),
            };
            tracker.spawn(async move {
                ctx.serve(stream, peer, local).await;
                drop(permit);
            });
        }
    }

    fn protocols(&self) -> Protocols {
        let mut h2 = http2::Builder::new(TokioExecutor::new());
        h2.timer(TokioTimer::new())
            .max_concurrent_streams(self.limits.h2_max_concurrent_streams)
            .max_pending_accept_reset_streams(self.limits.h2_max_pending_reset_streams)
            .max_local_error_reset_streams(Some(1024))
            .max_header_list_size(u32::try_from(self.limits.max_header_bytes).unwrap_or(u32::MAX));
        Protocols {
            h2,
            http2: self.http2,
        }
    }
}

/// How connections are served: HTTP/1.1 by [`h1`], HTTP/2 by hyper when the
/// listener allows it (h2c prior knowledge in clear text, ALPN `h2` on TLS).
struct Protocols {
    h2: http2::Builder<TokioExecutor>,
    http2: bool,
}

struct ConnTask<H> {
    handler: Arc<H>,
    protocols: Arc<Protocols>,
    grace: Option<Duration>,
    tls: Option<Arc<ReloadingTls>>,
    limits: Limits,
    stats: Arc<ListenerStats>,
    name: Arc<str>,
    shutdown: CancellationToken,
}

impl<H: Handler> ConnTask<H> {
    /// Serve one connection. The task's future is as large as its largest
    /// state, and every open connection carries it: TLS and HTTP/2 (rustls
    /// sessions, hyper's connection) are boxed so that a plain HTTP/1.1
    /// connection holds only what it uses.
    async fn serve(self, stream: TcpStream, peer: SocketAddr, local: SocketAddr) {
        match self.tls.clone() {
            None => {
                self.speak(stream, peer, local, false, self.protocols.http2)
                    .await
            }
            Some(tls) => Box::pin(self.serve_tls(tls, stream, peer, local)).await,
        }
        self.stats.closed.fetch_add(1, Ordering::Relaxed);
    }

    async fn serve_tls(
        &self,
        tls: Arc<ReloadingTls>,
        stream: TcpStream,
        peer: SocketAddr,
        local: SocketAddr,
    ) {
        let acceptor = tokio_rustls::TlsAcceptor::from(tls.current());
        let handshake =
            tokio::time::timeout(self.limits.header_read_timeout, acceptor.accept(stream)).await;
        match handshake {
            Ok(Ok(tls_stream)) => {
                let h2 =
                    self.protocols.http2 && tls_stream.get_ref().1.alpn_protocol() == Some(b"h2");
                if h2 {
                    self.h2(tls_stream, peer, local, true).await;
                } else {
                    self.speak(tls_stream, peer, local, true, false).await;
                }
            }
            Ok(Err(e)) => {
                self.stats.tls_failures.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(listener = %self.name, %peer, error = %e, "TLS handshake failed");
            }
            Err(_) => {
                self.stats.tls_failures.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(listener = %self.name, %peer, "TLS handshake timed out");
            }
        }
    }

    /// HTTP/1.1, or HTTP/2 when `sniff_h2` and the client opens with its preface.
    async fn speak<S: ServerIo>(
        &self,
        io: S,
        peer: SocketAddr,
        local: SocketAddr,
        tls: bool,
        sniff_h2: bool,
    ) {
        let info = self.info(peer, local, tls, Activity::new());
        let conf = H1Conf {
            max_head: self.limits.max_header_bytes,
            header_timeout: self.limits.header_read_timeout,
            idle_timeout: self.limits.idle_timeout,
            grace: self.grace,
            sniff_h2,
        };
        match h1::serve(io, info, &*self.handler, &conf, &self.shutdown).await {
            Ended::Closed => {}
            Ended::HeaderTimeout => {
                self.stats.header_timeouts.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(listener = %self.name, %peer, "request head not received in time; closing");
            }
            Ended::H2(io, read) => {
                Box::pin(self.h2(Prefixed::new(read, io), peer, local, tls)).await;
            }
        }
    }

    fn info(
        &self,
        peer: SocketAddr,
        local: SocketAddr,
        tls: bool,
        activity: Arc<Activity>,
    ) -> Arc<ConnInfo> {
        Arc::new(ConnInfo {
            peer,
            local,
            tls,
            listener: self.name.clone(),
            activity,
        })
    }

    /// HTTP/2 through hyper, with the watchdog enforcing the header-read and
    /// idle limits.
    async fn h2<S>(&self, io: S, peer: SocketAddr, local: SocketAddr, tls: bool)
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let activity = Activity::new();
        let info = self.info(peer, local, tls, activity.clone());
        let io = TrackedIo::new(TokioIo::new(io), activity.clone());
        let handler = self.handler.clone();
        let max_head = self.limits.max_header_bytes;
        let service = service_fn(move |req: Request<Incoming>| {
            let handler = handler.clone();
            let info = info.clone();
            async move {
                if head_size(&req) > max_head {
                    return Ok::<_, std::convert::Infallible>(headers_too_large());
                }
                let (mut parts, body) = req.into_parts();
                if let Some(on) = parts.extensions.remove::<hyper::upgrade::OnUpgrade>() {
                    parts.extensions.insert(OnUpgrade::h2(on));
                }
                let req = Request::from_parts(parts, RequestBody::h2(body));
                // hyper encodes from the header map alone.
                let (mut parts, body) = handler.call(req, info).await.into_parts();
                crate::raw_head::materialize(&mut parts);
                Ok(Response::from_parts(parts, body))
            }
        });
        let conn = self.protocols.h2.serve_connection(io, service);
        tokio::pin!(conn);
        self.watch(conn, |c| c.graceful_shutdown(), peer, &activity)
            .await;
    }

    /// Drive `conn` to its end while enforcing the header-read and idle
    /// limits, and drain it when the listener shuts down.
    async fn watch<C, E>(
        &self,
        mut conn: Pin<&mut C>,
        graceful: impl Fn(Pin<&mut C>),
        peer: SocketAddr,
        activity: &Activity,
    ) where
        C: Future<Output = Result<(), E>>,
        E: std::fmt::Display,
    {
        let limits = &self.limits;
        let mut draining = false;
        let mut stopping = false;
        // With a drain grace: when the connection is cut after shutdown began.
        let mut hard_stop: Option<tokio::time::Instant> = None;
        loop {
            let mut wake = match activity.verdict(limits.header_read_timeout, limits.idle_timeout) {
                Verdict::HeaderTimeout => {
                    self.stats.header_timeouts.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(listener = %self.name, %peer, "request head not received in time; closing");
                    return;
                }
                Verdict::Idle => {
                    if !draining {
                        graceful(conn.as_mut());
                        draining = true;
                    }
                    tokio::time::Instant::now() + Duration::from_secs(1)
                }
                Verdict::CheckAt(at) => at,
            };
            if let Some(stop) = hard_stop {
                if tokio::time::Instant::now() >= stop {
                    tracing::debug!(listener = %self.name, %peer, "drain grace over; closing the connection");
                    return;
                }
                wake = wake.min(stop);
            }
            tokio::select! {
                res = conn.as_mut() => {
                    if let Err(e) = res {
                        tracing::debug!(listener = %self.name, %peer, error = %e, "connection ended with error");
                    }
                    return;
                }
                _ = self.shutdown.cancelled(), if !stopping => {
                    stopping = true;
                    if !draining {
                        graceful(conn.as_mut());
                        draining = true;
                    }
                    hard_stop = self.grace.map(|g| tokio::time::Instant::now() + g);
                }
                _ = tokio::time::sleep_until(wake) => {}
            }
        }
    }
}

/// Bytes of an HTTP/2 request head counted as on an HTTP/1.1 wire: request
/// line, each header as `name: value\r\n`, and the blank line, so one limit
/// means the same on both.
fn head_size<B>(req: &Request<B>) -> usize {
    let line = req.method().as_str().len() + req.uri().to_string().len() + 12;
    let headers: usize = req
        .headers()
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len() + 4)
        .sum();
    line + headers + 2
}

/// The answer to an HTTP/2 head over the limit: 431.
fn headers_too_large() -> Response<Body> {
    let mut res = Response::new(crate::body::empty());
    *res.status_mut() = http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE;
    res.headers_mut().insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Answers `/hang` never (saying so on the channel) and anything else at once.
    struct Hangs(tokio::sync::mpsc::UnboundedSender<()>);

    impl Handler for Hangs {
        async fn call(&self, req: Request<RequestBody>, conn: Arc<ConnInfo>) -> Response<Body> {
            let _active = conn.request_started();
            if req.uri().path() == "/hang" {
                let _ = self.0.send(());
                std::future::pending::<()>().await;
            }
            Response::new(crate::body::full("ok"))
        }
    }

    async fn listener(limits: Limits) -> Listener {
        Listener {
            name: "t".into(),
            socket: TcpListener::bind("127.0.0.1:0").await.unwrap(),
            tls: None,
            http2: false,
            limits,
            stats: Arc::new(ListenerStats::default()),
        }
    }

    async fn send(addr: SocketAddr, raw: &str) -> TcpStream {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(raw.as_bytes()).await.unwrap();
        s
    }

    #[tokio::test]
    async fn drain_grace_cuts_hung_connections() {
        let l = listener(Limits::default()).await;
        let addr = l.socket.local_addr().unwrap();
        let (stop, tracker) = (CancellationToken::new(), TaskTracker::new());
        let (tx, mut hanging) = tokio::sync::mpsc::unbounded_channel();
        let run = tokio::spawn(l.run_draining_within(
            Arc::new(Hangs(tx)),
            stop.clone(),
            tracker.clone(),
            Some(Duration::from_millis(200)),
        ));
        let mut hung = send(addr, "GET /hang HTTP/1.1\r\nHost: x\r\n\r\n").await;
        hanging.recv().await.unwrap();

        let began = tokio::time::Instant::now();
        stop.cancel();
        tracker.close();
        tokio::time::timeout(Duration::from_secs(3), tracker.wait())
            .await
            .expect("hung connection outlived the grace");
        assert!(
            began.elapsed() >= Duration::from_millis(150),
            "{:?}",
            began.elapsed()
        );
        let mut rest = Vec::new();
        let n = tokio::time::timeout(Duration::from_secs(1), hung.read_to_end(&mut rest))
            .await
            .unwrap()
            .unwrap_or(0);
        assert_eq!(n, 0, "no response for a cut request");
        run.await.unwrap();
    }

    #[tokio::test]
    async fn small_header_limit_is_enforced() {
        let l = listener(Limits {
            max_header_bytes: 1024,
            ..Limits::default()
        })
        .await;
        let addr = l.socket.local_addr().unwrap();
        let stop = CancellationToken::new();
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let run = tokio::spawn(l.run(Arc::new(Hangs(tx)), stop.clone(), TaskTracker::new()));
        let big = format!(
            "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
            "a".repeat(2000)
        );
        let mut s = send(addr, &big).await;
        let mut answer = String::new();
        s.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
        let ok = format!(
            "GET / HTTP/1.1\r\nHost: x\r\nX-Small: {}\r\nConnection: close\r\n\r\n",
            "a".repeat(900)
        );
        let mut s = send(addr, &ok).await;
        let mut answer = String::new();
        s.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        stop.cancel();
        run.await.unwrap();
    }
}
