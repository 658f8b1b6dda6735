//! The mock's response body: either one buffer (sent with a content length)
//! or a list of frames released one by one, optionally paced by a timer.
//! A hand-written enum instead of a boxed body keeps the hot path free of
//! an allocation per response.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

/// Body of every mock response.
pub enum MockBody {
    /// One buffer; `None` once it has been sent.
    Full(Option<Bytes>),
    /// Frames sent in order, each flushed as its own chunk.
    Paced(Paced),
}

impl MockBody {
    /// A body holding exactly `bytes`.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        Self::Full(Some(bytes.into()))
    }

    /// A body with no bytes.
    pub fn empty() -> Self {
        Self::Full(None)
    }
}

/// Frames with a "wait `interval` before me" flag each.
pub struct Paced {
    frames: std::vec::IntoIter<(bool, Bytes)>,
    interval: Duration,
    /// The frame waiting for its timer, with the timer.
    pending: Option<(Pin<Box<Sleep>>, Bytes)>,
}

impl Paced {
    /// `frames` are `(wait_first, bytes)`: a frame with `wait_first` set is
    /// released `interval` after the previous one (immediately if zero).
    pub fn new(frames: Vec<(bool, Bytes)>, interval: Duration) -> Self {
        Self {
            frames: frames.into_iter(),
            interval,
            pending: None,
        }
    }
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Self::Full(data) => Poll::Ready(data.take().map(|b| Ok(Frame::data(b)))),
            Self::Paced(paced) => {
                if let Some((sleep, _)) = paced.pending.as_mut() {
                    if sleep.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    return Poll::Ready(paced.pending.take().map(|(_, b)| Ok(Frame::data(b))));
                }
                match paced.frames.next() {
                    None => Poll::Ready(None),
                    Some((wait, bytes)) if wait && !paced.interval.is_zero() => {
                        let mut sleep = Box::pin(tokio::time::sleep(paced.interval));
                        if sleep.as_mut().poll(cx).is_ready() {
                            return Poll::Ready(Some(Ok(Frame::data(bytes))));
                        }
                        paced.pending = Some((sleep, bytes));
                        Poll::Pending
                    }
                    Some((_, bytes)) => Poll::Ready(Some(Ok(Frame::data(bytes)))),
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Full(data) => data.is_none(),
            Self::Paced(paced) => paced.pending.is_none() && paced.frames.len() == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Self::Full(None) => SizeHint::with_exact(0),
            Self::Paced(_) => SizeHint::default(),
        }
    }
}
