//! The inline HTTP/1.1 upstream client: the request task writes the request
//! and reads the response on a pooled connection it owns for the exchange.
//!
//! Why not hyper's pooled client: it hands every request to a separate
//! connection task over a channel and the response back over another, with
//! a pool checkout future in between. On the proxy's hot path that was the
//! largest single cost after the kernel (two extra task wake-ups, a channel
//! round trip and the pool's locking and hashing per request). Here the
//! exchange runs in the caller's task: one `write` of head and body, reads
//! into one buffer, and the connection goes back to the pool the moment its
//! response body has been read, by whichever task reads it.
//!
//! Scope: HTTP/1.1 over TCP or TLS, requests without `Upgrade`. HTTP/2 and
//! upgrades use hyper (see `super`).

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::uri::{Authority, Scheme};
use http::{Method, Request, Response};
use http_body::Body as _;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::{ClientError, is_idempotent};
use crate::body::Body;
use crate::codec::{self, ChunkedDecoder, Framing, ReqFraming};
use crate::request_fields::PassOn;

mod body;

use body::BodyState;
pub use body::ResponseBody;

/// Request bodies up to this size that are ready at once are written with
/// the head in one `write` and kept, so a stale pooled connection can be
/// replaced and the request sent again.
const INLINE_BODY: usize = 64 * 1024;
/// Read buffer growth step.
const READ_CHUNK: usize = 8 * 1024;
/// Idle connections per target that keep their buffers.
const WARM_IDLE: usize = 32;
/// A pooled connection keeps a read buffer up to this size.
const MAX_KEPT_BUFFER: usize = 64 * 1024;

/// A plain or TLS connection.
enum Stream {
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

impl Stream {
    /// Whether an idle connection can still be used: the upstream has not
    /// closed it and has sent nothing unasked. For TCP this reads the
    /// socket's cached readiness first, so a quiet connection costs no
    /// system call. TLS is polled through rustls (never under it: a raw
    /// read would eat a record such as a session ticket); records that
    /// carry no data are consumed, a close or unasked data is not open.
    fn still_open(&mut self) -> bool {
        let mut probe = [0u8; 1];
        match self {
            Stream::Tcp(s) => {
                matches!(s.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
            }
            Stream::Tls(s) => {
                let mut cx = Context::from_waker(std::task::Waker::noop());
                let mut buf = ReadBuf::new(&mut probe);
                Pin::new(&mut **s).poll_read(&mut cx, &mut buf).is_pending()
            }
        }
    }
}

/// One upstream connection with its buffers.
struct Conn {
    io: Stream,
    /// Bytes read and not yet consumed.
    rbuf: BytesMut,
    /// The request head (and small body) being written; kept for reuse.
    wbuf: Vec<u8>,
    /// Served a request before (a failure before any response byte may
    /// then be the upstream's idle close racing our request).
    reused: bool,
}

struct Idle {
    conn: Conn,
    since: Instant,
}

/// Where pooled connections go.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct Key {
    pub(super) tls: bool,
    pub(super) authority: Authority,
}

/// As `Authority` hashes (case-folded, as it compares), but a block at a
/// time: its own `Hash` feeds the hasher one byte per call, twice per
/// exchange (checkout and return).
impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.tls.hash(state);
        let mut buf = [0u8; 64];
        for chunk in self.authority.as_str().as_bytes().chunks(buf.len()) {
            let folded = buf.get_mut(..chunk.len()).unwrap_or_default();
            folded.copy_from_slice(chunk);
            folded.make_ascii_lowercase();
            state.write(folded);
        }
    }
}

/// Targets come from the configuration, never from a client, and the map
/// is read twice per exchange (checkout, return): a fast keyed hash rather
/// than SipHash, which `Authority`'s byte-by-byte case-folding hash made
/// cost ~1,000 instructions a lookup.
type IdleMap = HashMap<Key, VecDeque<Idle>, foldhash::quality::RandomState>;

/// Connection settings and the idle connections by target.
pub(super) struct H1Client {
    idle: Mutex<IdleMap>,
    connect_timeout: Option<Duration>,
    idle_timeout: Duration,
    max_idle: usize,
    tls: TlsConnector,
    server_name: Option<rustls::pki_types::ServerName<'static>>,
}

impl std::fmt::Debug for H1Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H1Client")
            .field("idle_timeout", &self.idle_timeout)
            .field("max_idle", &self.max_idle)
            .finish_non_exhaustive()
    }
}

/// How the request body is sent.
enum Outgoing {
    /// All of it, already in `Conn::wbuf` after the head; kept for a resend.
    Inline(Vec<Bytes>),
    /// The part that was ready (sent with the head), then the rest
    /// streamed from the body.
    Streamed { prefix: Vec<Bytes>, body: Body },
}

impl H1Client {
    pub(super) fn new(
        connect_timeout: Option<Duration>,
        idle_timeout: Duration,
        max_idle: usize,
        mut tls: rustls::ClientConfig,
        server_name: Option<rustls::pki_types::ServerName<'static>>,
    ) -> Arc<Self> {
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(H1Client {
            idle: Mutex::new(IdleMap::default()),
            connect_timeout,
            idle_timeout,
            max_idle,
            tls: TlsConnector::from(Arc::new(tls)),
            server_name,
        })
    }

    /// Send `req` and return the response head; the body is read from the
    /// connection as the caller polls it.
    /// With `forward` (the client's fields kept as lines, and those the
    /// caller adds, written after the request's own), a response head that can be passed on as bytes comes
    /// back as [`RawHeaders`](crate::RawHeaders) (see [`crate::raw_head`]).
    ///
    /// Not an `async fn`: the request is taken apart first and the block
    /// keeps only its parts, where an async fn would keep the request
    /// twice (argument and local) beside them; every caller's future holds
    /// this one, and is copied on every request.
    pub(super) fn send(
        self: &Arc<Self>,
        req: Request<Body>,
        forward: Option<PassOn<'_>>,
    ) -> impl Future<Output = Result<Response<ResponseBody>, ClientError>> + Send {
        let (parts, mut body) = req.into_parts();
        async move {
            let tls = parts.uri.scheme() == Some(&Scheme::HTTPS);
            let authority = parts
                .uri
                .authority()
                .cloned()
                .ok_or_else(|| ClientError::request("the upstream URI has no host"))?;
            let key = Key { tls, authority };

            // Take what the body has ready now: a small complete body goes out
            // with the head and can be sent again on a fresh connection.
            let mut first: Vec<Bytes> = Vec::new();
            let mut size = 0usize;
            let mut ended = body.is_end_stream();
            while !ended && size <= INLINE_BODY {
                let next =
                    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut body).poll_frame(cx)));
                match next.await {
                    Poll::Ready(None) => ended = true,
                    Poll::Ready(Some(Ok(frame))) => {
                        if let Ok(data) = frame.into_data() {
                            size += data.len();
                            first.push(data);
                        }
                    }
                    Poll::Ready(Some(Err(e))) => return Err(ClientError::body(e)),
                    Poll::Pending => break,
                }
            }
            let framing = if ended {
                if size == 0 && !method_has_body(&parts.method) {
                    ReqFraming::None
                } else {
                    ReqFraming::Length(size as u64)
                }
            } else {
                // A size hint is what is left: the part already taken counts too.
                match body.size_hint().exact() {
                    Some(n) => ReqFraming::Length(size as u64 + n),
                    None => ReqFraming::Chunked,
                }
            };
            let mut outgoing = if ended {
                Outgoing::Inline(first)
            } else {
                Outgoing::Streamed {
                    prefix: first,
                    body,
                }
            };

            // Connecting is boxed: its future (DNS, TCP, TLS) is larger than the
            // rest of the exchange, and inline it would be part of every
            // request's future, which is moved (copied) whole when the caller
            // boxes or wraps it, though most requests take a pooled connection.
            let mut conn = match self.checkout(&key) {
                Some(c) => c,
                None => Box::pin(self.connect(&key)).await?,
            };
            loop {
                let sent =
                    Self::exchange(&mut conn, &parts, &key, framing, &mut outgoing, forward).await;
                match sent {
                    Ok(head) => return self.respond(conn, key, &parts.method, head),
                    Err(Failure::Stale(e)) => {
                        // The upstream closed a pooled connection before answering.
                        // Only a request it cannot have acted on is sent again:
                        // idempotent, with its body still in hand.
                        let resend =
                            matches!(outgoing, Outgoing::Inline(_)) && is_idempotent(&parts.method);
                        if !resend {
                            return Err(ClientError::exchange(e));
                        }
                        conn = Box::pin(self.connect(&key)).await?;
                    }
                    Err(Failure::Other(e)) => return Err(e),
                }
            }
        }
    }

    /// Write the request, read the response head (1xx skipped).
    async fn exchange(
        conn: &mut Conn,
        parts: &http::request::Parts,
        key: &Key,
        framing: ReqFraming,
        outgoing: &mut Outgoing,
        forward: Option<PassOn<'_>>,
    ) -> Result<codec::Head, Failure> {
        let reused = conn.reused;
        let forward_for = forward.map(|_| &parts.method);
        conn.reused = true;
        conn.wbuf.clear();
        codec::encode_head(
            &mut conn.wbuf,
            &parts.method,
            parts.uri.path_and_query().map_or("/", |p| p.as_str()),
            key.authority.as_str(),
            &parts.headers,
            forward,
            framing,
        );
        let chunked = framing == ReqFraming::Chunked;
        let parts = match outgoing {
            Outgoing::Inline(parts) | Outgoing::Streamed { prefix: parts, .. } => parts,
        };
        for part in parts.iter() {
            put_data(&mut conn.wbuf, part, chunked);
        }
        let stale = |e: io::Error| {
            if reused && is_reset(&e) {
                Failure::Stale(e)
            } else {
                Failure::Other(ClientError::exchange(e))
            }
        };
        conn.io.write_all(&conn.wbuf).await.map_err(stale)?;
        if let Outgoing::Streamed { prefix, body } = outgoing {
            let prefix_len = prefix.iter().map(|b| b.len() as u64).sum();
            stream_body(conn, body, framing, prefix_len)
                .await
                .map_err(Failure::Other)?;
        }
        if conn.wbuf.capacity() > READ_CHUNK {
            conn.wbuf = Vec::new();
        }
        conn.io.flush().await.map_err(stale)?;
        let mut got_bytes = !conn.rbuf.is_empty();
        loop {
            if let Some(head) = codec::parse_head_as(&mut conn.rbuf, forward_for)
                .map_err(|e| Failure::Other(ClientError::protocol(e)))?
            {
                if head.status.is_informational() {
                    if head.status == http::StatusCode::SWITCHING_PROTOCOLS {
                        return Err(Failure::Other(ClientError::protocol(
                            "101 Switching Protocols to a request that asked for no upgrade",
                        )));
                    }
                    continue;
                }
                return Ok(head);
            }
            if conn.rbuf.capacity() - conn.rbuf.len() < 1024 {
                conn.rbuf.reserve(READ_CHUNK);
            }
            match tokio_util::io::read_buf(&mut conn.io, &mut conn.rbuf).await {
                Ok(0) if !got_bytes && reused => {
                    return Err(Failure::Stale(io::ErrorKind::UnexpectedEof.into()));
                }
                Ok(0) => {
                    return Err(Failure::Other(ClientError::exchange(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the upstream closed the connection before a complete response head",
                    ))));
                }
                Ok(_) => got_bytes = true,
                Err(e) if !got_bytes => return Err(stale(e)),
                Err(e) => return Err(Failure::Other(ClientError::exchange(e))),
            }
        }
    }

    /// The response with a body reading from `conn`.
    fn respond(
        self: &Arc<Self>,
        conn: Conn,
        key: Key,
        method: &Method,
        head: codec::Head,
    ) -> Result<Response<ResponseBody>, ClientError> {
        let (framing, keep_alive) = match &head.forwarded {
            Some(f) => (f.framing, f.keep_alive),
            None => (
                codec::response_framing(method, head.status, &head.headers)
                    .map_err(ClientError::protocol)?,
                codec::keep_alive(head.version, &head.headers),
            ),
        };
        let reuse = framing != Framing::Close && keep_alive;
        let state = match framing {
            Framing::Empty => BodyState::Done,
            Framing::Length(n) => BodyState::Length(n),
            Framing::Chunked => BodyState::Chunked(ChunkedDecoder::default()),
            Framing::Close => BodyState::Close,
        };
        let mut body = ResponseBody {
            conn: Some(conn),
            state,
            reuse,
            owner: Some((self.clone(), key)),
        };
        if matches!(body.state, BodyState::Done) {
            body.finish();
        } else if let BodyState::Length(n) = body.state {
            // The common case: the whole body arrived with the head. Hand
            // the connection back now, not when the caller gets round to
            // polling the body's end.
            if body.conn.as_ref().is_some_and(|c| c.rbuf.len() as u64 == n) {
                let data = body
                    .conn
                    .as_mut()
                    .map(|c| c.rbuf.split().freeze())
                    .unwrap_or_default();
                body.state = BodyState::Ready(Some(data));
                body.finish();
            }
        }
        let mut res = Response::new(body);
        *res.status_mut() = head.status;
        *res.version_mut() = head.version;
        *res.headers_mut() = head.headers;
        if let Some(f) = head.forwarded {
            res.extensions_mut().insert(f.fields);
        }
        Ok(res)
    }

    /// An idle connection to `key` that still looks open, newest first.
    fn checkout(&self, key: &Key) -> Option<Conn> {
        loop {
            let idle = {
                let mut map = self.idle.lock().unwrap_or_else(|p| p.into_inner());
                let list = map.get_mut(key)?;
                let idle = list.pop_back()?;
                if idle.since.elapsed() > self.idle_timeout {
                    // The newest is too old, so are all older ones.
                    list.clear();
                    return None;
                }
                idle
            };
            let mut idle = idle;
            if idle.conn.io.still_open() {
                return Some(idle.conn);
            }
        }
    }

    fn put(&self, key: Key, conn: Conn) {
        let mut map = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let list = map.entry(key).or_default();
        let now = Instant::now();
        while list.len() >= self.max_idle
            || list
                .front()
                .is_some_and(|i| now.duration_since(i.since) > self.idle_timeout)
        {
            list.pop_front();
        }
        if self.max_idle > 0 {
            list.push_back(Idle { conn, since: now });
        }
        // Connections are taken newest first, so only the top of the stack
        // is in steady use; one sinking below it gives up its buffers (1,000
        // idle upstream connections after a burst would otherwise hold
        // ~8 MiB of read buffers).
        if let Some(cold) = list.len().checked_sub(WARM_IDLE + 1) {
            let conn = &mut list[cold].conn;
            conn.rbuf = BytesMut::new();
            conn.wbuf = Vec::new();
        }
    }

    async fn connect(&self, key: &Key) -> Result<Conn, ClientError> {
        let host = key.authority.host();
        let port = key
            .authority
            .port_u16()
            .unwrap_or(if key.tls { 443 } else { 80 });
        let dial = async {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
                Ok(ip) => vec![SocketAddr::new(ip, port)],
                Err(_) => tokio::net::lookup_host((host, port)).await?.collect(),
            };
            let mut last = None;
            for addr in addrs {
                match TcpStream::connect(addr).await {
                    Ok(s) => return Ok(s),
                    Err(e) => last = Some(e),
                }
            }
            Err(last.unwrap_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, "the host resolved to no address")
            }))
        };
        let tcp = match self.connect_timeout {
            Some(t) => tokio::time::timeout(t, dial)
                .await
                .map_err(|_| ClientError::connect_timeout(t))?,
            None => dial.await,
        }
        .map_err(ClientError::connect)?;
        tcp.set_nodelay(true).map_err(ClientError::connect)?;
        let keepalive = socket2::TcpKeepalive::new().with_time(Duration::from_secs(60));
        // Best effort: a socket without keep-alive still works.
        let _ = socket2::SockRef::from(&tcp).set_tcp_keepalive(&keepalive);
        let io = if key.tls {
            let name = match &self.server_name {
                Some(n) => n.clone(),
                None => rustls::pki_types::ServerName::try_from(host.to_string())
                    .map_err(|e| ClientError::connect(io::Error::other(e)))?,
            };
            let tls = self
                .tls
                .connect(name, tcp)
                .await
                .map_err(ClientError::connect)?;
            Stream::Tls(Box::new(tls))
        } else {
            Stream::Tcp(tcp)
        };
        Ok(Conn {
            io,
            rbuf: BytesMut::new(),
            wbuf: Vec::new(),
            reused: false,
        })
    }
}

enum Failure {
    /// A pooled connection failed before any response byte.
    Stale(io::Error),
    Other(ClientError),
}

fn put_data(out: &mut Vec<u8>, data: &[u8], chunked: bool) {
    if data.is_empty() {
        return;
    }
    if chunked {
        codec::chunk_size_line(out, data.len());
        out.extend_from_slice(data);
        out.extend_from_slice(codec::CHUNK_END);
    } else {
        out.extend_from_slice(data);
    }
}

/// Send the rest of a streamed body, then the last chunk if chunked. With a
/// declared length (`sent` bytes of it already written), a body that runs
/// over or stops short is an error: the upstream must never see bytes the
/// length does not frame.
async fn stream_body(
    conn: &mut Conn,
    body: &mut Body,
    framing: ReqFraming,
    sent: u64,
) -> Result<(), ClientError> {
    use http_body_util::BodyExt as _;
    let chunked = framing == ReqFraming::Chunked;
    let mut left = match framing {
        ReqFraming::Length(n) => Some(n.saturating_sub(sent)),
        _ => None,
    };
    let mismatch = || ClientError::request("the request body does not match its length");
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(ClientError::body)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if data.is_empty() {
            continue;
        }
        if let Some(left) = &mut left {
            *left = left.checked_sub(data.len() as u64).ok_or_else(mismatch)?;
        }
        let bytes: &[u8] = if chunked {
            conn.wbuf.clear();
            put_data(&mut conn.wbuf, &data, true);
            &conn.wbuf
        } else {
            &data
        };
        conn.io
            .write_all(bytes)
            .await
            .map_err(ClientError::exchange)?;
    }
    if left.is_some_and(|n| n > 0) {
        return Err(mismatch());
    }
    if chunked {
        conn.io
            .write_all(codec::LAST_CHUNK)
            .await
            .map_err(ClientError::exchange)?;
    }
    Ok(())
}

fn method_has_body(m: &Method) -> bool {
    matches!(*m, Method::POST | Method::PUT | Method::PATCH)
}

fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
    )
}
