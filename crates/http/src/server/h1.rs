//! The HTTP/1.1 connection loop: read a head, run the handler, write the
//! response, repeat.
//!
//! Why not hyper's server: its connection keeps an 8 KiB read buffer, a write
//! buffer and a box the size of the handler's future for as long as the
//! connection lives, and runs each request through a dispatcher and a body
//! channel. Here an idle connection holds no buffer at all (it waits for
//! readability, then reads), a body that came with its head is one frame (no
//! channel), the handler's future is boxed only while a request is in flight,
//! and a response of known size goes out in one `write` with its head. The
//! head and small bodies are copied out of the read buffer so that what
//! outlives the request (header values in a stream's log record) does not pin
//! it, and buffers are released whenever the connection or a stream waits.
//! One task per connection does everything, in this order:
//!
//! 1. head: read until [`parse_request`] has a head; the header-read and idle
//!    limits, and the listener's shutdown, apply here;
//! 2. handler: its future runs beside the [`Pump`] that feeds a longer
//!    request body on demand, and beside a read that notices the client going
//!    away (which cancels the request, as hyper does);
//! 3. response: frames are encoded as they come (a stream's chunks are never
//!    held back), while the pump goes on feeding the request body;
//! 4. keep-alive, close, or hand the socket to an upgrade.

use std::future::{Future, poll_fn};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::HeaderMap;
use http::{Method, Request, StatusCode, Version};
use tokio::time::{Instant, Sleep};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use super::body::{Decoder, Pump, PumpEnd, RequestBody, Slot};
use super::response::{Outgoing, WRITE_GATHER, date, response_framing};
use super::upgrade::{OnUpgrade, Upgraded};
use super::{ConnInfo, Handler};
use crate::codec::ChunkedDecoder;
use crate::codec::request::{
    BodyFraming, HeadError, RequestHead, ResFraming, encode_response_head, parse_request,
};
use crate::io::ServerIo;
use crate::raw_head::RawHeaders;

/// The first read of a head; grown (doubling) up to the head limit.
const HEAD_BUF: usize = 4096;
/// Request bodies up to this size that arrived with their head are copied out
/// of the read buffer.
const COPY_BODY: usize = 4096;
/// The HTTP/2 connection preface (RFC 9113 §3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Limits of one HTTP/1 connection.
#[derive(Debug, Clone)]
pub(crate) struct H1Conf {
    pub max_head: usize,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    /// After shutdown, how long in-flight requests may run.
    pub grace: Option<Duration>,
    /// Hand a connection that opens with the HTTP/2 preface back to the caller.
    pub sniff_h2: bool,
}

/// How a connection ended.
pub(crate) enum Ended<S> {
    /// Closed (by either side, a limit, or shutdown).
    Closed,
    /// Closed because a request head took longer than the header timeout.
    HeaderTimeout,
    /// It speaks HTTP/2: the socket and the bytes read so far.
    H2(S, Bytes),
}

/// Serve HTTP/1.1 on `io` until it closes.
pub(crate) async fn serve<S: ServerIo, H: Handler>(
    io: S,
    info: Arc<ConnInfo>,
    handler: &H,
    conf: &H1Conf,
    shutdown: &CancellationToken,
) -> Ended<S> {
    let now = Instant::now();
    let deadline = if conf.header_timeout.is_zero() {
        later(now, Duration::from_secs(86_400))
    } else {
        later(now, conf.header_timeout)
    };
    let mut conn = Conn {
        io,
        rbuf: BytesMut::new(),
        wbuf: Vec::new(),
        timer: Box::pin(tokio::time::sleep_until(deadline)),
        timer_at: deadline,
        last_active: now,
        head_started: Some(now),
        stop: Box::pin(shutdown.clone().cancelled_owned()),
        stopping: false,
        hard_stop: None,
        first: conf.sniff_h2,
    };
    loop {
        // Asked at each poll, so the answer is the one current when the
        // head arrives, not when the wait began.
        let head = match poll_fn(|cx| conn.poll_head(cx, conf, handler.fields_as_lines())).await {
            Ok(head) => head,
            Err(Stop::Quiet) => return Ended::Closed,
            Err(Stop::HeaderTimeout) => return Ended::HeaderTimeout,
            Err(Stop::H2) => {
                let read = std::mem::take(&mut conn.rbuf).freeze();
                return Ended::H2(conn.io, read);
            }
            Err(Stop::Refuse(e)) => {
                conn.refuse(e).await;
                return Ended::Closed;
            }
        };
        match conn.exchange(head, &info, handler, conf).await {
            Next::KeepAlive => {}
            Next::Close => {
                conn.close().await;
                return Ended::Closed;
            }
            Next::Linger => {
                conn.close().await;
                conn.linger().await;
                return Ended::Closed;
            }
            Next::Cut => return Ended::Closed,
            Next::Upgrade(tx) => {
                let read = std::mem::take(&mut conn.rbuf).freeze();
                // The handler may have dropped its end; then the socket closes.
                let _ = tx.send(Upgraded::h1(Box::new(conn.io), read));
                return Ended::Closed;
            }
        }
    }
}

enum Stop {
    /// Close without a word: the client left, was idle too long, or the
    /// listener is shutting down.
    Quiet,
    HeaderTimeout,
    H2,
    /// Answer this error, then close.
    Refuse(HeadError),
}

enum Next {
    KeepAlive,
    /// Finish politely (FIN after the response).
    Close,
    /// As `Close`, but the client may still be sending a body nobody read.
    Linger,
    /// Drop the socket now: a write failed, or the drain grace ran out.
    Cut,
    Upgrade(tokio::sync::oneshot::Sender<Upgraded>),
}

struct Conn<S> {
    io: S,
    rbuf: BytesMut,
    wbuf: Vec<u8>,
    /// One timer per connection, re-armed only when a deadline moves earlier
    /// or it fires early: a busy keep-alive connection touches the timer
    /// wheel about once per idle timeout, not once per request.
    timer: Pin<Box<Sleep>>,
    timer_at: Instant,
    /// End of the last response: the idle clock.
    last_active: Instant,
    /// When the current head's first byte arrived (the connection's start for
    /// its first request).
    head_started: Option<Instant>,
    stop: Pin<Box<WaitForCancellationFutureOwned>>,
    stopping: bool,
    hard_stop: Option<Instant>,
    /// Before the first head, on a listener that also speaks h2c.
    first: bool,
}

impl<S: ServerIo> Conn<S> {
    /// Is the timer due for `deadline`? Moves it when it would fire late, and
    /// re-arms it when it fired early.
    fn due(&mut self, cx: &mut Context<'_>, deadline: Instant) -> bool {
        if deadline < self.timer_at {
            self.timer.as_mut().reset(deadline);
            self.timer_at = deadline;
        }
        loop {
            if self.timer.as_mut().poll(cx).is_pending() {
                return false;
            }
            if Instant::now() >= deadline {
                return true;
            }
            self.timer.as_mut().reset(deadline);
            self.timer_at = deadline;
        }
    }

    /// Has the listener begun shutting down? (Registers for the news.)
    fn poll_stopping(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.stopping && self.stop.as_mut().poll(cx).is_ready() {
            self.stopping = true;
        }
        self.stopping
    }

    /// `as_lines`: keep the fields as lines ([`Handler::fields_as_lines`]).
    fn poll_head(
        &mut self,
        cx: &mut Context<'_>,
        conf: &H1Conf,
        as_lines: bool,
    ) -> Poll<Result<RequestHead, Stop>> {
        loop {
            if !self.rbuf.is_empty() {
                if self.first {
                    let n = self.rbuf.len().min(H2_PREFACE.len());
                    if self.rbuf[..n] != H2_PREFACE[..n] {
                        self.first = false;
                    } else if n == H2_PREFACE.len() {
                        return Poll::Ready(Err(Stop::H2));
                    }
                }
                if !self.first {
                    match parse_request(&mut self.rbuf, conf.max_head, as_lines) {
                        Ok(Some(head)) => {
                            self.head_started = None;
                            return Poll::Ready(Ok(head));
                        }
                        Ok(None) => {}
                        Err(e) => return Poll::Ready(Err(Stop::Refuse(e))),
                    }
                }
                if self.head_started.is_none() {
                    self.head_started = Some(Instant::now());
                }
            }
            if self.poll_stopping(cx) {
                return Poll::Ready(Err(Stop::Quiet));
            }
            let (deadline, expiry) = match self.head_started {
                Some(at) if !conf.header_timeout.is_zero() => {
                    (Some(later(at, conf.header_timeout)), Stop::HeaderTimeout)
                }
                _ if self.rbuf.is_empty() && !conf.idle_timeout.is_zero() => (
                    Some(later(self.last_active, conf.idle_timeout)),
                    Stop::Quiet,
                ),
                _ => (None, Stop::Quiet),
            };
            if let Some(at) = deadline
                && self.due(cx, at)
            {
                return Poll::Ready(Err(expiry));
            }
            if self.rbuf.is_empty() {
                if self.io.poll_readable(cx).is_pending() {
                    // Idle: hold no buffers while waiting.
                    self.rbuf = BytesMut::new();
                    self.wbuf = Vec::new();
                    return Poll::Pending;
                }
                self.rbuf.reserve(HEAD_BUF);
            } else if self.rbuf.len() == self.rbuf.capacity() {
                let more = self
                    .rbuf
                    .capacity()
                    .min(conf.max_head + 1 - self.rbuf.len().min(conf.max_head));
                self.rbuf.reserve(more.max(1));
            }
            match ready!(self.io.poll_fill(cx, &mut self.rbuf)) {
                Ok(0) | Err(_) => return Poll::Ready(Err(Stop::Quiet)),
                Ok(_) => {}
            }
        }
    }

    /// Answer a bad head and close.
    async fn refuse(&mut self, e: HeadError) {
        let mut out = Vec::with_capacity(128);
        encode_response_head(
            &mut out,
            e.status(),
            &HeaderMap::new(),
            None,
            ResFraming::Length(0),
            Some("close"),
            &date::now(),
        );
        let _ = write_all(&mut self.io, &out).await;
        self.close().await;
    }

    /// FIN, after the response. Errors are moot: the socket is dropped next.
    async fn close(&mut self) {
        let _ = tokio::time::timeout(
            Duration::from_secs(1),
            poll_fn(|cx| Pin::new(&mut self.io).poll_shutdown(cx)),
        )
        .await;
    }

    /// After a response to a request whose body was left unread: read and
    /// drop what the client still sends, for a moment, before the socket is
    /// closed. Closing with unread bytes makes the kernel send a reset, which
    /// can destroy the response before the client has read it (a 413 to a
    /// large upload). Bounded in time and bytes; the buffer is the heap one,
    /// so the connection's future does not grow by a stack buffer.
    async fn linger(&mut self) {
        const MAX: usize = 64 << 20;
        let until = Instant::now() + Duration::from_secs(2);
        let mut dropped = 0;
        while dropped < MAX {
            self.rbuf.clear();
            self.rbuf.reserve(16 * 1024);
            let read =
                tokio::time::timeout_at(until, poll_fn(|cx| self.io.poll_fill(cx, &mut self.rbuf)))
                    .await;
            match read {
                Ok(Ok(n)) if n > 0 => dropped += n,
                _ => break,
            }
        }
    }

    /// One request and its response.
    async fn exchange<H: Handler>(
        &mut self,
        head: RequestHead,
        info: &Arc<ConnInfo>,
        handler: &H,
        conf: &H1Conf,
    ) -> Next {
        let RequestHead {
            method,
            uri,
            version,
            headers,
            lines,
            framing,
            keep_alive,
            expect_continue,
            upgrade,
        } = head;
        let (body, mut pump) = match framing {
            BodyFraming::Empty => (RequestBody::empty(), None),
            BodyFraming::Length(n) if self.rbuf.len() as u64 >= n => {
                // usize: n is at most the buffer's length here.
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                // A small body is copied, like the head, so that it does not
                // keep the read buffer alive; a large one is shared.
                let body = if n <= COPY_BODY {
                    let body = Bytes::copy_from_slice(&self.rbuf[..n]);
                    bytes::Buf::advance(&mut self.rbuf, n);
                    body
                } else {
                    self.rbuf.split_to(n).freeze()
                };
                (RequestBody::full(body), None)
            }
            BodyFraming::Length(n) => {
                let slot = Arc::new(Slot::default());
                let pump = Pump::new(slot.clone(), Decoder::Length(n), expect_continue);
                (RequestBody::streamed(slot, Some(n)), Some(pump))
            }
            BodyFraming::Chunked => {
                let slot = Arc::new(Slot::default());
                let decoder = Decoder::Chunked(ChunkedDecoder::default());
                (
                    RequestBody::streamed(slot.clone(), None),
                    Some(Pump::new(slot, decoder, expect_continue)),
                )
            }
        };
        let mut req = Request::new(body);
        *req.method_mut() = method.clone();
        *req.uri_mut() = uri;
        *req.version_mut() = version;
        *req.headers_mut() = headers;
        let mut upgrade_tx = None;
        if upgrade {
            let (tx, on) = OnUpgrade::h1();
            req.extensions_mut().insert(on);
            upgrade_tx = Some(tx);
        }

        if pump.is_none() && self.rbuf.is_empty() {
            // Nothing more to read for this request: a long response (a
            // stream) should not hold the read buffer.
            self.rbuf = BytesMut::new();
        }

        // 2. The handler, boxed so an idle connection does not carry its size.
        let mut call = Box::pin(handler.call_lines(req, lines, info.clone()));
        let mut body_ok = pump.is_none();
        let response = poll_fn(|cx| {
            if let Poll::Ready(res) = call.as_mut().poll(cx) {
                return Poll::Ready(Some(res));
            }
            if let Some(p) = &mut pump {
                // The slot wakes the handler (this task) with the last frame.
                if let Poll::Ready(end) = p.poll(cx, &mut self.io, &mut self.rbuf) {
                    body_ok = end == PumpEnd::Done;
                    pump = None;
                }
            } else if !self.stopping && self.client_left(cx, conf) {
                return Poll::Ready(None);
            }
            if self.drain_expired(cx, conf) {
                return Poll::Ready(None);
            }
            Poll::Pending
        })
        .await;
        drop(call);
        let Some(response) = response else {
            return Next::Cut;
        };

        // 3. The response.
        let (mut parts, res_body) = response.into_parts();
        let raw = parts.extensions.remove::<RawHeaders>();
        let status = parts.status;
        let switching = upgrade_tx.is_some()
            && (status == StatusCode::SWITCHING_PROTOCOLS
                || (method == Method::CONNECT && status.is_success()));
        let res_framing = if switching {
            ResFraming::NoBody(None)
        } else {
            response_framing(&method, status, &parts.headers, &res_body, version)
        };
        let close = !switching
            && (!keep_alive
                || self.stopping
                || pump.is_some()
                || !body_ok
                || res_framing == ResFraming::Close
                || status == StatusCode::SWITCHING_PROTOCOLS
                || !crate::codec::keep_alive(Version::HTTP_11, &parts.headers));
        let connection = if close {
            Some("close")
        } else if version == Version::HTTP_10 {
            Some("keep-alive")
        } else {
            None
        };
        self.wbuf.clear();
        // Room for a typical head and a small body at once, rather than
        // growing from nothing (the buffer is released while idle).
        self.wbuf.reserve(1024);
        encode_response_head(
            &mut self.wbuf,
            status,
            &parts.headers,
            raw.as_ref(),
            res_framing,
            connection,
            &date::now(),
        );
        drop(parts);
        let mut out = Outgoing::new(res_body, res_framing);
        let written = poll_fn(|cx| {
            if let Some(p) = &mut pump
                && let Poll::Ready(end) = p.poll(cx, &mut self.io, &mut self.rbuf)
            {
                body_ok = end == PumpEnd::Done;
                pump = None;
            }
            if self.drain_expired(cx, conf) {
                return Poll::Ready(Err(io::ErrorKind::TimedOut.into()));
            }
            out.poll_write(cx, &mut self.io, &mut self.wbuf)
        })
        .await;
        drop(out);
        if written.is_err() {
            return Next::Cut;
        }
        if switching && let Some(tx) = upgrade_tx {
            return Next::Upgrade(tx);
        }
        if pump.is_some() || !body_ok {
            return Next::Linger;
        }
        if close {
            return Next::Close;
        }
        self.last_active = Instant::now();
        if self.wbuf.capacity() > WRITE_GATHER * 2 {
            self.wbuf = Vec::new();
        }
        Next::KeepAlive
    }

    /// With a drain grace: has it run out since the listener began shutting down?
    fn drain_expired(&mut self, cx: &mut Context<'_>, conf: &H1Conf) -> bool {
        let Some(grace) = conf.grace else {
            return false;
        };
        if self.hard_stop.is_none() && self.poll_stopping(cx) {
            self.hard_stop = Some(later(Instant::now(), grace));
        }
        match self.hard_stop {
            Some(at) => self.due(cx, at),
            None => false,
        }
    }

    /// While a request with no body left to read is in flight: has the client
    /// closed its end? Bytes of a pipelined request are kept for later (up to
    /// one head's worth, then the socket is left alone).
    fn client_left(&mut self, cx: &mut Context<'_>, conf: &H1Conf) -> bool {
        loop {
            if self.rbuf.len() > conf.max_head || self.io.poll_readable(cx).is_pending() {
                return false;
            }
            if self.rbuf.capacity() == self.rbuf.len() {
                self.rbuf.reserve(1024);
            }
            match self.io.poll_fill(cx, &mut self.rbuf) {
                Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => return true,
                Poll::Ready(Ok(_)) => {}
                Poll::Pending => return false,
            }
        }
    }
}

/// `at + d`, or a year on when that is past what an `Instant` holds (a limit
/// configured as "never").
fn later(at: Instant, d: Duration) -> Instant {
    at.checked_add(d)
        .or_else(|| at.checked_add(Duration::from_secs(365 * 86_400)))
        .unwrap_or(at)
}

/// Write all of `bytes` (a refusal's head).
async fn write_all<S: ServerIo>(io: &mut S, bytes: &[u8]) -> io::Result<()> {
    tokio::time::timeout(
        Duration::from_secs(5),
        tokio::io::AsyncWriteExt::write_all(io, bytes),
    )
    .await
    .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))?
}

#[cfg(test)]
#[path = "h1_tests.rs"]
mod tests;
