//! The request body handed to handlers.
//!
//! An HTTP/1 body that arrived with its head (most API calls: a JSON body of
//! a few KiB comes in the same read) is one frame, with no channel and no
//! task. A longer body is read by the connection task
//! only when the handler asks for the next frame ([`Slot`]), so a slow
//! consumer slows the client down rather than filling memory, and an
//! `Expect: 100-continue` is answered only once the body is wanted.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker, ready};

use bytes::{Bytes, BytesMut};
use http_body::{Body as HttpBody, Frame, SizeHint};

use crate::body::BoxError;
use crate::codec::{ChunkedDecoder, Decoded};
use crate::io::ServerIo;

/// A request body: HTTP/1 from the server's own codec, or HTTP/2 from hyper.
#[derive(Debug)]
pub struct RequestBody {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Empty,
    Full(Option<Bytes>),
    Streamed {
        slot: Arc<Slot>,
        /// Bytes still to come when the length is known.
        remaining: Option<u64>,
    },
    H2(hyper::body::Incoming),
}

impl RequestBody {
    /// No body.
    pub fn empty() -> Self {
        RequestBody {
            inner: Inner::Empty,
        }
    }

    /// A body already in hand.
    pub fn full(bytes: Bytes) -> Self {
        RequestBody {
            inner: if bytes.is_empty() {
                Inner::Empty
            } else {
                Inner::Full(Some(bytes))
            },
        }
    }

    pub(crate) fn streamed(slot: Arc<Slot>, length: Option<u64>) -> Self {
        RequestBody {
            inner: Inner::Streamed {
                slot,
                remaining: length,
            },
        }
    }

    pub(crate) fn h2(body: hyper::body::Incoming) -> Self {
        RequestBody {
            inner: Inner::H2(body),
        }
    }
}

/// Why a request body stopped short.
#[derive(Debug, Clone, thiserror::Error)]
#[error("request body: {0}")]
pub struct RequestBodyError(pub(crate) &'static str);

impl HttpBody for RequestBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.inner {
            Inner::Empty => Poll::Ready(None),
            Inner::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Inner::Streamed { slot, remaining } => {
                let polled = slot.poll_frame(cx);
                if let (Poll::Ready(Some(Ok(frame))), Some(left)) = (&polled, remaining)
                    && let Some(data) = frame.data_ref()
                {
                    *left = left.saturating_sub(data.len() as u64);
                }
                polled
            }
            Inner::H2(body) => Pin::new(body).poll_frame(cx).map_err(Into::into),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Inner::Empty => true,
            Inner::Full(b) => b.is_none(),
            Inner::Streamed { remaining, .. } => *remaining == Some(0),
            Inner::H2(b) => b.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Empty => SizeHint::with_exact(0),
            Inner::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Inner::Streamed {
                remaining: Some(n), ..
            } => SizeHint::with_exact(*n),
            Inner::Streamed {
                remaining: None, ..
            } => SizeHint::default(),
            Inner::H2(b) => b.size_hint(),
        }
    }
}

impl Drop for RequestBody {
    fn drop(&mut self) {
        if let Inner::Streamed { slot, .. } = &self.inner {
            slot.reader_gone();
        }
    }
}

/// A one-frame handoff between the connection task (the pump, which reads
/// the socket) and the handler (which polls the body). The pump reads only
/// while `want` is set: demand-driven, as hyper's own body channel.
#[derive(Debug, Default)]
pub(crate) struct Slot(Mutex<SlotState>);

#[derive(Debug, Default)]
struct SlotState {
    frame: Option<Frame<Bytes>>,
    end: Option<Result<(), RequestBodyError>>,
    want: bool,
    reader_gone: bool,
    reader: Option<Waker>,
    pump: Option<Waker>,
}

/// The handler dropped the body before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReaderGone;

impl Slot {
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        // A panic while holding this lock leaves plain data behind; carry on.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn poll_frame(&self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let mut s = self.lock();
        if let Some(frame) = s.frame.take() {
            return Poll::Ready(Some(Ok(frame)));
        }
        match &s.end {
            Some(Ok(())) => return Poll::Ready(None),
            Some(Err(e)) => {
                let e = e.clone();
                s.end = Some(Ok(()));
                return Poll::Ready(Some(Err(e.into())));
            }
            None => {}
        }
        s.want = true;
        store(&mut s.reader, cx);
        let pump = s.pump.take();
        drop(s);
        if let Some(w) = pump {
            w.wake();
        }
        Poll::Pending
    }

    fn reader_gone(&self) {
        let mut s = self.lock();
        s.reader_gone = true;
        let pump = s.pump.take();
        drop(s);
        if let Some(w) = pump {
            w.wake();
        }
    }

    /// Ready when the reader wants a frame and the slot is free.
    pub(crate) fn poll_want(&self, cx: &mut Context<'_>) -> Poll<Result<(), ReaderGone>> {
        let mut s = self.lock();
        if s.reader_gone {
            return Poll::Ready(Err(ReaderGone));
        }
        if s.want && s.frame.is_none() {
            return Poll::Ready(Ok(()));
        }
        store(&mut s.pump, cx);
        Poll::Pending
    }

    /// Hand a frame to the reader.
    pub(crate) fn put(&self, frame: Frame<Bytes>) {
        let mut s = self.lock();
        s.frame = Some(frame);
        s.want = false;
        let reader = s.reader.take();
        drop(s);
        if let Some(w) = reader {
            w.wake();
        }
    }

    /// The body ended (after any frame still in the slot).
    pub(crate) fn finish(&self, end: Result<(), RequestBodyError>) {
        let mut s = self.lock();
        s.end = Some(end);
        let reader = s.reader.take();
        drop(s);
        if let Some(w) = reader {
            w.wake();
        }
    }
}

fn store(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(w) if w.will_wake(cx.waker()) => {}
        _ => *slot = Some(cx.waker().clone()),
    }
}

/// Reads of a streamed request body.
const BODY_READ: usize = 16 * 1024;

/// How the request body reading ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PumpEnd {
    /// All of it was read: the connection can carry another request.
    Done,
    /// The handler let go of it first, or it was malformed or cut: close.
    Abandoned,
}

pub(super) enum Decoder {
    Length(u64),
    Chunked(ChunkedDecoder),
}

/// Reads a request body that did not come whole with its head, a frame each
/// time the handler asks for one.
pub(super) struct Pump {
    slot: Arc<Slot>,
    decoder: Decoder,
    /// `100 Continue` still owed (sent at the first demand), and how much of
    /// it has been written.
    continue_owed: Option<usize>,
}

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

impl Pump {
    pub(super) fn new(slot: Arc<Slot>, decoder: Decoder, expect_continue: bool) -> Self {
        Pump {
            slot,
            decoder,
            continue_owed: expect_continue.then_some(0),
        }
    }

    pub(super) fn poll<S: ServerIo>(
        &mut self,
        cx: &mut Context<'_>,
        io: &mut S,
        rbuf: &mut BytesMut,
    ) -> Poll<PumpEnd> {
        loop {
            if ready!(self.slot.poll_want(cx)).is_err() {
                return Poll::Ready(PumpEnd::Abandoned);
            }
            if let Some(done) = self.continue_owed {
                // Only if the client has not sent the body regardless.
                if rbuf.is_empty() {
                    match Pin::new(&mut *io).poll_write(cx, &CONTINUE[done..]) {
                        Poll::Ready(Ok(n)) if n > 0 => {
                            let done = done + n;
                            self.continue_owed = (done < CONTINUE.len()).then_some(done);
                            continue;
                        }
                        Poll::Ready(_) => return self.fail("the client went away"),
                        Poll::Pending => return Poll::Pending,
                    }
                }
                self.continue_owed = None;
            }
            match &mut self.decoder {
                Decoder::Length(left) => {
                    if !rbuf.is_empty() {
                        let take = usize::try_from(*left).unwrap_or(usize::MAX).min(rbuf.len());
                        *left -= take as u64;
                        self.slot.put(Frame::data(rbuf.split_to(take).freeze()));
                        if *left == 0 {
                            self.slot.finish(Ok(()));
                            return Poll::Ready(PumpEnd::Done);
                        }
                        continue;
                    }
                }
                Decoder::Chunked(dec) => match dec.decode(rbuf) {
                    Ok(Decoded::Data(data)) => {
                        self.slot.put(Frame::data(data));
                        continue;
                    }
                    Ok(Decoded::End(trailers)) => {
                        if let Some(t) = trailers {
                            self.slot.put(Frame::trailers(t));
                        }
                        self.slot.finish(Ok(()));
                        return Poll::Ready(PumpEnd::Done);
                    }
                    Ok(Decoded::NeedMore) => {}
                    Err(_) => return self.fail("invalid chunked encoding"),
                },
            }
            let want = match self.decoder {
                Decoder::Length(left) => usize::try_from(left).unwrap_or(BODY_READ).min(BODY_READ),
                Decoder::Chunked(_) => BODY_READ,
            };
            if rbuf.capacity() - rbuf.len() < want.clamp(1, 1024) {
                rbuf.reserve(want.max(1024));
            }
            match ready!(io.poll_fill(cx, rbuf)) {
                Ok(0) | Err(_) => {
                    return self.fail("the client closed the connection before the body ended");
                }
                Ok(_) => {}
            }
        }
    }

    fn fail(&mut self, why: &'static str) -> Poll<PumpEnd> {
        self.slot.finish(Err(RequestBodyError(why)));
        Poll::Ready(PumpEnd::Abandoned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn a_streamed_body_is_fed_on_demand() {
        let slot = Arc::new(Slot::default());
        let mut body = RequestBody::streamed(slot.clone(), Some(6));
        assert_eq!(body.size_hint().exact(), Some(6));
        let pump = slot.clone();
        let feeder = tokio::spawn(async move {
            for part in ["abc", "def"] {
                std::future::poll_fn(|cx| pump.poll_want(cx)).await.unwrap();
                pump.put(Frame::data(Bytes::from_static(part.as_bytes())));
            }
            pump.finish(Ok(()));
        });
        let mut got = Vec::new();
        while let Some(frame) = body.frame().await {
            got.extend_from_slice(&frame.unwrap().into_data().unwrap());
        }
        assert_eq!(got, b"abcdef");
        assert!(body.is_end_stream());
        feeder.await.unwrap();
    }

    #[tokio::test]
    async fn errors_reach_the_reader_and_a_dropped_reader_reaches_the_pump() {
        let slot = Arc::new(Slot::default());
        let mut body = RequestBody::streamed(slot.clone(), None);
        slot.finish(Err(RequestBodyError("client went away")));
        let e = body.frame().await.unwrap().unwrap_err();
        assert!(e.to_string().contains("client went away"), "{e}");
        assert!(body.frame().await.is_none(), "one error, then the end");

        let slot = Arc::new(Slot::default());
        let body = RequestBody::streamed(slot.clone(), Some(3));
        let waiting = {
            let slot = slot.clone();
            tokio::spawn(async move { std::future::poll_fn(|cx| slot.poll_want(cx)).await })
        };
        drop(body);
        assert_eq!(waiting.await.unwrap(), Err(ReaderGone));
    }

    #[tokio::test]
    async fn full_and_empty_bodies() {
        let b = RequestBody::full(Bytes::from_static(b"hi"));
        assert_eq!(b.size_hint().exact(), Some(2));
        assert_eq!(&b.collect().await.unwrap().to_bytes()[..], b"hi");
        let e = RequestBody::full(Bytes::new());
        assert!(e.is_end_stream());
        assert!(RequestBody::empty().is_end_stream());
    }
}
