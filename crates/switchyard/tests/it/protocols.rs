//! Protocols through the gateway: cleartext HTTP/2 (prior knowledge),
//! WebSocket pass-through, and streamed bodies that arrive chunk by chunk
//! rather than all at the end.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use sy_testkit::{MockHandle, MockOptions, MockUpstream};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{TestGateway, client};

fn config(mock: &MockHandle, listener: &str) -> String {
    format!(
        r#"
listeners:
  - name: main
    bind: 127.0.0.1:0
{listener}
upstreams:
  - name: up
    targets: [{{ url: "{url}" }}]
  - name: up-h2
    http2: true
    targets: [{{ url: "{url}" }}]
routes:
  - name: h2-upstream
    match: {{ path: {{ prefix: /h2 }} }}
    rewrite: {{ strip_prefix: /h2 }}
    target: {{ upstream: up-h2 }}
  - name: all
    target: {{ upstream: up }}
"#,
        url = mock.url(),
    )
}

async fn start(listener: &str) -> (TestGateway, MockHandle) {
    let mock = MockUpstream::start(MockOptions::named("up")).await.unwrap();
    let gw = TestGateway::start(&config(&mock, listener)).await;
    (gw, mock)
}

fn h2_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .build()
        .unwrap()
}

#[tokio::test]
async fn h2c_prior_knowledge_is_served() {
    let (gw, _mock) = start("").await;
    let c = h2_client();
    let res = c
        .get(gw.url("/echo?x=1"))
        .header("x-custom", "v")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.version(), http::Version::HTTP_2);
    let echo: serde_json::Value = res.json().await.unwrap();
    assert_eq!(echo["version"], "HTTP/1.1");
    assert_eq!(echo["query"], "x=1");
    assert_eq!(echo["headers"]["x-custom"], "v");
    assert_eq!(
        echo["headers"]["host"],
        gw.addr.to_string(),
        ":authority becomes Host for an HTTP/1.1 upstream"
    );
    // Many concurrent streams on one connection.
    let all = futures_util::future::join_all((0..20).map(|i| {
        let c = c.clone();
        let url = gw.url(&format!("/status/{}", 200 + i));
        async move { c.get(url).send().await.unwrap().status().as_u16() }
    }))
    .await;
    assert_eq!(all, (200..220).collect::<Vec<u16>>());
    // HTTP/2 end to end when the pool asks for it.
    let res = c
        .post(gw.url("/h2/echo"))
        .body("payload")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let echo: serde_json::Value = res.json().await.unwrap();
    assert_eq!(echo["version"], "HTTP/2.0");
    assert_eq!(echo["body"], "payload");
    let lines = gw.log_lines(22).await;
    assert!(lines.iter().all(|l| l["protocol"] == "HTTP/2"), "{lines:?}");
    gw.shutdown().await;
}

/// An HTTP/1.1 head (kept as lines) sent on over HTTP/2: its end-to-end
/// fields go, its connection fields and Host (`:authority` there) do not —
/// HTTP/2 refuses a request that carries them.
#[tokio::test]
async fn an_http1_head_reaches_an_http2_upstream_without_its_connection_fields() {
    let (gw, _mock) = start("").await;
    let mut conn = crate::raw::Conn::open(gw.addr).await;
    conn.send(
        b"POST /h2/echo HTTP/1.1\r\nHost: gw.test\r\nConnection: keep-alive\r\n\
          Keep-Alive: timeout=5\r\nTE: trailers\r\nX-Custom: v\r\nContent-Length: 7\r\n\r\npayload",
    )
    .await;
    let res = conn.response().await;
    assert_eq!(res.status, 200, "{res:?}");
    let echo = res.json();
    assert_eq!(echo["version"], "HTTP/2.0");
    assert_eq!(echo["body"], "payload");
    let h = &echo["headers"];
    assert_eq!(h["x-custom"], "v");
    assert_eq!(h["x-forwarded-host"], "gw.test");
    for gone in ["host", "connection", "keep-alive", "te"] {
        assert!(h.get(gone).is_none(), "{gone}: {h}");
    }
    gw.shutdown().await;
}

#[tokio::test]
async fn h2c_is_refused_when_http2_is_off() {
    let (gw, mock) = start("    http2: false").await;
    assert!(h2_client().get(gw.url("/echo")).send().await.is_err());
    let res = client().get(gw.url("/echo")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.version(), http::Version::HTTP_11);
    assert_eq!(mock.requests(), 1);
    gw.shutdown().await;
}

#[tokio::test]
async fn websocket_passes_through() {
    let (gw, _mock) = start("").await;
    let url = format!("ws://{}/ws", gw.addr);
    let (mut ws, res) = tokio::time::timeout(
        Duration::from_secs(5),
        tokio_tungstenite::connect_async(url),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(res.status(), 101);
    assert_eq!(res.headers()["x-upstream"], "up");
    for i in 0..5 {
        ws.send(Message::text(format!("hello {i}"))).await.unwrap();
        let got = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(got, Message::text(format!("hello {i}")));
    }
    let big = vec![7u8; 256 * 1024];
    ws.send(Message::binary(big.clone())).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(got.into_data().as_ref(), &big[..]);
    ws.close(None).await.unwrap();
    // The close handshake completes through the tunnel.
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(m)) = ws.next().await {
            if m.is_close() {
                break;
            }
        }
    })
    .await;
    assert!(end.is_ok(), "close not echoed");
    let lines = gw.log_lines(1).await;
    assert_eq!(lines[0]["status"], 101);
    assert_eq!(lines[0]["path"], "/ws");
    // HTTP/2 to the upstream cannot carry an HTTP/1.1 upgrade: the upstream
    // sees a plain GET and refuses it, and the client gets that answer.
    let err = tokio_tungstenite::connect_async(format!("ws://{}/h2/ws", gw.addr))
        .await
        .unwrap_err();
    match err {
        tokio_tungstenite::tungstenite::Error::Http(res) => {
            assert_eq!(res.status(), 400);
            assert_eq!(
                res.body().as_deref(),
                Some(&b"expected a WebSocket upgrade"[..])
            );
        }
        other => panic!("{other:?}"),
    }
    gw.shutdown().await;
}

/// Read `res` chunk by chunk, returning each chunk with the time it arrived.
async fn timed_chunks(res: reqwest::Response, start: Instant) -> Vec<(Duration, bytes::Bytes)> {
    let mut out = Vec::new();
    let mut body = res.bytes_stream();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(5), body.next())
        .await
        .unwrap()
    {
        out.push((start.elapsed(), chunk.unwrap()));
    }
    out
}

#[tokio::test]
async fn streamed_chunks_are_forwarded_as_they_arrive() {
    let (gw, _mock) = start("").await;
    for (path, h2) in [
        ("/stream?chunks=4&interval_ms=300", false),
        ("/sse?chunks=4&interval_ms=300", true),
    ] {
        let c = if h2 { h2_client() } else { client() };
        let start = Instant::now();
        let res = c.get(gw.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let head = start.elapsed();
        assert!(
            head < Duration::from_millis(600),
            "{path}: head after {head:?}: buffered?"
        );
        if path.starts_with("/sse") {
            assert_eq!(res.headers()["content-type"], "text/event-stream");
            assert_eq!(res.headers()["cache-control"], "no-cache");
        }
        let chunks = timed_chunks(res, start).await;
        let text: String = chunks
            .iter()
            .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
            .collect();
        let expect: String = if h2 {
            (0..4).map(|i| format!("data: event {i}\n\n")).collect()
        } else {
            (0..4).map(|i| format!("chunk {i}\n")).collect()
        };
        assert_eq!(text, expect);
        // Chunk i may not arrive before the upstream sent it (i × 300 ms),
        // and the first must not wait for the last.
        let first = chunks[0].0;
        let last = chunks.last().unwrap().0;
        assert!(
            first < Duration::from_millis(600),
            "{path}: first chunk after {first:?}"
        );
        assert!(
            last >= Duration::from_millis(850),
            "{path}: last chunk after {last:?}"
        );
        assert!(chunks.len() >= 3, "{path}: chunks were merged: {chunks:?}");
    }
    let lines = gw.log_lines(2).await;
    assert_eq!(lines[0]["bytes_out"], 32);
    assert_eq!(lines[1]["bytes_out"], 60);
    gw.shutdown().await;
}

#[tokio::test]
async fn request_body_streams_to_the_upstream() {
    let (gw, _mock) = start("").await;
    // A body produced slowly reaches the upstream whole, chunk boundaries aside.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(4);
    let body = reqwest::Body::wrap_stream(tokio_stream_from(rx));
    let send = tokio::spawn(client().post(gw.url("/echo")).body(body).send());
    for i in 0..5 {
        tx.send(Ok(bytes::Bytes::from(format!("part{i};"))))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(tx);
    let res = tokio::time::timeout(Duration::from_secs(5), send)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(res.status(), 200);
    let echo: serde_json::Value = res.json().await.unwrap();
    assert_eq!(echo["body"], "part0;part1;part2;part3;part4;");
    gw.shutdown().await;
}

#[tokio::test]
async fn a_large_body_with_a_content_length_reaches_the_upstream_whole() {
    let (gw, _mock) = start("").await;
    // Larger than what the upstream client sends with the head, so the
    // rest streams after a prefix; the upstream must see every byte, once.
    let body: String = (0..40_000)
        .map(|i| format!("{:05};", i % 100_000))
        .collect();
    let res = client()
        .post(gw.url("/echo"))
        .header("content-type", "text/plain")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let echo: serde_json::Value = res.json().await.unwrap();
    assert_eq!(echo["headers"]["content-length"], body.len().to_string());
    assert_eq!(echo["body"].as_str().unwrap().len(), body.len());
    assert!(echo["body"] == body.as_str());
    gw.shutdown().await;
}

fn tokio_stream_from<T>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
