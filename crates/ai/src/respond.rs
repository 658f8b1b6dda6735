//! Building responses: JSON bodies and SSE streams.

use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode, header};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use serde::Serialize;
use sy_http::{Body, BoxError};
use sy_llm::sse;

use crate::AiError;

/// The gateway's own response header names, made at compile time: a
/// `HeaderName::from_static` call at run time checks the name again on
/// every answer.
pub(crate) mod names {
    use http::HeaderName;

    pub(crate) const DEPLOYMENT: HeaderName = HeaderName::from_static(crate::HEADER_DEPLOYMENT);
    pub(crate) const ATTEMPTS: HeaderName = HeaderName::from_static(crate::HEADER_ATTEMPTS);
    pub(crate) const FALLBACK: HeaderName = HeaderName::from_static(crate::HEADER_FALLBACK);
    pub(crate) const PROMPT_TOKENS: HeaderName =
        HeaderName::from_static(crate::HEADER_PROMPT_TOKENS);
    pub(crate) const COMPLETION_TOKENS: HeaderName =
        HeaderName::from_static(crate::HEADER_COMPLETION_TOKENS);
    pub(crate) const COST: HeaderName = HeaderName::from_static(crate::HEADER_COST);
}

/// Room for the headers of an answer (content type, routing, tokens, cost,
/// rate limits, then the proxy's own), so that the map is allocated once
/// instead of growing twice.
const ANSWER_HEADERS: usize = 20;

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
    let mut headers = HeaderMap::with_capacity(ANSWER_HEADERS);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let mut response = Response::new(sy_http::full(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
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
        insert_valid(headers, names::DEPLOYMENT, deployment);
    }
    headers.insert(names::ATTEMPTS, HeaderValue::from(attempts));
    if let Some(fallback) = fallback {
        insert_valid(headers, names::FALLBACK, fallback);
    }
}

/// Set a header when the value is a valid header value; skip it otherwise
/// (a model name with control characters must not fail the response).
pub(crate) fn set_header(response: &mut Response<Body>, name: HeaderName, value: &str) {
    insert_valid(response.headers_mut(), name, value);
}

fn insert_valid(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}
