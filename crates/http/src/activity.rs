//! Per-connection activity tracking for the idle and header-read watchdog.
//!
//! hyper's own `header_read_timeout` also runs while an HTTP/1.1 keep-alive
//! connection sits idle, which would make the idle timeout and the slowloris
//! guard the same number. Instead the server wraps each socket in
//! [`TrackedIo`], which stamps reads on idle connections, and a watchdog beside the
//! connection closes it when it is idle too long or when a request's headers
//! take too long to arrive.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::rt::{Read, ReadBufCursor, Write};
use tokio::time::Instant;

/// Shared between the socket wrapper, the request handler and the watchdog.
#[derive(Debug)]
pub struct Activity {
    origin: Instant,
    /// Milliseconds since `origin` of the last read or write.
    last_io: AtomicU64,
    /// Milliseconds since `origin` (+1) when bytes of a new request head began
    /// arriving with no request active; 0 when no head is pending.
    head_started: AtomicU64,
    /// Requests whose response has not finished.
    active: AtomicU32,
}

impl Activity {
    /// A fresh tracker; the connection counts as just active.
    pub fn new() -> Arc<Self> {
        Arc::new(Activity {
            origin: Instant::now(),
            last_io: AtomicU64::new(0),
            head_started: AtomicU64::new(1),
            active: AtomicU32::new(0),
        })
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Bytes arrived. Only an idle connection needs the time: while a request
    /// is active the idle clock is not consulted, and the guard's drop stamps
    /// the end of the response, so the hot path reads the clock about once
    /// per request rather than once per read.
    fn on_read(&self) {
        if self.active.load(Ordering::Relaxed) != 0 {
            return;
        }
        let now = self.now_ms();
        self.last_io.store(now, Ordering::Relaxed);
        if self.head_started.load(Ordering::Relaxed) == 0 {
            self.head_started.store(now + 1, Ordering::Relaxed);
        }
    }

    /// A response finished: the connection is idle from now.
    fn stamp(&self) {
        self.last_io.store(self.now_ms(), Ordering::Relaxed);
    }

    /// A request's headers are complete: the header clock stops and the
    /// connection is busy until the returned guard drops (response finished).
    pub fn request_started(self: &Arc<Self>) -> ActiveGuard {
        self.active.fetch_add(1, Ordering::Relaxed);
        self.head_started.store(0, Ordering::Relaxed);
        ActiveGuard(self.clone())
    }

    /// What the watchdog should do now, given the two limits.
    pub fn verdict(&self, header_timeout: Duration, idle_timeout: Duration) -> Verdict {
        let now = self.now_ms();
        let head = self.head_started.load(Ordering::Relaxed);
        if head != 0 && !header_timeout.is_zero() {
            let started = head - 1;
            let deadline = started + millis(header_timeout);
            if now >= deadline {
                return Verdict::HeaderTimeout;
            }
        }
        let active = self.active.load(Ordering::Relaxed);
        let last = self.last_io.load(Ordering::Relaxed);
        if active == 0 && !idle_timeout.is_zero() && now >= last + millis(idle_timeout) {
            return Verdict::Idle;
        }
        // Check again at the nearest future deadline, at least every second.
        let mut next = now + 1000;
        if head != 0 && !header_timeout.is_zero() {
            next = next.min(head - 1 + millis(header_timeout));
        }
        if active == 0 && !idle_timeout.is_zero() {
            next = next.min(last + millis(idle_timeout));
        }
        Verdict::CheckAt(self.origin + Duration::from_millis(next.max(now + 1)))
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX / 2)
}

/// The watchdog's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A request head has been arriving for longer than the header timeout.
    HeaderTimeout,
    /// No request active and no bytes moved for the idle timeout.
    Idle,
    /// Nothing to do before this instant.
    CheckAt(Instant),
}

/// Marks one request as in progress on its connection.
#[derive(Debug)]
pub struct ActiveGuard(Arc<Activity>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.stamp();
        self.0.active.fetch_sub(1, Ordering::Relaxed);
    }
}

pin_project_lite::pin_project! {
    /// An IO stream that reports reads to an [`Activity`].
    pub struct TrackedIo<T> {
        #[pin]
        inner: T,
        activity: Arc<Activity>,
    }
}

impl<T> TrackedIo<T> {
    /// Wrap `inner`.
    pub fn new(inner: T, activity: Arc<Activity>) -> Self {
        TrackedIo { inner, activity }
    }
}

impl<T: Read> Read for TrackedIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        let res = this.inner.poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = res {
            this.activity.on_read();
        }
        res
    }
}

impl<T: Write> Write for TrackedIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn header_clock_runs_from_connect_until_request() {
        let a = Activity::new();
        let h = Duration::from_secs(10);
        let idle = Duration::from_secs(60);
        assert!(matches!(a.verdict(h, idle), Verdict::CheckAt(_)));
        tokio::time::advance(Duration::from_secs(11)).await;
        assert_eq!(a.verdict(h, idle), Verdict::HeaderTimeout);
    }

    #[tokio::test(start_paused = true)]
    async fn idle_after_response_then_header_clock_on_new_bytes() {
        let a = Activity::new();
        let h = Duration::from_secs(10);
        let idle = Duration::from_secs(60);
        let guard = a.request_started();
        tokio::time::advance(Duration::from_secs(120)).await;
        // An active request is never idle, however long it takes.
        assert!(matches!(a.verdict(h, idle), Verdict::CheckAt(_)));
        drop(guard);
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(matches!(a.verdict(h, idle), Verdict::CheckAt(_)));
        a.on_read();
        tokio::time::advance(Duration::from_secs(11)).await;
        assert_eq!(a.verdict(h, idle), Verdict::HeaderTimeout);
    }

    #[tokio::test(start_paused = true)]
    async fn idle_timeout_fires_without_traffic() {
        let a = Activity::new();
        drop(a.request_started());
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(
            a.verdict(Duration::from_secs(10), Duration::from_secs(60)),
            Verdict::Idle
        );
    }
}
