//! Connection upgrades (WebSocket and other `Upgrade`s, CONNECT): the
//! handler finds an [`OnUpgrade`] in the request's extensions and, once it has
//! answered 101 (or 2xx to a CONNECT), awaits the raw connection.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::oneshot;

use crate::io::{Prefixed, ServerIo};

/// The connection of a request that asked to switch protocols, once the
/// response head has gone out. In the request's extensions when the request
/// asked for an upgrade. Clones share the one connection: the first to
/// await it gets it.
#[derive(Debug, Clone)]
pub struct OnUpgrade(Pending);

/// `Clone` because request extensions must be; hence the shared receiver.
#[derive(Debug, Clone)]
enum Pending {
    H1(Arc<Mutex<Option<oneshot::Receiver<Upgraded>>>>),
    H2(hyper::upgrade::OnUpgrade),
}

impl OnUpgrade {
    pub(crate) fn h1() -> (oneshot::Sender<Upgraded>, Self) {
        let (tx, rx) = oneshot::channel();
        (tx, OnUpgrade(Pending::H1(Arc::new(Mutex::new(Some(rx))))))
    }

    pub(crate) fn h2(on: hyper::upgrade::OnUpgrade) -> Self {
        OnUpgrade(Pending::H2(on))
    }
}

/// The response was not a switch, or the connection closed first.
#[derive(Debug, thiserror::Error)]
#[error("the connection was not upgraded")]
pub struct NotUpgraded;

impl Future for OnUpgrade {
    type Output = Result<Upgraded, NotUpgraded>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.0 {
            Pending::H1(shared) => {
                let mut slot = shared
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let Some(rx) = slot.as_mut() else {
                    return Poll::Ready(Err(NotUpgraded));
                };
                let got = ready!(Pin::new(rx).poll(cx));
                *slot = None;
                Poll::Ready(got.map_err(|_| NotUpgraded))
            }
            Pending::H2(on) => Poll::Ready(
                ready!(Pin::new(on).poll(cx))
                    .map(|u| Upgraded(Io::H2(TokioIo::new(u))))
                    .map_err(|_| NotUpgraded),
            ),
        }
    }
}

/// An upgraded connection: bytes both ways, no more HTTP.
#[derive(Debug)]
pub struct Upgraded(Io);

enum Io {
    /// The client's socket, with what it sent after the request head.
    H1(Prefixed<Box<dyn ServerIo>>),
    H2(TokioIo<hyper::upgrade::Upgraded>),
}

impl std::fmt::Debug for Io {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Io::H1(_) => "Upgraded::H1",
            Io::H2(_) => "Upgraded::H2",
        })
    }
}

impl Upgraded {
    pub(crate) fn h1(io: Box<dyn ServerIo>, read_ahead: bytes::Bytes) -> Self {
        Upgraded(Io::H1(Prefixed::new(read_ahead, io)))
    }
}

impl AsyncRead for Upgraded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.0 {
            Io::H1(s) => Pin::new(s).poll_read(cx, buf),
            Io::H2(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Upgraded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.0 {
            Io::H1(s) => Pin::new(s).poll_write(cx, buf),
            Io::H2(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.0 {
            Io::H1(s) => Pin::new(s).poll_flush(cx),
            Io::H2(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.0 {
            Io::H1(s) => Pin::new(s).poll_shutdown(cx),
            Io::H2(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
