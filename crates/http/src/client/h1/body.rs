//! The response body of an inline HTTP/1.1 exchange: read from its
//! connection by whoever polls it, the connection pooled again at its end.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body::{Frame, SizeHint};

use super::{Conn, H1Client, Key, MAX_KEPT_BUFFER, READ_CHUNK};
use crate::body::BoxError;
use crate::codec::{ChunkedDecoder, Decoded};

pub(super) enum BodyState {
    /// Everything, already read (the connection went back to the pool).
    Ready(Option<Bytes>),
    /// This many bytes left.
    Length(u64),
    Chunked(ChunkedDecoder),
    /// Until the upstream closes.
    Close,
    Done,
}

/// A response body read from its connection by whoever polls it; the
/// connection returns to the pool when the body has been read to its end,
/// and is closed if the body is dropped before.
pub struct ResponseBody {
    pub(super) conn: Option<Conn>,
    pub(super) state: BodyState,
    pub(super) reuse: bool,
    pub(super) owner: Option<(Arc<H1Client>, Key)>,
}

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseBody").finish_non_exhaustive()
    }
}

impl ResponseBody {
    /// The body has been read to its end: pool the connection if it may
    /// carry another request and holds no unasked bytes.
    pub(super) fn finish(&mut self) {
        if !matches!(self.state, BodyState::Ready(_)) {
            self.state = BodyState::Done;
        }
        let (Some(mut conn), Some((client, key))) = (self.conn.take(), self.owner.take()) else {
            return;
        };
        if self.reuse && conn.rbuf.is_empty() {
            // The buffer stays with the connection: by the time it carries
            // the next request the bytes handed out are usually written and
            // freed, and the allocation is reused in place.
            if conn.rbuf.capacity() > MAX_KEPT_BUFFER {
                conn.rbuf = BytesMut::new();
            }
            client.put(key, conn);
        }
    }

    fn closed_early() -> BoxError {
        Box::new(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the upstream closed the connection before the end of the body",
        ))
    }
}

impl http_body::Body for ResponseBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                BodyState::Done => return Poll::Ready(None),
                BodyState::Ready(data) => {
                    let data = data.take();
                    this.state = BodyState::Done;
                    return Poll::Ready(data.filter(|d| !d.is_empty()).map(|d| Ok(Frame::data(d))));
                }
                BodyState::Length(left) => {
                    let Some(conn) = this.conn.as_mut() else {
                        return Poll::Ready(None);
                    };
                    if !conn.rbuf.is_empty() {
                        let take = usize::try_from(*left)
                            .unwrap_or(usize::MAX)
                            .min(conn.rbuf.len());
                        let data = conn.rbuf.split_to(take).freeze();
                        *left -= take as u64;
                        if *left == 0 {
                            this.finish();
                        }
                        return Poll::Ready(Some(Ok(Frame::data(data))));
                    }
                }
                BodyState::Chunked(decoder) => {
                    let Some(conn) = this.conn.as_mut() else {
                        return Poll::Ready(None);
                    };
                    match decoder.decode(&mut conn.rbuf) {
                        Err(e) => {
                            this.conn = None;
                            this.state = BodyState::Done;
                            return Poll::Ready(Some(Err(Box::new(e))));
                        }
                        Ok(Decoded::Data(d)) => return Poll::Ready(Some(Ok(Frame::data(d)))),
                        Ok(Decoded::End(trailers)) => {
                            this.finish();
                            return Poll::Ready(trailers.map(|t| Ok(Frame::trailers(t))));
                        }
                        Ok(Decoded::NeedMore) => {}
                    }
                }
                BodyState::Close => {
                    let Some(conn) = this.conn.as_mut() else {
                        return Poll::Ready(None);
                    };
                    if !conn.rbuf.is_empty() {
                        let data = conn.rbuf.split().freeze();
                        return Poll::Ready(Some(Ok(Frame::data(data))));
                    }
                }
            }
            // Need more bytes from the connection.
            let Some(conn) = this.conn.as_mut() else {
                return Poll::Ready(None);
            };
            if conn.rbuf.capacity() - conn.rbuf.len() < 1024 {
                conn.rbuf.reserve(READ_CHUNK);
            }
            let read = tokio_util::io::poll_read_buf(Pin::new(&mut conn.io), cx, &mut conn.rbuf);
            let n = match read {
                Poll::Pending => {
                    // Waiting (a slow stream): hold no buffer meanwhile. The
                    // request's write buffer too: it is reused for the next
                    // request on a busy connection, but a stream can wait for
                    // minutes.
                    if conn.rbuf.is_empty() {
                        conn.rbuf = BytesMut::new();
                    }
                    conn.wbuf = Vec::new();
                    return Poll::Pending;
                }
                Poll::Ready(r) => r,
            };
            match n {
                Ok(0) => {
                    this.conn = None;
                    let close = matches!(this.state, BodyState::Close);
                    this.state = BodyState::Done;
                    return Poll::Ready(if close {
                        None
                    } else {
                        Some(Err(Self::closed_early()))
                    });
                }
                Ok(_) => {}
                Err(e) => {
                    this.conn = None;
                    this.state = BodyState::Done;
                    return Poll::Ready(Some(Err(Box::new(e))));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.state {
            BodyState::Done => true,
            BodyState::Ready(d) => d.as_ref().is_none_or(Bytes::is_empty),
            BodyState::Length(n) => *n == 0,
            _ => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.state {
            BodyState::Done => SizeHint::with_exact(0),
            BodyState::Ready(d) => SizeHint::with_exact(d.as_ref().map_or(0, |d| d.len() as u64)),
            BodyState::Length(n) => SizeHint::with_exact(*n),
            _ => SizeHint::default(),
        }
    }
}
