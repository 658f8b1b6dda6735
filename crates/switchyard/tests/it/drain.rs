//! Graceful shutdown: requests and streams in flight when shutdown starts
//! finish and are logged; new connections are refused; shutdown gives up
//! after the grace period.

use std::time::Duration;

use futures_util::StreamExt;
use sy_testkit::{MockHandle, MockOptions, MockUpstream};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::harness::{TestGateway, client};
use crate::raw::eventually;

async fn start(grace: &str) -> (TestGateway, MockHandle) {
    let mock = MockUpstream::start(MockOptions::named("up")).await.unwrap();
    let gw = TestGateway::start(&format!(
        r#"
server:
  shutdown_grace: {grace}
upstreams:
  - name: up
    targets: [{{ url: "{url}" }}]
routes:
  - name: all
    target: {{ upstream: up }}
"#,
        url = mock.url()
    ))
    .await;
    (gw, mock)
}

#[tokio::test]
async fn in_flight_requests_and_streams_finish_after_shutdown_starts() {
    let (mut gw, mock) = start("5s").await;
    let c = client();
    let slow = tokio::spawn(c.get(gw.url("/delay/500")).send());
    let res = c
        .get(gw.url("/stream?chunks=5&interval_ms=150"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut stream = res.bytes_stream();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(&first[..], b"chunk 0\n");
    // Both requests are at the upstream before shutdown begins.
    assert!(eventually(Duration::from_secs(2), || async { mock.requests() >= 2 }).await);

    let addr = gw.addr;
    let began = Instant::now();
    let stopping = tokio::spawn(gw.gw.take().unwrap().shutdown());
    // The listener closes: new connections are refused...
    assert!(
        eventually(Duration::from_secs(2), || async {
            TcpStream::connect(addr).await.is_err()
        })
        .await,
        "still accepting connections after shutdown began"
    );
    assert!(
        !stopping.is_finished(),
        "shutdown did not wait for in-flight work"
    );
    // ...while the slow response and the stream complete in full.
    let slow = tokio::time::timeout(Duration::from_secs(5), slow)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(slow.status(), 200);
    assert_eq!(slow.text().await.unwrap(), "ok");
    let mut rest = Vec::new();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .unwrap()
    {
        rest.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(
        String::from_utf8(rest).unwrap(),
        "chunk 1\nchunk 2\nchunk 3\nchunk 4\n"
    );
    tokio::time::timeout(Duration::from_secs(5), stopping)
        .await
        .expect("shutdown hung")
        .unwrap();
    assert!(
        began.elapsed() < Duration::from_secs(3),
        "shutdown took {:?}",
        began.elapsed()
    );
    assert!(c.get(gw.url("/")).send().await.is_err());

    // One access log line each, written before shutdown returned.
    let lines = gw.log_lines(2).await;
    assert_eq!(lines.len(), 2, "{lines:?}");
    let by_path = |p: &str| {
        lines
            .iter()
            .find(|l| l["path"] == p)
            .unwrap_or_else(|| panic!("no line for {p}: {lines:?}"))
    };
    assert_eq!(by_path("/delay/500")["status"], 200);
    assert_eq!(by_path("/delay/500")["bytes_out"], 2);
    assert_eq!(by_path("/stream")["status"], 200);
    assert_eq!(by_path("/stream")["bytes_out"], 40);
}

#[tokio::test]
async fn idle_keep_alive_connections_close_at_shutdown() {
    let (mut gw, _mock) = start("5s").await;
    let mut conn = crate::raw::Conn::open(gw.addr).await;
    conn.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(conn.response().await.status, 200);
    let began = Instant::now();
    tokio::time::timeout(Duration::from_secs(3), gw.gw.take().unwrap().shutdown())
        .await
        .expect("an idle connection held up shutdown");
    assert!(
        began.elapsed() < Duration::from_secs(1),
        "{:?}",
        began.elapsed()
    );
    assert!(conn.closed_within(Duration::from_secs(1)).await.is_some());
}

#[tokio::test]
async fn shutdown_gives_up_on_requests_longer_than_the_grace() {
    let (mut gw, mock) = start("500ms").await;
    let hung = tokio::spawn(client().get(gw.url("/hang")).send());
    assert!(eventually(Duration::from_secs(2), || async { mock.requests() >= 1 }).await);
    let began = Instant::now();
    tokio::time::timeout(Duration::from_secs(4), gw.gw.take().unwrap().shutdown())
        .await
        .expect("shutdown ignored its grace period");
    let took = began.elapsed();
    assert!(took >= Duration::from_millis(450), "{took:?}");
    assert!(took < Duration::from_millis(2500), "{took:?}");
    // The hung client is cut off rather than left waiting.
    let res = tokio::time::timeout(Duration::from_secs(2), hung)
        .await
        .expect("hung request left open")
        .unwrap();
    assert!(res.is_err(), "{res:?}");
}
