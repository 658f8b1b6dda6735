//! Hostile and malformed input on real sockets: the gateway answers with the
//! right status (JSON where the gateway itself answers), closes what must be
//! closed, and keeps serving everyone else.

use std::time::Duration;

use sy_testkit::{MockHandle, MockOptions, MockUpstream};
use tokio::time::Instant;

use crate::harness::{TestGateway, client};
use crate::raw::{self, Conn};

/// One listener with `limits` (YAML lines indented for the `limits:` map),
/// one upstream and one catch-all route, plus extra route policies.
fn config(mock: &MockHandle, limits: &str, policies: &str) -> String {
    format!(
        r#"
listeners:
  - name: main
    bind: 127.0.0.1:0
    limits:
      max_connections: 100
{limits}
upstreams:
  - name: up
    targets: [{{ url: "{url}" }}]
routes:
  - name: all
    policies:
      {policies}
    target: {{ upstream: up }}
"#,
        url = mock.url(),
    )
}

async fn start(limits: &str, policies: &str) -> (TestGateway, MockHandle) {
    let mock = MockUpstream::start(MockOptions::named("up")).await.unwrap();
    let gw = TestGateway::start(&config(
        &mock,
        limits,
        if policies.is_empty() { "{}" } else { policies },
    ))
    .await;
    (gw, mock)
}

/// A well-formed request still gets through.
async fn still_serving(gw: &TestGateway) {
    let res = client().get(gw.url("/echo")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-upstream"], "up");
}

fn assert_error(json: &serde_json::Value, code: &str, message: &str) {
    assert_eq!(json["error"]["code"], code, "{json}");
    assert_eq!(json["error"]["message"], message, "{json}");
}

#[tokio::test]
async fn malformed_request_line_is_400_and_others_are_served() {
    let (gw, mock) = start("", "").await;
    for line in [
        "GARBAGE\r\n\r\n",
        "GET\r\n\r\n",
        "GET / HTTP/9.9\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n",
    ] {
        let (res, mut conn) = raw::exchange(gw.addr, line.as_bytes()).await;
        assert_eq!(res.status, 400, "{line:?}");
        assert!(
            conn.closed_within(Duration::from_secs(2)).await.is_some(),
            "connection left open after {line:?}"
        );
    }
    still_serving(&gw).await;
    assert_eq!(mock.requests(), 1, "nothing malformed reached the upstream");
    gw.shutdown().await;
}

#[tokio::test]
async fn oversized_headers_are_431() {
    let (gw, mock) = start("      max_header_bytes: 16KiB", "").await;
    // Under the limit: served.
    let ok = format!(
        "GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(8 * 1024)
    );
    assert_eq!(raw::exchange(gw.addr, ok.as_bytes()).await.0.status, 200);
    // Over it, in one header and in many.
    let one = format!(
        "GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20 * 1024)
    );
    let many: String = (0..90)
        .map(|i| format!("X-H{i}: {}\r\n", "b".repeat(250)))
        .collect();
    let many = format!("GET /echo HTTP/1.1\r\nHost: x\r\n{many}\r\n");
    for req in [one, many] {
        let (res, mut conn) = raw::exchange(gw.addr, req.as_bytes()).await;
        assert_eq!(res.status, 431);
        assert!(conn.closed_within(Duration::from_secs(2)).await.is_some());
    }
    still_serving(&gw).await;
    assert_eq!(mock.requests(), 2);
    gw.shutdown().await;
}

#[tokio::test]
async fn header_limit_below_8k_is_enforced() {
    // hyper's own read buffer cannot be smaller than 8 KiB; the listener must
    // still honour a smaller configured limit.
    let (gw, mock) = start("      max_header_bytes: 2KiB", "").await;
    let req = format!(
        "GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(4 * 1024)
    );
    let (res, _) = raw::exchange(gw.addr, req.as_bytes()).await;
    assert_eq!(res.status, 431);
    assert_eq!(mock.requests(), 0);
    let small = format!(
        "GET /echo HTTP/1.1\r\nHost: x\r\nX-Small: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(1024)
    );
    assert_eq!(raw::exchange(gw.addr, small.as_bytes()).await.0.status, 200);
    gw.shutdown().await;
}

#[tokio::test]
async fn body_over_listener_limit_with_content_length_is_413() {
    let (gw, mock) = start("      max_body_bytes: 1KiB", "").await;
    let res = client()
        .post(gw.url("/echo"))
        .body(vec![b'x'; 2048])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let json = crate::harness::error_json(res).await;
    assert_error(
        &json,
        "payload_too_large",
        "request body exceeds the limit of 1024 bytes",
    );
    assert_eq!(json["error"]["type"], "invalid_request_error");
    // Exactly at the limit is fine.
    let res = client()
        .post(gw.url("/echo"))
        .body(vec![b'x'; 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        mock.requests(),
        1,
        "the oversized body never reached the upstream"
    );
    gw.shutdown().await;
}

/// A declared length over the limit is answered at once, from the head:
/// the gateway neither waits for the body nor calls the upstream.
#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_before_the_body() {
    let (gw, mock) = start("      max_body_bytes: 1KiB", "").await;
    // A megabyte declared, a few bytes sent: only the head can answer this.
    let (res, _conn) = raw::exchange(
        gw.addr,
        b"POST /echo HTTP/1.1\r\nHost: gw\r\nContent-Length: 1000000\r\n\r\nabc",
    )
    .await;
    assert_eq!(res.status, 413, "{res:?}");
    assert_eq!(res.json()["error"]["code"], "payload_too_large");
    assert_eq!(mock.requests(), 0);
    gw.shutdown().await;
}

#[tokio::test]
async fn chunked_body_over_route_limit_is_413_while_streaming() {
    let (gw, _mock) = start("", "body_limit: 1KiB").await;
    let mut req = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..8 {
        req.extend_from_slice(format!("200\r\n{}\r\n", "y".repeat(0x200)).as_bytes());
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let (res, _) = raw::exchange(gw.addr, &req).await;
    assert_eq!(res.status, 413, "{:?}", String::from_utf8_lossy(&res.body));
    assert_error(
        &res.json(),
        "payload_too_large",
        "request body exceeds the limit of 1024 bytes",
    );
    // A chunked body under the limit streams through.
    let ok = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    let (res, _) = raw::exchange(gw.addr, ok).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["body"], "hello");
    let lines = gw.log_lines(2).await;
    assert!(
        lines
            .iter()
            .any(|l| l["status"] == 413 && l["error"] == "payload_too_large"),
        "{lines:?}"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn slowloris_is_cut_off_while_others_are_served() {
    let (gw, _mock) = start("      header_read_timeout: 1s", "").await;
    let mut slow = Conn::open(gw.addr).await;
    slow.send(b"GET /echo HTTP/1.1\r\nHost: x\r\n").await;
    let started = Instant::now();
    // Trickle a header line every 100 ms; the server must close regardless.
    let trickle = async {
        for i in 0..40 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if tokio::io::AsyncWriteExt::write_all(
                &mut slow.stream,
                format!("X-{i}: y\r\n").as_bytes(),
            )
            .await
            .is_err()
            {
                break;
            }
            // Meanwhile a normal client is served promptly.
            if i == 3 {
                let t = Instant::now();
                still_serving(&gw).await;
                assert!(t.elapsed() < Duration::from_millis(900));
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), trickle)
        .await
        .unwrap();
    let closed = slow.closed_within(Duration::from_secs(1)).await;
    assert!(closed.is_some(), "slow connection still open");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(900),
        "closed too early: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(5),
        "closed too late: {elapsed:?}"
    );
    still_serving(&gw).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn dot_segments_and_invalid_bytes_in_the_path_are_400() {
    let (gw, mock) = start("", "").await;
    let dots = "the request path contains `.` or `..` segments";
    for path in [
        "/a/../echo",
        "/a/%2e%2e/echo",
        "/a/%2E%2e/echo",
        "/a/.%2e/echo",
        "/./echo",
        "/a/%2e",
    ] {
        let res = raw::get(gw.addr, path).await;
        assert_eq!(res.status, 400, "{path}");
        assert_error(&res.json(), "bad_request", dots);
    }
    let res = raw::get(gw.addr, "/a%00b").await;
    assert_eq!(res.status, 400);
    assert_error(
        &res.json(),
        "bad_request",
        "the request path contains an encoded control character",
    );
    let res = raw::get(gw.addr, "/a%zz").await;
    assert_eq!(res.status, 400);
    assert_error(
        &res.json(),
        "bad_request",
        "the request path has malformed percent-encoding",
    );
    // Raw bytes that are not UTF-8 (or not allowed in a URI at all): hyper
    // refuses them before the gateway sees a request.
    for bytes in [&b"/caf\xc3"[..], b"/\xff\xfe", b"/a b", b"/a\x7f"] {
        let mut req = b"GET ".to_vec();
        req.extend_from_slice(bytes);
        req.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let (res, mut conn) = raw::exchange(gw.addr, &req).await;
        assert_eq!(res.status, 400, "{:?}", String::from_utf8_lossy(bytes));
        assert!(conn.closed_within(Duration::from_secs(2)).await.is_some());
    }
    // `..b` is a name, not a dot segment.
    assert_eq!(raw::get(gw.addr, "/a/..b").await.status, 200);
    assert_eq!(mock.requests(), 1);
    still_serving(&gw).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn absurd_content_length_is_refused() {
    let (gw, mock) = start("", "").await;
    for cl in ["99999999999999999999", "-1", "12abc", "1, 2"] {
        let req = format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {cl}\r\n\r\nabc");
        let (res, mut conn) = raw::exchange(gw.addr, req.as_bytes()).await;
        assert!(
            res.status == 400 || res.status == 413,
            "{cl}: {}",
            res.status
        );
        assert!(conn.closed_within(Duration::from_secs(2)).await.is_some());
    }
    // Past what hyper can represent as a body length: hyper answers itself.
    let req = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551615\r\n\r\nabc";
    let (res, _) = raw::exchange(gw.addr, req.as_bytes()).await;
    assert!([400, 413, 431].contains(&res.status), "{}", res.status);
    // Large but representable: refused by the listener limit, in JSON,
    // before any byte of the body is read.
    let req = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000000\r\n\r\nabc";
    let (res, _) = raw::exchange(gw.addr, req.as_bytes()).await;
    assert_eq!(res.status, 413);
    assert_error(
        &res.json(),
        "payload_too_large",
        "request body exceeds the limit of 10485760 bytes",
    );
    assert_eq!(mock.requests(), 0);
    still_serving(&gw).await;
    gw.shutdown().await;
}

/// Content-Length and Transfer-Encoding together: the framing the gateway
/// uses must be the only framing, and nothing after the first message may be
/// read from that connection (RFC 9112 §6.3). hyper drops the
/// Content-Length before the gateway sees the request, so the gateway cannot
/// tell such a request from a plain chunked one and processes it by
/// Transfer-Encoding alone, closing the connection after; the smuggled
/// request must never reach the upstream.
#[tokio::test]
async fn content_length_with_transfer_encoding_smuggles_nothing() {
    let (gw, mock) = start("", "").await;
    let smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    let variants = [
        format!(
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{smuggled}"
        ),
        format!(
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n{smuggled}"
        ),
    ];
    for req in &variants {
        let before = mock.requests();
        let (res, mut conn) = raw::exchange(gw.addr, req.as_bytes()).await;
        if res.status == 200 {
            let echo: serde_json::Value = serde_json::from_slice(&res.body).unwrap();
            assert_eq!(echo["body"], "", "the body was framed by Transfer-Encoding");
            assert!(
                echo["headers"]
                    .get("content-length")
                    .is_none_or(|v| v == "0"),
                "{echo}"
            );
        } else {
            assert_eq!(res.status, 400);
        }
        assert!(
            conn.closed_within(Duration::from_secs(2)).await.is_some(),
            "connection kept open after an ambiguous request"
        );
        assert!(
            mock.requests() <= before + 1,
            "the smuggled request reached the upstream"
        );
    }
    let lines = gw.log_lines(2).await;
    assert!(lines.iter().all(|l| l["path"] != "/smuggled"), "{lines:?}");
    // Transfer-Encoding other than chunked is refused outright.
    let req = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc";
    assert_eq!(raw::exchange(gw.addr, req.as_bytes()).await.0.status, 400);
    still_serving(&gw).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn h2_rapid_reset_gets_goaway_and_others_are_served() {
    let (gw, _mock) = start("      h2_max_pending_reset_streams: 10", "").await;
    let tcp = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    let (mut h2c, conn) = h2::client::handshake(tcp).await.unwrap();
    let driver = tokio::spawn(conn);
    // Open and cancel streams in one burst, faster than the server can
    // hand them to the application.
    for _ in 0..100 {
        let req = http::Request::get(gw.url("/delay/1000")).body(()).unwrap();
        let (_res, mut stream) = h2c.send_request(req, true).unwrap();
        stream.send_reset(h2::Reason::CANCEL);
    }
    let ended = tokio::time::timeout(Duration::from_secs(5), driver)
        .await
        .expect("connection not closed")
        .unwrap();
    let err = ended.expect_err("the server must end the abusive connection");
    assert!(err.is_go_away(), "{err:?}");
    assert_eq!(err.reason(), Some(h2::Reason::ENHANCE_YOUR_CALM), "{err:?}");
    // The connection is unusable afterwards.
    let req = http::Request::get(gw.url("/echo")).body(()).unwrap();
    assert!(h2c.send_request(req, true).is_err());
    // A fresh HTTP/2 client is served normally.
    let h2_client = reqwest::Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let res = h2_client.get(gw.url("/echo")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.version(), http::Version::HTTP_2);
    gw.shutdown().await;
}

#[tokio::test]
async fn upgrade_to_a_plain_http_endpoint_is_an_ordinary_response() {
    let (gw, mock) = start("", "").await;
    let mut conn = Conn::open(gw.addr).await;
    conn.send(b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").await;
    let res = conn.response().await;
    assert_eq!(
        res.status, 200,
        "the upstream did not switch, so neither does the gateway"
    );
    assert!(res.header("upgrade").is_none());
    let echo: serde_json::Value = serde_json::from_slice(&res.body).unwrap();
    assert_eq!(
        echo["headers"]["upgrade"], "websocket",
        "the upgrade offer reached the upstream"
    );
    // The connection is still plain HTTP and can carry another request.
    conn.send(b"GET /status/204 HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    assert_eq!(conn.response().await.status, 204);
    // An upgrade the upstream refuses (not a valid WebSocket handshake).
    conn.send(b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
        .await;
    let res = conn.response().await;
    assert_eq!(res.status, 400);
    assert_eq!(res.body, b"expected a WebSocket upgrade");
    assert_eq!(mock.requests(), 3);
    gw.shutdown().await;
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed() {
    let (gw, _mock) = start("      idle_timeout: 500ms", "").await;
    let mut conn = Conn::open(gw.addr).await;
    conn.send(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(conn.response().await.status, 200);
    let idle = conn
        .closed_within(Duration::from_secs(4))
        .await
        .expect("idle connection kept open");
    assert!(
        idle >= Duration::from_millis(400),
        "closed after {idle:?}, before the idle timeout"
    );
    // A response slower than the idle timeout is not cut: the connection is busy, not idle.
    let mut conn = Conn::open(gw.addr).await;
    conn.send(b"GET /delay/1200 HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let res = conn.response().await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body, b"ok");
    // Neither is a stream with gaps longer than the idle timeout.
    conn.send(b"GET /stream?chunks=3&interval_ms=700 HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let res = conn.response().await;
    assert_eq!(res.body, b"chunk 0\nchunk 1\nchunk 2\n");
    gw.shutdown().await;
}
