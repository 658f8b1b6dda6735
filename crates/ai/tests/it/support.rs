//! Shared helpers: a gateway built from the embedded defaults plus a few
//! extra models, and request/response plumbing.

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sy_ai::AiGateway;
use sy_llm::sse::{SseDecoder, SseEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

pub const REQUEST_ID: &str = "0190b0c1-test";

/// The embedded defaults (provider `mock`, model `mock-1`) plus:
/// `other-1` on `mock`; `slow-1` on provider `slow` (latency 2s, chunk delay
/// 100ms); `gpt-x` on an `openai` provider at a closed local port.
pub fn gateway() -> AiGateway {
    let mut spec = sy_config::defaults().expect("defaults load");
    let providers = json!([
        {"name": "slow", "kind": "mock", "mock": {"latency": "2s", "chunk_delay": "100ms"}},
        {"name": "oai", "kind": "openai", "api_key": "sk-test", "base_url": "http://127.0.0.1:1/v1"}
    ]);
    let models = json!([
        {"name": "other-1", "deployments": [{"provider": "mock", "model": "other-model"}]},
        {"name": "slow-1", "deployments": [{"provider": "slow", "model": "slow-model"}]},
        {"name": "gpt-x", "deployments": [{"provider": "oai", "model": "gpt-4o"}]}
    ]);
    spec.providers
        .extend(serde_json::from_value::<Vec<sy_config::ProviderSpec>>(providers).unwrap());
    spec.models
        .extend(serde_json::from_value::<Vec<sy_config::ModelSpec>>(models).unwrap());
    AiGateway::compile(&spec).expect("gateway compiles")
}

/// The defaults plus model `m` on one provider `up` of `kind` at
/// `base_url`, deployed as `model`.
pub fn gateway_on(kind: &str, base_url: &str, model: &str) -> AiGateway {
    let mut spec = sy_config::defaults().expect("defaults load");
    let providers = json!([{"name": "up", "kind": kind, "api_key": "sk-test", "base_url": base_url, "timeout": "5s"}]);
    let models = json!([{"name": "m", "deployments": [{"provider": "up", "model": model}]}]);
    spec.providers
        .extend(serde_json::from_value::<Vec<sy_config::ProviderSpec>>(providers).unwrap());
    spec.models
        .extend(serde_json::from_value::<Vec<sy_config::ModelSpec>>(models).unwrap());
    AiGateway::compile(&spec).expect("gateway compiles")
}

/// A server that answers every request with `answer` (JSON) and sends the
/// JSON body it received on the channel.
pub async fn capturing_server(answer: &'static str) -> (String, mpsc::UnboundedReceiver<Value>) {
    capturing_with(answer, |body| {
        serde_json::from_slice(body).unwrap_or(Value::Null)
    })
    .await
}

/// [`capturing_server`] sending the bytes of each body as they came.
pub async fn capturing_raw(answer: &'static str) -> (String, mpsc::UnboundedReceiver<Vec<u8>>) {
    capturing_with(answer, <[u8]>::to_vec).await
}

async fn capturing_with<T: Send + 'static>(
    answer: &'static str,
    seen_as: fn(&[u8]) -> T,
) -> (String, mpsc::UnboundedReceiver<T>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buf = [0u8; 16 * 1024];
                let body = loop {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&seen).into_owned();
                    let Some(end) = text.find("\r\n\r\n") else {
                        continue;
                    };
                    let length = text[..end]
                        .to_ascii_lowercase()
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:").map(str::to_owned))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if seen.len() >= end + 4 + length {
                        break seen[end + 4..end + 4 + length].to_vec();
                    }
                };
                let _ = tx.send(seen_as(&body));
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    answer.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    (format!("http://{addr}/v1"), rx)
}

/// Call the gateway; return the status, headers and the whole body.
pub async fn call(
    gw: &AiGateway,
    allowed: &[&str],
    method: Method,
    path: &str,
    body: &str,
) -> (StatusCode, HeaderMap, Bytes) {
    let (status, headers, frames) = call_frames(gw, allowed, method, path, body).await;
    (status, headers, frames.concat().into())
}

/// Call the gateway; return the status, headers and the body frame by frame.
pub async fn call_frames(
    gw: &AiGateway,
    allowed: &[&str],
    method: Method,
    path: &str,
    body: &str,
) -> (StatusCode, HeaderMap, Vec<Bytes>) {
    let response = gw
        .handle(
            sy_ai::Caller::new(&allowed_vec(allowed), None),
            &parts(method, path),
            Bytes::from(body.to_owned()),
            REQUEST_ID,
        )
        .await;
    let (mut head, mut body) = response.into_parts();
    sy_http::materialize(&mut head);
    let mut frames = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.expect("body frame").into_data() {
            frames.push(data);
        }
    }
    (head.status, head.headers, frames)
}

/// The response with the fields it carries as lines merged into its map,
/// as a client would receive them.
pub fn merged(response: http::Response<sy_http::Body>) -> http::Response<sy_http::Body> {
    let (mut parts, body) = response.into_parts();
    sy_http::materialize(&mut parts);
    http::Response::from_parts(parts, body)
}

pub fn allowed_vec(allowed: &[&str]) -> Vec<String> {
    allowed.iter().map(|s| (*s).to_owned()).collect()
}

pub fn parts(method: Method, path: &str) -> http::request::Parts {
    Request::builder()
        .method(method)
        .uri(path)
        .body(())
        .unwrap()
        .into_parts()
        .0
}

/// POST a chat body to `/v1/chat/completions` with every model allowed.
pub async fn chat(gw: &AiGateway, body: Value) -> (StatusCode, HeaderMap, Bytes) {
    call(
        gw,
        &[],
        Method::POST,
        "/v1/chat/completions",
        &body.to_string(),
    )
    .await
}

pub fn json_of(bytes: &Bytes) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

/// Decode an SSE body, checking each frame holds exactly one whole event
/// (chunks are forwarded one by one, never merged or split).
pub fn events(frames: &[Bytes]) -> Vec<SseEvent> {
    let mut out = Vec::new();
    for frame in frames {
        let mut decoder = SseDecoder::new();
        let mut got = decoder.push(frame).unwrap();
        assert_eq!(
            got.len(),
            1,
            "frame {:?} is not one event",
            String::from_utf8_lossy(frame)
        );
        assert!(decoder.finish().is_none());
        out.append(&mut got);
    }
    out
}

pub fn user(text: &str) -> Value {
    json!([{"role": "user", "content": text}])
}

pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Replace `created` (wall-clock time) with 0 so shapes compare exactly.
pub fn zero_created(mut value: Value) -> Value {
    if let Some(created) = value.get_mut("created") {
        assert!(
            created.as_u64().unwrap() > 1_600_000_000,
            "created is unix seconds"
        );
        *created = json!(0);
    }
    value
}
