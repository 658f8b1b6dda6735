//! The HTTP/1.1 connection loop over real sockets: a raw client writes exact
//! bytes and reads what comes back, so framing, keep-alive, limits and
//! upgrades are checked on the wire.

use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::{Body as HttpBody, Frame};
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::super::{Limits, Listener, ListenerStats};
use super::*;
use crate::body::{Body, BoxError};

/// A response body fed by the test, frame by frame.
struct ChanBody(mpsc::Receiver<Result<Bytes, BoxError>>);

impl HttpBody for ChanBody {
    type Data = Bytes;
    type Error = BoxError;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.0.poll_recv(cx).map(|o| o.map(|r| r.map(Frame::data)))
    }
}

/// Sends on its channel when dropped (a cancelled handler).
struct DropSignal(Option<mpsc::UnboundedSender<()>>);
impl Drop for DropSignal {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

#[derive(Default)]
struct Test {
    /// The body of the next `/stream` response.
    stream: Mutex<Option<mpsc::Receiver<Result<Bytes, BoxError>>>>,
    /// Told when a `/hang` request starts and when it is dropped.
    hang: Mutex<Option<(mpsc::UnboundedSender<()>, mpsc::UnboundedSender<()>)>>,
}

impl Handler for Test {
    async fn call(&self, mut req: Request<RequestBody>, _conn: Arc<ConnInfo>) -> Response<Body> {
        let path = req.uri().path().to_string();
        match path.as_str() {
            "/echo" => match req.into_body().collect().await {
                Ok(b) => Response::new(crate::body::full(b.to_bytes())),
                Err(e) => {
                    let mut r = Response::new(crate::body::full(e.to_string()));
                    *r.status_mut() = StatusCode::BAD_REQUEST;
                    r
                }
            },
            "/noread" => {
                let mut r = Response::new(crate::body::full("no"));
                *r.status_mut() = StatusCode::UNAUTHORIZED;
                r
            }
            "/stream" => {
                let rx = self.stream.lock().unwrap().take().unwrap();
                Response::new(ChanBody(rx).boxed_unsync())
            }
            "/head" => {
                let mut r = Response::new(crate::body::empty());
                r.headers_mut()
                    .insert("content-length", http::HeaderValue::from_static("1234"));
                r
            }
            "/hang" => {
                let (started, dropped) = self.hang.lock().unwrap().clone().unwrap();
                let _signal = DropSignal(Some(dropped));
                let _ = started.send(());
                std::future::pending::<()>().await;
                unreachable!()
            }
            "/ws" => {
                let on = req.extensions_mut().remove::<OnUpgrade>().unwrap();
                tokio::spawn(async move {
                    let Ok(mut io) = on.await else { return };
                    let mut buf = [0u8; 64];
                    while let Ok(n) = io.read(&mut buf).await {
                        if n == 0 || io.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                });
                let mut r = Response::new(crate::body::empty());
                *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
                r.headers_mut()
                    .insert("connection", http::HeaderValue::from_static("upgrade"));
                r.headers_mut()
                    .insert("upgrade", http::HeaderValue::from_static("echo"));
                r
            }
            _ => Response::new(crate::body::full(format!("{} {}", req.method(), path))),
        }
    }
}

struct Server {
    addr: std::net::SocketAddr,
    handler: Arc<Test>,
    stop: CancellationToken,
    tracker: TaskTracker,
}

/// A bound listener on a free loopback port.
async fn listener(limits: Limits) -> (Listener, std::net::SocketAddr) {
    let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let l = Listener {
        name: "t".into(),
        socket,
        tls: None,
        http2: false,
        limits,
        stats: Arc::new(ListenerStats::default()),
    };
    (l, addr)
}

async fn server(limits: Limits) -> Server {
    let (l, addr) = listener(limits).await;
    let handler = Arc::new(Test::default());
    let (stop, tracker) = (CancellationToken::new(), TaskTracker::new());
    // A grace far longer than any test needs: the shutdown test finishes its
    // stream by a message, never by waiting the grace out (the grace cut
    // itself is tested in `server::tests`).
    tokio::spawn(l.run_draining_within(
        handler.clone(),
        stop.clone(),
        tracker.clone(),
        Some(Duration::from_secs(60)),
    ));
    Server {
        addr,
        handler,
        stop,
        tracker,
    }
}

/// Read a response head as text.
async fn read_head(s: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).await.unwrap(), 1, "eof in head: {got:?}");
        got.push(byte[0]);
    }
    String::from_utf8(got).unwrap()
}

/// Read one response (head and a Content-Length or chunked body) as text.
async fn response(s: &mut TcpStream) -> String {
    let head = read_head(s).await;
    let mut got = head.clone().into_bytes();
    let mut byte = [0u8; 1];
    if let Some(len) = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
    {
        let mut body = vec![0u8; len.trim().parse().unwrap()];
        s.read_exact(&mut body).await.unwrap();
        got.extend_from_slice(&body);
    } else if head.contains("transfer-encoding: chunked") {
        while !got.ends_with(b"0\r\n\r\n") {
            assert_eq!(s.read(&mut byte).await.unwrap(), 1, "eof in body");
            got.push(byte[0]);
        }
    }
    String::from_utf8(got).unwrap()
}

async fn read_to_end(s: &mut TcpStream) -> String {
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut rest))
        .await
        .expect("the server closed the connection")
        .unwrap();
    String::from_utf8_lossy(&rest).into_owned()
}

#[tokio::test]
async fn keep_alive_and_pipelining() {
    let srv = server(Limits::default()).await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let r = response(&mut s).await;
    assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
    assert!(
        r.contains("content-length: 6\r\n") && r.contains("\r\ndate: "),
        "{r}"
    );
    assert!(r.ends_with("GET /a"), "{r}");
    // Three requests in one write, the last with a body: answered in order.
    s.write_all(
        b"GET /b HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    assert!(response(&mut s).await.ends_with("GET /b"));
    assert!(response(&mut s).await.ends_with("\r\n\r\nhello"));
    let last = response(&mut s).await;
    assert!(
        last.contains("connection: close\r\n") && last.ends_with("GET /c"),
        "{last}"
    );
    assert_eq!(
        read_to_end(&mut s).await,
        "",
        "closed after Connection: close"
    );
}

#[tokio::test]
async fn request_bodies_stream_in_pieces() {
    let srv = server(Limits::default()).await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    // Content-Length, the body arriving after the head in three writes.
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhel")
        .await
        .unwrap();
    s.write_all(b"lo ").await.unwrap();
    s.write_all(b"world").await.unwrap();
    assert!(response(&mut s).await.ends_with("\r\n\r\nhello world"));
    // Chunked, with a trailer, split at awkward places; then the connection is reused.
    let wire = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-T: 1\r\n\r\n";
    for part in wire.chunks(7) {
        s.write_all(part).await.unwrap();
    }
    assert!(response(&mut s).await.ends_with("\r\n\r\nhello world"));
    s.write_all(b"GET /again HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(response(&mut s).await.ends_with("GET /again"));
    // A body cut short by the client reaches the handler as an error.
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort")
        .await
        .unwrap();
    s.shutdown().await.unwrap();
    let r = read_to_end(&mut s).await;
    assert!(
        r.starts_with("HTTP/1.1 400") && r.contains("before the body ended"),
        "{r}"
    );
}

#[tokio::test]
async fn expect_continue_only_when_the_body_is_wanted() {
    let srv = server(Limits::default()).await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
    )
    .await
    .unwrap();
    let mut cont = [0u8; 25];
    s.read_exact(&mut cont).await.unwrap();
    assert_eq!(&cont, b"HTTP/1.1 100 Continue\r\n\r\n");
    s.write_all(b"ok").await.unwrap();
    assert!(response(&mut s).await.ends_with("\r\n\r\nok"));

    // Refused without reading: no 100, and the unread body closes the connection.
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(
        b"POST /noread HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 9\r\n\r\n",
    )
    .await
    .unwrap();
    let r = read_to_end(&mut s).await;
    assert!(r.starts_with("HTTP/1.1 401"), "{r}");
    assert!(
        r.contains("connection: close\r\n") && !r.contains("100 Continue"),
        "{r}"
    );
}

#[tokio::test]
async fn an_unread_upload_does_not_reset_the_answer() {
    let srv = server(Limits::default()).await;
    let s = TcpStream::connect(srv.addr).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let len = 24 << 20;
    let writer = tokio::spawn(async move {
        let head = format!("POST /noread HTTP/1.1\r\nHost: x\r\nContent-Length: {len}\r\n\r\n");
        wr.write_all(head.as_bytes()).await.unwrap();
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..len / chunk.len() {
            wr.write_all(&chunk).await?;
        }
        Ok::<_, std::io::Error>(())
    });
    // The answer comes before the upload is done; it must arrive whole, and
    // the server keep draining the upload (a close with unread bytes would
    // reset the connection, which some clients answer by dropping the
    // response they had not read yet).
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), rd.read_to_end(&mut got))
        .await
        .unwrap()
        .expect("the connection was reset");
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.starts_with("HTTP/1.1 401") && text.ends_with("\r\n\r\nno"),
        "{text}"
    );
    writer
        .await
        .unwrap()
        .expect("the upload was cut off instead of drained");
}

#[tokio::test]
async fn streamed_responses_are_chunked_and_not_held_back() {
    let srv = server(Limits::default()).await;
    let (tx, rx) = mpsc::channel(4);
    *srv.handler.stream.lock().unwrap() = Some(rx);
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    tx.send(Ok(Bytes::from_static(b"first"))).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while !got.ends_with(b"5\r\nfirst\r\n") {
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&got);
    assert!(head.contains("transfer-encoding: chunked\r\n"), "{head}");
    // The first chunk arrived while the second does not exist yet.
    tx.send(Ok(Bytes::from_static(b"second!"))).await.unwrap();
    drop(tx);
    let mut rest = Vec::new();
    while !rest.ends_with(b"0\r\n\r\n") {
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0);
        rest.extend_from_slice(&buf[..n]);
    }
    assert_eq!(rest, b"7\r\nsecond!\r\n0\r\n\r\n");

    // A body that fails midway: no last chunk, the connection is cut.
    let (tx, rx) = mpsc::channel(4);
    *srv.handler.stream.lock().unwrap() = Some(rx);
    s.write_all(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    tx.send(Ok(Bytes::from_static(b"part"))).await.unwrap();
    tx.send(Err("upstream broke".into())).await.unwrap();
    let r = read_to_end(&mut s).await;
    assert!(r.ends_with("4\r\npart\r\n"), "{r}");
}

#[tokio::test]
async fn http10_head_and_bodiless_responses() {
    let srv = server(Limits::default()).await;
    // HTTP/1.0 without keep-alive: answered and closed.
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(b"GET /old HTTP/1.0\r\n\r\n").await.unwrap();
    let r = read_to_end(&mut s).await;
    assert!(
        r.starts_with("HTTP/1.1 200") && r.contains("connection: close") && r.ends_with("GET /old"),
        "{r}"
    );
    // HTTP/1.0 keep-alive with a known length stays open.
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(b"GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .await
        .unwrap();
    let r = response(&mut s).await;
    assert!(r.contains("connection: keep-alive\r\n"), "{r}");
    // A stream of unknown length to HTTP/1.0 ends with the connection.
    let (tx, rx) = mpsc::channel(4);
    *srv.handler.stream.lock().unwrap() = Some(rx);
    s.write_all(b"GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .await
        .unwrap();
    tx.send(Ok(Bytes::from_static(b"raw"))).await.unwrap();
    drop(tx);
    let r = read_to_end(&mut s).await;
    assert!(!r.contains("chunked") && r.ends_with("\r\n\r\nraw"), "{r}");
    // HEAD keeps the handler's length and sends no body.
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(b"HEAD /head HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let r = read_head(&mut s).await;
    assert!(r.contains("content-length: 1234\r\n"), "{r}");
    assert!(response(&mut s).await.ends_with("GET /after"));
}

#[tokio::test]
async fn bad_heads_are_refused_and_closed() {
    let srv = server(Limits {
        max_header_bytes: 1024,
        ..Limits::default()
    })
    .await;
    for (wire, status) in [
        (
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            "400",
        ),
        ("GET / HTTP/1.1\r\n\r\n", "400"),
        (
            "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 2\r\n\r\n",
            "400",
        ),
        ("GARBAGE\r\n\r\n", "400"),
    ] {
        let mut s = TcpStream::connect(srv.addr).await.unwrap();
        s.write_all(wire.as_bytes()).await.unwrap();
        let r = read_to_end(&mut s).await;
        assert!(
            r.starts_with(&format!("HTTP/1.1 {status}")),
            "{wire:?}: {r}"
        );
        assert!(r.contains("connection: close"), "{r}");
    }
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    let big = format!("GET / HTTP/1.1\r\nHost: x\r\nX: {}\r\n", "a".repeat(2000));
    let _ = s.write_all(big.as_bytes()).await;
    assert!(read_to_end(&mut s).await.starts_with("HTTP/1.1 431"));
}

#[tokio::test]
async fn idle_and_slow_heads_are_closed() {
    let srv = server(Limits {
        header_read_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(400),
        ..Limits::default()
    })
    .await;
    // Keep-alive connection left idle after a response.
    let mut idle = TcpStream::connect(srv.addr).await.unwrap();
    idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    response(&mut idle).await;
    // A head that never completes.
    let mut slow = TcpStream::connect(srv.addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    assert_eq!(read_to_end(&mut slow).await, "");
    assert_eq!(read_to_end(&mut idle).await, "");
}

#[tokio::test]
async fn a_client_that_leaves_cancels_its_request() {
    let srv = server(Limits::default()).await;
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let (dropped_tx, mut dropped) = mpsc::unbounded_channel();
    *srv.handler.hang.lock().unwrap() = Some((started_tx, dropped_tx));
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    started.recv().await.unwrap();
    drop(s);
    tokio::time::timeout(Duration::from_secs(5), dropped.recv())
        .await
        .expect("the handler was not cancelled")
        .unwrap();
}

#[tokio::test]
async fn upgrades_hand_over_the_socket_with_what_followed_the_head() {
    let srv = server(Limits::default()).await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(
        b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly",
    )
    .await
    .unwrap();
    let r = response(&mut s).await;
    assert!(r.starts_with("HTTP/1.1 101 Switching Protocols\r\n"), "{r}");
    assert!(
        r.contains("upgrade: echo\r\n") && !r.contains("content-length"),
        "{r}"
    );
    let mut buf = [0u8; 5];
    s.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"early");
    s.write_all(b"later").await.unwrap();
    s.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"later");
}

#[tokio::test]
async fn shutdown_closes_idle_connections_and_finishes_busy_ones() {
    let srv = server(Limits::default()).await;
    let mut idle = TcpStream::connect(srv.addr).await.unwrap();
    idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    response(&mut idle).await;
    let (tx, rx) = mpsc::channel(4);
    *srv.handler.stream.lock().unwrap() = Some(rx);
    let mut busy = TcpStream::connect(srv.addr).await.unwrap();
    busy.write_all(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    tx.send(Ok(Bytes::from_static(b"a"))).await.unwrap();
    let mut buf = [0u8; 256];
    let n = busy.read(&mut buf).await.unwrap();
    assert!(n > 0);
    srv.stop.cancel();
    srv.tracker.close();
    assert_eq!(
        read_to_end(&mut idle).await,
        "",
        "idle connection closed at once"
    );
    // The busy stream may finish within the grace.
    tx.send(Ok(Bytes::from_static(b"b"))).await.unwrap();
    drop(tx);
    let rest = read_to_end(&mut busy).await;
    assert!(rest.ends_with("1\r\nb\r\n0\r\n\r\n"), "{rest:?}");
    tokio::time::timeout(Duration::from_secs(10), srv.tracker.wait())
        .await
        .expect("connections still open after their responses ended");
}

/// Every open connection carries its task's future, sized by its largest
/// state; TLS, HTTP/2 and the handler's future are boxed so that an idle
/// HTTP/1.1 connection stays small (it was 10 KiB before they were).
#[tokio::test]
async fn an_idle_connection_task_stays_small() {
    let l = Listener {
        name: "t".into(),
        socket: TcpListener::bind("127.0.0.1:0").await.unwrap(),
        tls: None,
        http2: true,
        limits: Limits::default(),
        stats: Arc::new(ListenerStats::default()),
    };
    let task = super::super::ConnTask {
        handler: Arc::new(Test::default()),
        protocols: Arc::new(l.protocols()),
        grace: None,
        tls: None,
        limits: Limits::default(),
        stats: l.stats.clone(),
        name: "t".into(),
        shutdown: CancellationToken::new(),
    };
    let addr = l.socket.local_addr().unwrap();
    let _client = TcpStream::connect(addr).await.unwrap();
    let (socket, peer) = l.socket.accept().await.unwrap();
    let fut = task.serve(socket, peer, addr);
    let size = std::mem::size_of_val(&fut);
    assert!(size < 4096, "the connection task's future is {size} bytes");
}

/// Says whether it was handed lines or a map, and asks for lines only
/// while `lines` is set: the server asks before every head.
struct Lines(std::sync::atomic::AtomicBool);

impl Handler for Lines {
    fn fields_as_lines(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    async fn call(&self, req: Request<RequestBody>, _conn: Arc<ConnInfo>) -> Response<Body> {
        let x = req.headers().get("x-a").map(|v| v.as_bytes().to_vec());
        Response::new(crate::body::full(format!("map {x:?}")))
    }

    async fn call_lines(
        &self,
        req: Request<RequestBody>,
        lines: Option<crate::RequestFields>,
        conn: Arc<ConnInfo>,
    ) -> Response<Body> {
        match lines {
            Some(l) => {
                assert!(req.headers().is_empty());
                let x = l
                    .get(&http::HeaderName::from_static("x-a"))
                    .map(<[u8]>::to_vec);
                Response::new(crate::body::full(format!("lines {x:?}")))
            }
            None => self.call(req, conn).await,
        }
    }
}

#[tokio::test]
async fn a_handler_gets_lines_only_while_it_asks_for_them() {
    let (l, addr) = listener(Limits::default()).await;
    let handler = Arc::new(Lines(std::sync::atomic::AtomicBool::new(true)));
    let (stop, tracker) = (CancellationToken::new(), TaskTracker::new());
    tokio::spawn(l.run_draining_within(handler.clone(), stop.clone(), tracker, None));
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = b"GET / HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n\r\n";
    s.write_all(req).await.unwrap();
    assert!(response(&mut s).await.ends_with("lines Some([49])"));
    // Asked again for the next head on the same connection.
    handler.0.store(false, std::sync::atomic::Ordering::Relaxed);
    s.write_all(req).await.unwrap();
    assert!(response(&mut s).await.ends_with("map Some([49])"));
    stop.cancel();
}
