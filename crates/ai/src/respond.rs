//! Building responses: JSON bodies and SSE streams.

use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderName, Response, StatusCode, header};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use serde::Serialize;
use sy_http::{Body, BoxError, RawHeaders, SetField};
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
    pub(crate) const ACCEL_BUFFERING: HeaderName = HeaderName::from_static("x-accel-buffering");
}

/// Room for the lines of an answer's fields (content type, routing, tokens,
/// cost, rate limits, then the proxy's request id), so that they are
/// allocated once instead of growing.
const ANSWER_FIELD_BYTES: usize = 512;

/// A JSON response. Serializing our own types cannot fail in practice; if
/// it does, the client gets a 500 in OpenAI shape rather than a panic.
pub(crate) fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(bytes) => json_bytes(status, bytes),
        Err(e) => AiError::Internal(format!("serializing a response: {e}")).into_response(),
    }
}

/// An answer whose fields are kept as lines ([`RawHeaders`]): the
/// gateway's own fields are written once, as the bytes the HTTP/1.1 server
/// sends, instead of each being a header-map entry (a hash, a value
/// allocation) that the server only walks to write out again. Set them
/// with [`SetField`]; whoever reads them merges first
/// ([`sy_http::materialize`]).
fn answer(status: StatusCode, body: Body, fields: &[(&HeaderName, &[u8])]) -> Response<Body> {
    let mut lines = RawHeaders::with_capacity(ANSWER_FIELD_BYTES);
    for (name, value) in fields {
        lines.push(name, &[value]);
    }
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.extensions_mut().insert(lines);
    response
}

/// A response whose body is JSON already encoded.
pub(crate) fn json_bytes(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    answer(
        status,
        sy_http::full(body),
        &[(&header::CONTENT_TYPE, b"application/json")],
    )
}

/// An SSE response whose body yields each frame as `frames` produces it.
pub(crate) fn sse<S>(frames: S) -> Response<Body>
where
    S: futures_util::Stream<Item = Bytes> + Send + 'static,
{
    let body =
        StreamBody::new(frames.map(|bytes| Ok::<_, BoxError>(Frame::data(bytes)))).boxed_unsync();
    answer(
        StatusCode::OK,
        body,
        &[
            (&header::CONTENT_TYPE, b"text/event-stream"),
            (&header::CACHE_CONTROL, b"no-cache"),
            // Tells nginx-style buffering proxies in front of us to pass
            // chunks on.
            (&names::ACCEL_BUFFERING, b"no"),
        ],
    )
}

/// The SSE event that reports an error after the stream has started
/// (OpenAI SDKs raise on a `data:` object with an `error` key).
pub(crate) fn sse_error(error: &AiError) -> Bytes {
    sse::encode_data(&error.to_body().to_json())
}

/// The routing headers, on answers and on errors of routed calls alike:
/// the deployment whose answer (or error) this is, when one was tried; the
/// provider calls made; the fallback model, when not the one asked for. A
/// name that cannot be a header value (a control character) is left out
/// rather than failing the response.
pub(crate) fn set_routing_headers<F: SetField + ?Sized>(
    headers: &mut F,
    deployment: Option<&str>,
    attempts: u32,
    fallback: Option<&str>,
) {
    if let Some(deployment) = deployment {
        headers.set_field(&names::DEPLOYMENT, &[deployment.as_bytes()]);
    }
    headers.set_number(&names::ATTEMPTS, u64::from(attempts));
    if let Some(fallback) = fallback {
        headers.set_field(&names::FALLBACK, &[fallback.as_bytes()]);
    }
}
