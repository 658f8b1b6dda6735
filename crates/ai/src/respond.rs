//! Building responses: JSON bodies and SSE streams.

use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode, header};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use serde::Serialize;
use sy_http::{Body, BoxError};
use sy_llm::sse;

use crate::{AiError, HEADER_ATTEMPTS, HEADER_DEPLOYMENT, HEADER_FALLBACK};

/// A JSON response. Serializing our own types cannot fail in practice; if
/// it does, the client gets a 500 in OpenAI shape rather than a panic.
pub(crate) fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(bytes) => json_bytes(status, bytes),
        Err(e) => AiError::Internal(format!("serializing a response: {e}")).into_response(),
    }
}

/// A response whose body is JSON already encoded.
pub(crate) fn json_bytes(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(sy_http::full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// An SSE response whose body yields each frame as `frames` produces it.
pub(crate) fn sse<S>(frames: S) -> Response<Body>
where
    S: futures_util::Stream<Item = Bytes> + Send + 'static,
{
    let body =
        StreamBody::new(frames.map(|bytes| Ok::<_, BoxError>(Frame::data(bytes)))).boxed_unsync();
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Tells nginx-style buffering proxies in front of us to pass chunks on.
    headers.insert(
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    response
}

/// The SSE event that reports an error after the stream has started
/// (OpenAI SDKs raise on a `data:` object with an `error` key).
pub(crate) fn sse_error(error: &AiError) -> Bytes {
    sse::encode_data(&error.to_body().to_json())
}

/// The routing headers, on answers and on errors of routed calls alike:
/// the deployment whose answer (or error) this is, when one was tried; the
/// provider calls made; the fallback model, when not the one asked for.
pub(crate) fn set_routing_headers(
    headers: &mut HeaderMap,
    deployment: Option<&str>,
    attempts: u32,
    fallback: Option<&str>,
) {
    if let Some(deployment) = deployment {
        insert_valid(headers, HEADER_DEPLOYMENT, deployment);
    }
    headers.insert(
        HeaderName::from_static(HEADER_ATTEMPTS),
        HeaderValue::from(attempts),
    );
    if let Some(fallback) = fallback {
        insert_valid(headers, HEADER_FALLBACK, fallback);
    }
}

/// Set a header when the value is a valid header value; skip it otherwise
/// (a model name with control characters must not fail the response).
pub(crate) fn set_header(response: &mut Response<Body>, name: &'static str, value: &str) {
    insert_valid(response.headers_mut(), name, value);
}

fn insert_valid(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), value);
    }
}
