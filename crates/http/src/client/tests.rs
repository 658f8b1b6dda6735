//! The inline HTTP/1.1 client against scripted upstreams on real sockets:
//! each test server reads requests and answers with exact bytes, so framing,
//! reuse and failure handling are checked on the wire.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

/// What a scripted connection does with its n-th request (counted over the
/// whole server): the bytes to answer, or `None` to close without answering.
type Script = Arc<dyn Fn(usize, &str) -> Option<Vec<u8>> + Send + Sync>;

struct Upstream {
    url: String,
    accepts: Arc<AtomicUsize>,
    requests: Arc<std::sync::Mutex<Vec<String>>>,
}

async fn upstream(script: Script) -> Upstream {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepts = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (a, r) = (accepts.clone(), requests.clone());
    tokio::spawn(async move {
        loop {
            let (sock, _) = listener.accept().await.unwrap();
            a.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve(sock, script.clone(), r.clone()));
        }
    });
    Upstream {
        url,
        accepts,
        requests,
    }
}

/// Read whole requests (head plus a Content-Length or chunked body) and answer.
async fn serve(mut sock: TcpStream, script: Script, seen: Arc<std::sync::Mutex<Vec<String>>>) {
    let mut buf = Vec::new();
    loop {
        let Some(len) = complete_request(&buf) else {
            let mut chunk = [0u8; 4096];
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
            continue;
        };
        let req = String::from_utf8_lossy(&buf[..len]).into_owned();
        buf.drain(..len);
        let n = {
            let mut s = seen.lock().unwrap();
            s.push(req.clone());
            s.len()
        };
        match script(n, &req) {
            Some(bytes) => {
                let close = String::from_utf8_lossy(&bytes).contains("connection: close");
                if sock.write_all(&bytes).await.is_err() || close {
                    return;
                }
            }
            None => return,
        }
    }
}

fn complete_request(buf: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(buf).ok()?;
    let head_end = text.find("\r\n\r\n")? + 4;
    let head = text[..head_end].to_ascii_lowercase();
    if head.contains("transfer-encoding: chunked") {
        return text[head_end..].find("0\r\n\r\n").map(|i| head_end + i + 5);
    }
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .map_or(0, |v| v.trim().parse::<usize>().unwrap());
    (buf.len() >= head_end + len).then_some(head_end + len)
}

fn client() -> UpstreamClient {
    build_client(&ClientOptions::default()).unwrap()
}

fn req(method: Method, url: &str, body: Body) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(url)
        .body(body)
        .unwrap()
}

async fn text(res: Response<UpstreamBody>) -> String {
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[tokio::test]
async fn keep_alive_connections_are_reused() {
    let up = upstream(Arc::new(|n, _| Some(ok(&format!("r{n}"))))).await;
    let c = client();
    for i in 1..=5 {
        let res = c
            .request(req(Method::GET, &format!("{}/x", up.url), crate::empty()))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(text(res).await, format!("r{i}"));
    }
    assert_eq!(up.accepts.load(Ordering::SeqCst), 1);
    let first = up.requests.lock().unwrap()[0].clone();
    assert!(first.starts_with("GET /x HTTP/1.1\r\n"), "{first}");
    assert!(first.contains("host: 127.0.0.1:"), "{first}");
}

#[tokio::test]
async fn a_body_with_its_head_is_sent_with_a_length() {
    let up = upstream(Arc::new(|_, _| Some(ok("done")))).await;
    let res = client()
        .request(req(Method::POST, &up.url, crate::full("{\"a\":1}")))
        .await
        .unwrap();
    assert_eq!(text(res).await, "done");
    let seen = up.requests.lock().unwrap()[0].clone();
    assert!(seen.contains("content-length: 7\r\n"), "{seen}");
    assert!(seen.ends_with("\r\n\r\n{\"a\":1}"), "{seen}");
}

#[tokio::test]
async fn a_streamed_body_of_unknown_length_is_chunked() {
    let up = upstream(Arc::new(|_, _| Some(ok("got")))).await;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<http_body::Frame<Bytes>, BoxError>>(4);
    let body = http_body_util::StreamBody::new(tokio_stream_from(rx)).boxed_unsync();
    let c = client();
    let url = up.url.clone();
    let send = |part: &'static str| tx.send(Ok(http_body::Frame::data(Bytes::from(part))));
    send("hello ").await.unwrap();
    let call = tokio::spawn(async move { c.request(req(Method::POST, &url, body)).await });
    // The client task runs (current-thread runtime), finds the second part
    // not ready and starts streaming; then the rest arrives.
    tokio::task::yield_now().await;
    send("world").await.unwrap();
    drop(tx);
    let res = call.await.unwrap().unwrap();
    assert_eq!(text(res).await, "got");
    let seen = up.requests.lock().unwrap()[0].clone();
    assert!(seen.contains("transfer-encoding: chunked\r\n"), "{seen}");
    assert!(
        seen.ends_with("\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"),
        "{seen:?}"
    );
}

fn tokio_stream_from<T>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[tokio::test]
async fn chunked_and_close_delimited_responses() {
    let up = upstream(Arc::new(|n, _| {
        Some(match n {
            1 => b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nx-sum: 5\r\n\r\n".to_vec(),
            _ => b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nto the end".to_vec(),
        })
    }))
    .await;
    let c = client();
    let res = c
        .request(req(Method::GET, &up.url, crate::empty()))
        .await
        .unwrap();
    let collected = res.into_body().collect().await.unwrap();
    assert_eq!(collected.trailers().unwrap()["x-sum"], "5");
    assert_eq!(collected.to_bytes(), "abcde");
    // The chunked answer left the connection reusable; the second request
    // rides it, and the close-delimited answer ends at the close.
    let res = c
        .request(req(Method::GET, &up.url, crate::empty()))
        .await
        .unwrap();
    assert!(
        tokio::time::timeout(Duration::from_secs(5), text(res))
            .await
            .is_ok()
    );
    assert_eq!(up.accepts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_stale_pooled_connection_is_replaced_for_idempotent_requests_only() {
    // The first connection answers once, then takes the next request and
    // closes without a word (an idle close racing the request).
    let up = upstream(Arc::new(|n, _| (n != 2 && n != 4).then(|| ok("fine")))).await;
    let c = client();
    let get = |m: Method| c.request(req(m, &up.url, crate::full("x")));
    assert_eq!(text(get(Method::GET).await.unwrap()).await, "fine");
    // Request 2 dies on the pooled connection; the client resends it (3).
    assert_eq!(text(get(Method::PUT).await.unwrap()).await, "fine");
    assert_eq!(up.accepts.load(Ordering::SeqCst), 2);
    // Request 4 is a POST: it may have been acted on, so it is not resent.
    let err = get(Method::POST).await.unwrap_err();
    assert!(!err.is_connect(), "{err}");
    assert!(
        err.describe().contains("during the exchange"),
        "{}",
        err.describe()
    );
    assert_eq!(up.requests.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn a_body_dropped_before_its_end_closes_its_connection() {
    let up = upstream(Arc::new(|_, _| {
        Some(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial".to_vec())
    }))
    .await;
    let c = client();
    let res = c
        .request(req(Method::POST, &up.url, crate::empty()))
        .await
        .unwrap();
    drop(res);
    // Not pooled: the unread rest would be taken for the next answer.
    let res = c
        .request(req(Method::POST, &up.url, crate::empty()))
        .await
        .unwrap();
    let mut body = res.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(first, "partial");
    assert_eq!(up.accepts.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn broken_upstreams_give_errors_not_hangs() {
    let up = upstream(Arc::new(|n, _| {
        Some(match n {
            1 => b"NOT HTTP AT ALL\r\n\r\n".to_vec(),
            2 => b"HTTP/1.1 200 OK\r\ncontent-length: 5, 6\r\n\r\nhello".to_vec(),
            _ => b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort".to_vec(),
        })
    }))
    .await;
    let c = client();
    let e = c
        .request(req(Method::GET, &up.url, crate::empty()))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("broke HTTP/1.1"), "{e}");
    let e = c
        .request(req(Method::GET, &up.url, crate::empty()))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("Content-Length"), "{e}");
    // A body cut short by the upstream's close is an error at the end.
    let server = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", server.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut s, _) = server.accept().await.unwrap();
        let mut b = [0u8; 1024];
        let _ = s.read(&mut b).await;
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort")
            .await;
    });
    let res = c
        .request(req(Method::GET, &url, crate::empty()))
        .await
        .unwrap();
    assert!(res.into_body().collect().await.is_err());
    // Nothing listening: a connect error, safe to retry.
    let free = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", free.local_addr().unwrap());
    drop(free);
    let e = c
        .request(req(Method::GET, &url, crate::empty()))
        .await
        .unwrap_err();
    assert!(e.is_connect(), "{e}");
}

/// A body of ready frames that reports the bytes it has left, as hyper's
/// incoming bodies do.
struct Frames(std::collections::VecDeque<Bytes>);

impl http_body::Body for Frames {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        std::task::Poll::Ready(self.0.pop_front().map(|b| Ok(http_body::Frame::data(b))))
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.0.iter().map(|b| b.len() as u64).sum())
    }
}

#[tokio::test]
async fn a_large_body_of_known_length_is_framed_by_its_whole_length() {
    let up = upstream(Arc::new(|_, _| Some(ok("got")))).await;
    // 8 × 16 KiB, all ready: more than goes out with the head, so the rest
    // streams after a prefix; the length must cover prefix and rest.
    let frames = (0..8u8).map(|i| Bytes::from(vec![b'a' + i; 16 * 1024]));
    let body = Frames(frames.collect()).boxed_unsync();
    let res = client()
        .request(req(Method::POST, &up.url, body))
        .await
        .unwrap();
    assert_eq!(text(res).await, "got");
    let seen = up.requests.lock().unwrap()[0].clone();
    assert!(
        seen.contains("content-length: 131072\r\n"),
        "{}",
        &seen[..200]
    );
    let body = &seen[seen.find("\r\n\r\n").unwrap() + 4..];
    assert_eq!(body.len(), 131072);
    assert!(body.ends_with(&"h".repeat(16 * 1024)));
}

#[test]
fn pool_keys_hash_as_they_compare() {
    use std::hash::BuildHasher;
    let key = |tls, a: &str| h1::Key {
        tls,
        authority: a.parse().unwrap(),
    };
    let state = foldhash::quality::RandomState::default();
    let long = format!("{}.example:8443", "Sub".repeat(40));
    for (a, b) in [
        ("Up.Example:8080", "up.example:8080"),
        (long.as_str(), &long.to_lowercase()),
    ] {
        assert!(key(false, a) == key(false, b));
        assert_eq!(
            state.hash_one(key(false, a)),
            state.hash_one(key(false, b)),
            "{a}"
        );
        assert_ne!(state.hash_one(key(false, a)), state.hash_one(key(true, a)));
    }
    assert_ne!(
        state.hash_one(key(false, "a.example:1")),
        state.hash_one(key(false, "b.example:1"))
    );
}
