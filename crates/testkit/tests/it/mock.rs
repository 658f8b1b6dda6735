//! Plain endpoints, steering (health, failures, shutdown) and the binary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use http::{Method, StatusCode};
use sy_testkit::{MockOptions, MockUpstream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

use crate::client::{get, h2c, http1, send};

#[tokio::test]
async fn root_answers_ok_with_name_and_counts() {
    let mock = MockUpstream::start(MockOptions::named("alpha"))
        .await
        .unwrap();
    let r = get(&format!("{}/", mock.url())).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text(), "ok");
    assert_eq!(r.upstream(), "alpha");
    let r = get(&format!("{}/anything/else", mock.url())).await;
    assert_eq!(r.text(), "ok");
    assert_eq!(mock.requests(), 2);
    let stats = get(&format!("{}/__stats", mock.url())).await.json();
    assert_eq!(stats["requests"], 2);
    assert_eq!(stats["upstream"], "alpha");
    assert_eq!(mock.requests(), 2, "/__stats is not counted");
}

#[tokio::test]
async fn echo_reports_the_request_over_http1_and_h2c() {
    let mock = MockUpstream::start(MockOptions::named("echoer"))
        .await
        .unwrap();
    let url = format!("{}/echo?a=1&b=two", mock.url());
    let j = send(&http1(), Method::PUT, &url, "hello body").await.json();
    assert_eq!(j["method"], "PUT");
    assert_eq!(j["path"], "/echo");
    assert_eq!(j["query"], "a=1&b=two");
    assert_eq!(j["body"], "hello body");
    assert_eq!(j["headers"]["x-test"], "yes");
    assert_eq!(j["upstream"], "echoer");
    assert_eq!(j["version"], "HTTP/1.1");
    let j = send(&h2c(), Method::POST, &url, "").await.json();
    assert_eq!(j["version"], "HTTP/2.0");
    assert_eq!(j["method"], "POST");
}

#[tokio::test]
async fn health_and_forced_failures_follow_the_handle() {
    let mock = MockUpstream::start(MockOptions::default()).await.unwrap();
    let health = format!("{}/health", mock.url());
    assert_eq!(get(&health).await.status, StatusCode::OK);
    mock.set_healthy(false);
    assert_eq!(get(&health).await.status, StatusCode::SERVICE_UNAVAILABLE);
    mock.set_healthy(true);

    mock.set_fail(Some(502));
    let r = get(&format!("{}/echo", mock.url())).await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    assert_eq!(r.json()["error"]["code"], 502);
    assert_eq!(
        get(&health).await.status,
        StatusCode::OK,
        "health ignores set_fail"
    );
    mock.set_fail(None);
    assert_eq!(
        get(&format!("{}/", mock.url())).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn status_and_delay_paths() {
    let mock = MockUpstream::start(MockOptions::default()).await.unwrap();
    let r = get(&format!("{}/status/418", mock.url())).await;
    assert_eq!(r.status, StatusCode::IM_A_TEAPOT);
    assert_eq!(r.text(), "status 418");
    assert_eq!(
        get(&format!("{}/status/nope", mock.url())).await.status,
        StatusCode::BAD_REQUEST
    );

    let started = tokio::time::Instant::now();
    let r = get(&format!("{}/delay/60", mock.url())).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(60));
}

#[tokio::test]
async fn hang_never_answers_and_shutdown_closes_it() {
    let mock = MockUpstream::start(MockOptions::default()).await.unwrap();
    let mut conn = TcpStream::connect(mock.addr()).await.unwrap();
    conn.write_all(b"GET /hang HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let waited = tokio::time::timeout(Duration::from_millis(150), conn.read(&mut buf)).await;
    assert!(waited.is_err(), "/hang must not answer");
    mock.shutdown().await;
    let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf))
        .await
        .expect("shutdown closes hanging connections")
        .unwrap_or(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn reset_closes_the_connection_without_a_response() {
    let mock = MockUpstream::start(MockOptions::default()).await.unwrap();
    let mut conn = TcpStream::connect(mock.addr()).await.unwrap();
    conn.write_all(b"GET /reset HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "connection must close");
    assert!(
        out.is_empty(),
        "got a response: {:?}",
        String::from_utf8_lossy(&out)
    );
}

#[tokio::test]
async fn websocket_echoes_messages() {
    let mock = MockUpstream::start(MockOptions::named("wsmock"))
        .await
        .unwrap();
    let url = format!("ws://{}/ws", mock.addr());
    let (mut ws, resp) = tokio_tungstenite::connect_async(url).await.unwrap();
    assert_eq!(resp.headers()["x-upstream"], "wsmock");
    ws.send(Message::text("hi there")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("hi there"));
    ws.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::binary(vec![1u8, 2, 3])
    );
    ws.close(None).await.unwrap();
}

#[test]
fn binary_prints_a_ready_line_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sy-mock-upstream"))
        .args(["--port", "0", "--name", "bin"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .strip_prefix("ready ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("bad ready line {line:?}"))
        .to_owned();
    assert!(line.trim_end().ends_with("name=bin"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let r = rt.block_on(get(&format!("http://{addr}/")));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(r.text(), "ok");
    assert_eq!(r.upstream(), "bin");
}
