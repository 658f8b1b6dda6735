//! The pooled upstream client: keep-alive connections per target, HTTP/2
//! when asked, TLS with a custom CA and client certificates, connect timeout.
//!
//! Two engines behind one type: HTTP/1.1 requests go through the inline
//! client of [`h1`] (the exchange runs in the caller's task); HTTP/2 pools
//! and `Upgrade` requests (WebSocket) go through hyper's pooled client,
//! which multiplexes streams and hands over upgraded connections.

mod h1;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::TryFutureExt;
use futures_util::future::Either;
use http::{HeaderMap, Request, Response};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::body::{Body, BoxError};
use crate::request_fields::PassOn;
use crate::tls::{ClientTlsFiles, TlsError};

pub use h1::ResponseBody as H1Body;

type HyperClient = Client<HttpsConnector<HttpConnector>, Body>;

/// The client every upstream call goes through. Cloning shares the pools.
#[derive(Clone, Debug)]
pub struct UpstreamClient {
    /// `None` for HTTP/2-only pools.
    h1: Option<Arc<h1::H1Client>>,
    hyper: HyperClient,
}

impl UpstreamClient {
    /// Send `req` (an absolute URI) and return the response head; the body
    /// streams from the upstream as it is polled.
    ///
    /// A plain function, not an `async fn`: an async fn keeps each
    /// argument twice in its state (as argument and as local;
    /// rust-lang/rust#62958), and callers box or wrap this future, which
    /// copies it whole, on every request.
    pub fn request(
        &self,
        req: Request<Body>,
    ) -> impl Future<Output = Result<Response<UpstreamBody>, ClientError>> + Send + '_ {
        self.send(req, None)
    }

    /// [`request`](Self::request) for a request and response that are
    /// passed on. `pass_on`: the client's fields when kept as lines, and
    /// the ones the proxy adds (see [`RawHeaders::push`](crate::RawHeaders::push)), written after
    /// the request's own. The response head may come back as
    /// [`RawHeaders`](crate::RawHeaders) beside an empty header map (see [`crate::raw_head`];
    /// [`crate::materialize`] merges them into the map).
    pub fn forward<'a>(
        &'a self,
        req: Request<Body>,
        pass_on: PassOn<'a>,
    ) -> impl Future<Output = Result<Response<UpstreamBody>, ClientError>> + Send + 'a {
        self.send(req, Some(pass_on))
    }

    /// The HTTP/1.1 exchange is made here and returned as it is: wrapped
    /// in a block it would keep `req` beside it (a captured value stays in
    /// the block's state after it is moved on), and be copied once more.
    fn send<'a>(
        &'a self,
        mut req: Request<Body>,
        forward: Option<PassOn<'a>>,
    ) -> impl Future<Output = Result<Response<UpstreamBody>, ClientError>> + Send + 'a {
        if let Some(h1) = self.h1.as_ref().filter(|_| !wants_upgrade(&req)) {
            return Either::Left(
                h1.send(req, forward)
                    .map_ok(|res| res.map(UpstreamBody::H1)),
            );
        }
        // Boxed: HTTP/2 and upgrades are the rarer path, and their future
        // inline would enlarge every HTTP/1.1 request's.
        Either::Right(Box::pin(async move {
            // hyper encodes from the header map alone: the client's fields
            // go ahead of the map's, the added ones after.
            if let Some(p) = forward {
                if let Some(client) = p.client {
                    let mut map = HeaderMap::with_capacity(req.headers().len() + 16);
                    client.append_to(&mut map, true);
                    map.extend(std::mem::take(req.headers_mut()));
                    *req.headers_mut() = map;
                }
                p.added.clone().merge_into(req.headers_mut());
            }
            let res = self.hyper.request(req).await.map_err(ClientError::hyper)?;
            Ok(res.map(UpstreamBody::Hyper))
        }))
    }
}

/// Idempotent methods (RFC 9110 §9.2.2): the ones a client or proxy may
/// send again after a failure that may have come after the upstream acted.
pub fn is_idempotent(m: &http::Method) -> bool {
    use http::Method;
    matches!(
        *m,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    )
}

fn wants_upgrade<B>(req: &Request<B>) -> bool {
    req.headers().contains_key(http::header::UPGRADE) || req.method() == http::Method::CONNECT
}

/// A response body from either engine.
#[derive(Debug)]
pub enum UpstreamBody {
    /// Read inline from an HTTP/1.1 connection.
    H1(H1Body),
    /// hyper's body (HTTP/2, upgrades).
    Hyper(Incoming),
}

impl http_body::Body for UpstreamBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            UpstreamBody::H1(b) => Pin::new(b).poll_frame(cx),
            UpstreamBody::Hyper(b) => Pin::new(b)
                .poll_frame(cx)
                .map(|f| f.map(|r| r.map_err(|e| Box::new(e) as BoxError))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            UpstreamBody::H1(b) => b.is_end_stream(),
            UpstreamBody::Hyper(b) => b.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            UpstreamBody::H1(b) => b.size_hint(),
            UpstreamBody::Hyper(b) => b.size_hint(),
        }
    }
}

/// What went wrong with an upstream call, classified for retries and for
/// the 502/504 the client sees.
#[derive(Debug, thiserror::Error)]
#[error("{detail}")]
pub struct ClientError {
    kind: ErrorKind,
    detail: String,
    #[source]
    source: Option<BoxError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ErrorKind {
    /// No connection was made: nothing was sent.
    Connect,
    /// The connection attempt ran out of time: nothing was sent.
    ConnectTimeout,
    /// The request could not be built or its body failed: nothing useful sent.
    Request,
    /// The connection failed or the upstream broke the protocol mid-exchange.
    Exchange,
}

impl ClientError {
    /// No connection was made, so nothing was sent (always safe to retry).
    pub fn is_connect(&self) -> bool {
        matches!(self.kind, ErrorKind::Connect | ErrorKind::ConnectTimeout)
    }

    /// The connect timeout fired.
    pub fn is_connect_timeout(&self) -> bool {
        self.kind == ErrorKind::ConnectTimeout
    }

    /// The request body failed while it was being sent (the caller's side,
    /// for instance a body over its size limit).
    pub fn is_body(&self) -> bool {
        self.kind == ErrorKind::Request
    }

    /// One line for a 502 body: what failed and the root cause.
    pub fn describe(&self) -> String {
        let mut root: &(dyn std::error::Error + 'static) = self;
        while let Some(next) = root.source() {
            root = next;
        }
        let cause = root.to_string();
        match self.kind {
            ErrorKind::Connect | ErrorKind::ConnectTimeout => format!("connect failed: {cause}"),
            _ => format!("connection failed during the exchange: {cause}"),
        }
    }

    fn new(kind: ErrorKind, detail: impl Into<String>, source: Option<BoxError>) -> Self {
        ClientError {
            kind,
            detail: detail.into(),
            source,
        }
    }

    pub(crate) fn connect(e: std::io::Error) -> Self {
        let kind = if e.kind() == std::io::ErrorKind::TimedOut {
            ErrorKind::ConnectTimeout
        } else {
            ErrorKind::Connect
        };
        Self::new(kind, "connect failed", Some(Box::new(e)))
    }

    pub(crate) fn connect_timeout(after: Duration) -> Self {
        Self::new(
            ErrorKind::ConnectTimeout,
            format!("connect timed out after {} ms", after.as_millis()),
            None,
        )
    }

    pub(crate) fn request(detail: &'static str) -> Self {
        Self::new(ErrorKind::Request, detail, None)
    }

    pub(crate) fn body(e: BoxError) -> Self {
        Self::new(ErrorKind::Request, "the request body failed", Some(e))
    }

    pub(crate) fn exchange(e: std::io::Error) -> Self {
        Self::new(
            ErrorKind::Exchange,
            "upstream connection failed",
            Some(Box::new(e)),
        )
    }

    pub(crate) fn protocol(e: impl std::fmt::Display) -> Self {
        Self::new(
            ErrorKind::Exchange,
            format!("the upstream broke HTTP/1.1: {e}"),
            None,
        )
    }

    fn hyper(e: hyper_util::client::legacy::Error) -> Self {
        let mut timed_out = false;
        let mut src: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(s) = src {
            if s.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
                || s.to_string().contains("timed out")
            {
                timed_out = true;
            }
            src = s.source();
        }
        let kind = match (e.is_connect(), timed_out) {
            (true, true) => ErrorKind::ConnectTimeout,
            (true, false) => ErrorKind::Connect,
            _ => ErrorKind::Exchange,
        };
        Self::new(kind, e.to_string(), Some(Box::new(e)))
    }
}

/// How to build a client for one upstream pool.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// TCP connect timeout (TLS handshake is bounded by the response-header timeout).
    pub connect_timeout: Option<Duration>,
    /// Speak HTTP/2 only (h2c for `http://`).
    pub http2_only: bool,
    /// Idle pooled connections per target.
    pub max_idle_per_host: usize,
    /// How long an idle pooled connection is kept.
    pub idle_timeout: Duration,
    /// TLS settings for `https://` targets.
    pub tls: ClientTlsFiles,
    /// Name to verify in the upstream's certificate instead of the target host.
    pub server_name: Option<String>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Some(Duration::from_secs(5)),
            http2_only: false,
            max_idle_per_host: 1024,
            idle_timeout: Duration::from_secs(90),
            tls: ClientTlsFiles::default(),
            server_name: None,
        }
    }
}

/// Build a pooled client.
pub fn build_client(opts: &ClientOptions) -> Result<UpstreamClient, TlsError> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(opts.connect_timeout);
    http.set_keepalive(Some(Duration::from_secs(60)));
    let tls = opts.tls.build()?;
    let tls_h1 = tls.clone();
    let server_name = match &opts.server_name {
        Some(name) => Some(
            rustls::pki_types::ServerName::try_from(name.clone()).map_err(|e| TlsError::File {
                path: "server_name".into(),
                reason: e.to_string(),
            })?,
        ),
        None => None,
    };
    let builder = HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http();
    let builder = match &server_name {
        Some(name) => builder
            .with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name.clone())),
        None => builder,
    };
    let connector = if opts.http2_only {
        builder.enable_http2().wrap_connector(http)
    } else {
        builder.enable_http1().wrap_connector(http)
    };
    let hyper = Client::builder(TokioExecutor::new())
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .pool_max_idle_per_host(opts.max_idle_per_host)
        .pool_idle_timeout(opts.idle_timeout)
        .http2_only(opts.http2_only)
        .build(connector);
    let h1 = (!opts.http2_only).then(|| {
        h1::H1Client::new(
            opts.connect_timeout,
            opts.idle_timeout,
            opts.max_idle_per_host,
            tls_h1,
            server_name,
        )
    });
    Ok(UpstreamClient { h1, hyper })
}

#[cfg(test)]
mod tests;
