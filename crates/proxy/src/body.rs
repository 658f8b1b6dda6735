//! Body wrappers on the streaming path. Each adds a few integer operations
//! per frame; none buffers.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use sy_http::BoxError;
use tokio::time::{Instant, Sleep};

pin_project_lite::pin_project! {
    /// A request body cut off at `limit` bytes; sets `exceeded` so the
    /// forwarding code can answer 413 rather than a generic upstream error.
    pub struct LimitedBody<B> {
        #[pin]
        inner: B,
        remaining: u64,
        limit: u64,
        exceeded: Arc<AtomicBool>,
    }
}

impl<B> LimitedBody<B> {
    /// Wrap `inner`.
    pub fn new(inner: B, limit: u64, exceeded: Arc<AtomicBool>) -> Self {
        LimitedBody {
            inner,
            remaining: limit,
            limit,
            exceeded,
        }
    }
}

/// The error a [`LimitedBody`] ends with.
#[derive(Debug, thiserror::Error)]
#[error("request body exceeds the limit of {0} bytes")]
pub struct BodyTooLarge(pub u64);

impl<B> HttpBody for LimitedBody<B>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.project();
        match ready!(this.inner.poll_frame(cx)) {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    let n = data.len() as u64;
                    if n > *this.remaining {
                        this.exceeded.store(true, Ordering::Relaxed);
                        return Poll::Ready(Some(Err(Box::new(BodyTooLarge(*this.limit)))));
                    }
                    *this.remaining -= n;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Some(Err(e)) => Poll::Ready(Some(Err(e.into()))),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Why an upstream response body was cut.
#[derive(Debug, thiserror::Error)]
pub enum BodyTimeout {
    /// No frame arrived within the idle timeout.
    #[error("upstream sent nothing for {0:?}")]
    Idle(Duration),
    /// The total deadline passed.
    #[error("upstream call exceeded its total timeout")]
    Total,
}

pin_project_lite::pin_project! {
    /// An upstream response body that fails when no frame arrives within
    /// `idle`, or when `deadline` passes.
    pub struct TimedBody<B> {
        #[pin]
        inner: B,
        idle: Option<Duration>,
        #[pin]
        idle_sleep: Option<Sleep>,
        #[pin]
        deadline: Option<Sleep>,
    }
}

impl<B> TimedBody<B> {
    /// Wrap `inner`; `None` disables a timeout.
    pub fn new(inner: B, idle: Option<Duration>, deadline: Option<Instant>) -> Self {
        TimedBody {
            inner,
            idle,
            idle_sleep: idle.map(tokio::time::sleep),
            deadline: deadline.map(tokio::time::sleep_until),
        }
    }
}

impl<B> HttpBody for TimedBody<B>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let mut this = self.project();
        if let Poll::Ready(res) = this.inner.poll_frame(cx) {
            if let (Some(idle), Some(sleep)) = (this.idle, this.idle_sleep.as_mut().as_pin_mut()) {
                sleep.reset(Instant::now() + *idle);
            }
            return Poll::Ready(res.map(|r| r.map_err(Into::into)));
        }
        if let Some(sleep) = this.deadline.as_pin_mut()
            && sleep.poll(cx).is_ready()
        {
            return Poll::Ready(Some(Err(Box::new(BodyTimeout::Total))));
        }
        if let (Some(idle), Some(sleep)) = (this.idle, this.idle_sleep.as_pin_mut())
            && sleep.poll(cx).is_ready()
        {
            return Poll::Ready(Some(Err(Box::new(BodyTimeout::Idle(*idle)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Called once when a response body ends, fails or is dropped unfinished,
/// with the bytes sent and whether the body completed.
pub trait OnBodyEnd: Send + 'static {
    /// The body is finished.
    fn finish(self: Box<Self>, bytes: u64, completed: bool);
}

pin_project_lite::pin_project! {
    /// A response body that counts bytes and calls its [`OnBodyEnd`] exactly
    /// once: at the end of the stream, on error, or on drop (client gone).
    /// This is how every request gets its log line even when cut short.
    pub struct TrackedBody<B> {
        #[pin]
        inner: B,
        bytes: u64,
        on_end: Option<Box<dyn OnBodyEnd>>,
    }

    impl<B> PinnedDrop for TrackedBody<B> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(end) = this.on_end.take() {
                end.finish(*this.bytes, false);
            }
        }
    }
}

impl<B> TrackedBody<B> {
    /// Wrap `inner`.
    pub fn new(inner: B, on_end: Box<dyn OnBodyEnd>) -> Self {
        TrackedBody {
            inner,
            bytes: 0,
            on_end: Some(on_end),
        }
    }
}

impl<B> HttpBody for TrackedBody<B>
where
    B: HttpBody<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let mut this = self.project();
        let res = ready!(this.inner.as_mut().poll_frame(cx));
        match &res {
            Some(Ok(frame)) => {
                if let Some(d) = frame.data_ref() {
                    *this.bytes += d.len() as u64;
                }
                // hyper stops polling once a body reports its end, so the
                // last data frame may be the last poll.
                if this.inner.is_end_stream()
                    && let Some(end) = this.on_end.take()
                {
                    end.finish(*this.bytes, true);
                }
            }
            Some(Err(_)) => {
                if let Some(end) = this.on_end.take() {
                    end.finish(*this.bytes, false);
                }
            }
            None => {
                if let Some(end) = this.on_end.take() {
                    end.finish(*this.bytes, true);
                }
            }
        }
        Poll::Ready(res)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
