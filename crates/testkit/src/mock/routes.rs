//! Request dispatch: one match on the path, one small function per endpoint.
//! The `/` and chat paths are the benchmark's hot paths and avoid work that
//! other endpoints can afford (JSON trees, body collection).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::body::{MockBody, Paced};
use super::{MockError, Shared, anthropic, chat, ws};

/// Most frames a `/stream` or `/sse` request may ask for.
const MAX_FRAMES: usize = 100_000;
const TEXT: HeaderValue = HeaderValue::from_static("text/plain");
const JSON: HeaderValue = HeaderValue::from_static("application/json");
const EVENT_STREAM: HeaderValue = HeaderValue::from_static("text/event-stream");

/// Answers one request. An `Err` makes hyper drop the connection (HTTP/1)
/// or reset the stream (HTTP/2) without a response: that is how `/reset`
/// works.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<MockBody>, MockError> {
    let path = req.uri().path();
    if path == "/__stats" {
        let body = serde_json::json!({
            "upstream": shared.name,
            "requests": shared.requests.load(Ordering::Relaxed),
        });
        return Ok(reply(&shared, StatusCode::OK, JSON, body.to_string()));
    }
    shared.requests.fetch_add(1, Ordering::Relaxed);
    if path == "/health" {
        return Ok(if shared.healthy.load(Ordering::Relaxed) {
            reply(&shared, StatusCode::OK, TEXT, "healthy")
        } else {
            reply(&shared, StatusCode::SERVICE_UNAVAILABLE, TEXT, "unhealthy")
        });
    }
    let fail = shared.fail.load(Ordering::Relaxed);
    if fail != 0 {
        return Ok(failure(&shared, fail));
    }
    match path {
        "/v1/chat/completions" if req.method() == Method::POST => chat::respond(&shared, req).await,
        "/v1/messages" if req.method() == Method::POST => anthropic::respond(&shared, req).await,
        "/v1/embeddings" if req.method() == Method::POST => embeddings(&shared, req).await,
        "/echo" => echo(&shared, req).await,
        "/stream" => Ok(stream(&shared, req.uri().query(), false)),
        "/sse" => Ok(stream(&shared, req.uri().query(), true)),
        "/hang" => std::future::pending().await,
        "/reset" => Err(MockError::Reset),
        "/ws" => Ok(ws::upgrade(&shared, req)),
        _ => {
            if let Some(code) = path.strip_prefix("/status/") {
                return Ok(status(&shared, code));
            }
            if let Some(ms) = path.strip_prefix("/delay/") {
                let Ok(ms) = ms.parse::<u64>() else {
                    return Ok(reply(&shared, StatusCode::BAD_REQUEST, TEXT, "bad delay"));
                };
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            Ok(reply(&shared, StatusCode::OK, TEXT, "ok"))
        }
    }
}

/// A response with a full body, `content-type` and `x-upstream` set.
pub(crate) fn reply(
    shared: &Shared,
    status: StatusCode,
    content_type: HeaderValue,
    body: impl Into<Bytes>,
) -> Response<MockBody> {
    let mut resp = Response::new(MockBody::full(body));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, content_type);
    headers.insert("x-upstream", shared.name_header.clone());
    resp
}

/// The forced failure set by `MockHandle::set_fail`, shaped like an OpenAI
/// error so AI-endpoint tests can parse it.
fn failure(shared: &Shared, code: u16) -> Response<MockBody> {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::json!({
        "error": {
            "message": format!("mock upstream {} forced status {code}", shared.name),
            "type": "mock_error",
            "code": code,
        }
    });
    reply(shared, status, JSON, body.to_string())
}

fn status(shared: &Shared, code: &str) -> Response<MockBody> {
    match code
        .parse::<u16>()
        .ok()
        .and_then(|c| StatusCode::from_u16(c).ok())
    {
        Some(status) => reply(shared, status, TEXT, format!("status {}", status.as_u16())),
        None => reply(shared, StatusCode::BAD_REQUEST, TEXT, "bad status code"),
    }
}

/// `POST /v1/embeddings` in OpenAI's shape: input `i` (a string, or an
/// array of strings) gets the vector `[i, <its length in bytes>, 0.5]`;
/// `prompt_tokens` is the body's length ÷ 4, rounded up; the model is
/// echoed.
async fn embeddings(
    shared: &Shared,
    req: Request<Incoming>,
) -> Result<Response<MockBody>, MockError> {
    let body = req.into_body().collect().await?.to_bytes();
    let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let inputs: Vec<usize> = match &request["input"] {
        serde_json::Value::String(s) => vec![s.len()],
        serde_json::Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or(0, str::len))
            .collect(),
        _ => Vec::new(),
    };
    let data: Vec<serde_json::Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, len)| {
            serde_json::json!({"object": "embedding", "index": i, "embedding": [i as f64, *len as f64, 0.5]})
        })
        .collect();
    let tokens = body.len().div_ceil(4).max(1);
    let json = serde_json::json!({
        "object": "list",
        "data": data,
        "model": request["model"],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    });
    Ok(reply(shared, StatusCode::OK, JSON, json.to_string()))
}

async fn echo(shared: &Shared, req: Request<Incoming>) -> Result<Response<MockBody>, MockError> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let mut headers = serde_json::Map::new();
    for name in parts.headers.keys() {
        let joined = parts
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join(", ");
        headers.insert(name.as_str().to_owned(), joined.into());
    }
    let json = serde_json::json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query().unwrap_or(""),
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
        "upstream": shared.name,
        "version": format!("{:?}", parts.version),
    });
    Ok(reply(shared, StatusCode::OK, JSON, json.to_string()))
}

/// `/stream` (plain chunks) and `/sse` (events), both paced by `interval_ms`.
fn stream(shared: &Shared, query: Option<&str>, sse: bool) -> Response<MockBody> {
    let chunks = query_param(query, "chunks")
        .unwrap_or(5)
        .min(MAX_FRAMES as u64) as usize;
    let interval = Duration::from_millis(query_param(query, "interval_ms").unwrap_or(0));
    let frames = (0..chunks)
        .map(|i| {
            let text = if sse {
                format!("data: event {i}\n\n")
            } else {
                format!("chunk {i}\n")
            };
            (i > 0, Bytes::from(text))
        })
        .collect();
    let mut resp = reply(shared, StatusCode::OK, TEXT, Bytes::new());
    *resp.body_mut() = MockBody::Paced(Paced::new(frames, interval));
    if sse {
        resp.headers_mut().insert(CONTENT_TYPE, EVENT_STREAM);
        resp.headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    resp
}

/// The first `name=<u64>` in a raw query string.
fn query_param(query: Option<&str>, name: &str) -> Option<u64> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .and_then(|(_, v)| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::query_param;

    #[test]
    fn query_param_finds_numbers() {
        assert_eq!(
            query_param(Some("chunks=3&interval_ms=7"), "interval_ms"),
            Some(7)
        );
        assert_eq!(query_param(Some("chunks=x"), "chunks"), None);
        assert_eq!(query_param(None, "chunks"), None);
    }
}
