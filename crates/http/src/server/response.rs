//! Writing an HTTP/1.1 response: framing chosen from the body and the
//! request, frames encoded into the connection's write buffer as they come
//! and written as soon as nothing more is ready (a stream's chunks are never
//! held back; a small response goes out with its head in one `write`).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::header::HeaderMap;
use http::{Method, StatusCode, Version};
use http_body::{Body as HttpBody, Frame};

use crate::body::Body;
use crate::codec;
use crate::codec::request::{ResFraming, bodiless, declared_length};
use crate::io::ServerIo;

/// Response bytes gathered before a write; larger data frames are written
/// from their own buffer instead of being copied.
pub(super) const WRITE_GATHER: usize = 16 * 1024;

/// How the response body goes on the wire (RFC 9112 §6).
pub(super) fn response_framing(
    method: &Method,
    status: StatusCode,
    headers: &HeaderMap,
    body: &Body,
    version: Version,
) -> ResFraming {
    let exact = body.size_hint().exact();
    if bodiless(method, status) {
        let length = if *method == Method::HEAD {
            declared_length(headers).or(exact.filter(|&n| n > 0))
        } else if status == StatusCode::NOT_MODIFIED {
            declared_length(headers)
        } else {
            None
        };
        return ResFraming::NoBody(length);
    }
    match exact.or_else(|| declared_length(headers)) {
        Some(n) => ResFraming::Length(n),
        None if version == Version::HTTP_11 => ResFraming::Chunked,
        None => ResFraming::Close,
    }
}

/// A response body on its way out: frames are encoded into the connection's
/// write buffer as they come and written as soon as nothing more is ready.
pub(super) struct Outgoing {
    body: Body,
    framing: ResFraming,
    /// Data bytes sent so far (checked against a declared length).
    sent: u64,
    done: bool,
    /// Bytes of the write buffer already written.
    flushed: usize,
    /// A large data frame written from its own buffer, after the write buffer.
    big: Option<Bytes>,
    /// What goes after `big` (a chunk's CRLF).
    after_big: &'static [u8],
    /// The body failed: reported once what came before it is written.
    failed: Option<io::Error>,
}

impl Outgoing {
    pub(super) fn new(body: Body, framing: ResFraming) -> Self {
        let done = matches!(framing, ResFraming::NoBody(_));
        Outgoing {
            body,
            framing,
            sent: 0,
            done,
            flushed: 0,
            big: None,
            after_big: b"",
            failed: None,
        }
    }

    pub(super) fn poll_write<S: ServerIo>(
        &mut self,
        cx: &mut Context<'_>,
        io: &mut S,
        wbuf: &mut Vec<u8>,
    ) -> Poll<io::Result<()>> {
        loop {
            // Gather what is ready, unless a large frame waits its turn.
            while !self.done && self.big.is_none() && wbuf.len() - self.flushed < WRITE_GATHER {
                match Pin::new(&mut self.body).poll_frame(cx) {
                    Poll::Ready(Some(Ok(frame))) => self.encode(frame, wbuf)?,
                    Poll::Ready(Some(Err(e))) => {
                        // What came before the error still goes out; then the
                        // connection is dropped with no last chunk, so the
                        // client cannot take a cut body for a whole one.
                        self.failed = Some(io::Error::other(e));
                        self.done = true;
                    }
                    Poll::Ready(None) => {
                        self.done = true;
                        match self.framing {
                            ResFraming::Chunked => wbuf.extend_from_slice(codec::LAST_CHUNK),
                            ResFraming::Length(n) if self.sent != n => {
                                return Poll::Ready(Err(io::Error::other(
                                    "response body shorter than its length",
                                )));
                            }
                            _ => {}
                        }
                    }
                    Poll::Pending => break,
                }
            }
            if self.flushed < wbuf.len() {
                let n = ready!(Pin::new(&mut *io).poll_write(cx, &wbuf[self.flushed..]))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                self.flushed += n;
                continue;
            }
            wbuf.clear();
            self.flushed = 0;
            if let Some(big) = &mut self.big {
                let n = ready!(Pin::new(&mut *io).poll_write(cx, big))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                bytes::Buf::advance(big, n);
                if big.is_empty() {
                    self.big = None;
                    wbuf.extend_from_slice(self.after_big);
                }
                continue;
            }
            if let Some(e) = self.failed.take() {
                return Poll::Ready(Err(e));
            }
            if self.done {
                return Pin::new(&mut *io).poll_flush(cx);
            }
            // Everything written; the body has nothing ready (its waker is
            // set). A stream may wait long: hold no buffer meanwhile.
            ready!(Pin::new(&mut *io).poll_flush(cx))?;
            *wbuf = Vec::new();
            return Poll::Pending;
        }
    }

    fn encode(&mut self, frame: Frame<Bytes>, wbuf: &mut Vec<u8>) -> io::Result<()> {
        // Trailers have no place in HTTP/1.1 responses to clients that did not
        // ask for them; they are dropped.
        let Ok(data) = frame.into_data() else {
            return Ok(());
        };
        if data.is_empty() {
            return Ok(());
        }
        let len = data.len() as u64;
        if let ResFraming::Length(n) = self.framing
            && self.sent + len > n
        {
            return Err(io::Error::other("response body longer than its length"));
        }
        self.sent += len;
        wbuf.reserve(data.len().min(WRITE_GATHER) + 16);
        let tail: &'static [u8] = if self.framing == ResFraming::Chunked {
            codec::chunk_size_line(wbuf, data.len());
            codec::CHUNK_END
        } else {
            b""
        };
        if data.len() > WRITE_GATHER {
            self.big = Some(data);
            self.after_big = tail;
        } else {
            wbuf.extend_from_slice(&data);
            wbuf.extend_from_slice(tail);
        }
        Ok(())
    }
}

/// The `Date` header value, formatted once a second per thread.
pub(super) mod date {
    use std::cell::RefCell;
    use std::time::{SystemTime, UNIX_EPOCH};

    thread_local! {
        static CACHE: RefCell<(u64, [u8; 29])> = const { RefCell::new((0, [b' '; 29])) };
    }

    /// Now, as an IMF-fixdate (RFC 9110 §5.6.7).
    pub(in crate::server) fn now() -> [u8; 29] {
        let now = SystemTime::now();
        let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        CACHE.with(|c| {
            let mut c = c.borrow_mut();
            if c.0 != secs {
                let text = httpdate::fmt_http_date(now);
                if text.len() == 29 {
                    c.1.copy_from_slice(text.as_bytes());
                    c.0 = secs;
                }
            }
            c.1
        })
    }
}
