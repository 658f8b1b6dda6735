//! Building the upstream request: the canonical body with the real model id,
//! and the HTTP envelope shared by every adapter.

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, header};
use serde::Serialize;
use sy_llm::ChatRequest;
use sy_llm::chat::{CACHE_CONTROL, Extra, MessageContent, Role, StreamOptions};

use crate::{ProviderEndpoint, TranslateError};

/// The canonical request as OpenAI takes it: `model` replaced; when
/// streaming and `usage_option` is set, `stream_options.include_usage`
/// forced on (other stream options kept).
pub(crate) fn body(req: &ChatRequest, model: &str, usage_option: bool) -> ChatRequest {
    let mut body = req.clone();
    model.clone_into(&mut body.model);
    if body.is_stream() && usage_option {
        let mut options = body.stream_options.take().unwrap_or(StreamOptions {
            include_usage: None,
            extra: Extra::new(),
        });
        options.include_usage = Some(true);
        body.stream_options = Some(options);
    }
    body
}

/// [`body`] as JSON, without copying the request when only `model`
/// changes: the request is encoded as it is and its `model` swapped in the
/// bytes ([`sy_llm::openai::with_model`], as for a client's own body). A
/// clone of every message was a cost of every call.
pub(crate) fn body_json(
    req: &ChatRequest,
    model: &str,
    usage_option: bool,
) -> Result<Vec<u8>, serde_json::Error> {
    /// Room for most chat requests at once (the buffer grows past it).
    const FIRST_CAPACITY: usize = 1024;
    if !usage_forced(req, usage_option) {
        let mut whole = Vec::with_capacity(FIRST_CAPACITY);
        serde_json::to_writer(&mut whole, req)?;
        if let Some(swapped) = sy_llm::openai::with_model(&whole, model) {
            return Ok(swapped);
        }
    }
    let mut whole = Vec::with_capacity(FIRST_CAPACITY);
    serde_json::to_writer(&mut whole, &body(req, model, usage_option))?;
    Ok(whole)
}

/// Whether [`body`] turns `stream_options.include_usage` on: the body then
/// differs from the client's in more than its model.
pub(crate) fn usage_forced(req: &ChatRequest, usage_option: bool) -> bool {
    req.is_stream()
        && usage_option
        && req.stream_options.as_ref().and_then(|o| o.include_usage) != Some(true)
}

/// A JSON `POST` to `url` with the auth header, the configured extra
/// headers (which may not override the auth header) and `body`.
pub(crate) fn post<T: Serialize>(
    url: &str,
    auth: Option<(HeaderName, HeaderValue)>,
    endpoint: &ProviderEndpoint,
    body: &T,
    stream: bool,
) -> Result<http::Request<Bytes>, TranslateError> {
    post_with(url, auth.into_iter().collect(), endpoint, body, stream)
}

/// Like [`post`] with several fixed headers (Anthropic's key and version).
pub(crate) fn post_with<T: Serialize>(
    url: &str,
    fixed: Vec<(HeaderName, HeaderValue)>,
    endpoint: &ProviderEndpoint,
    body: &T,
    stream: bool,
) -> Result<http::Request<Bytes>, TranslateError> {
    let json = serde_json::to_vec(body).map_err(unencodable)?;
    post_json(url, fixed, endpoint, json, stream)
}

/// The body could not be encoded as JSON (a map with non-string keys in
/// an extension field, say): the client's request cannot be sent.
pub(crate) fn unencodable(e: serde_json::Error) -> TranslateError {
    TranslateError::Invalid {
        param: "body".to_owned(),
        message: format!("could not be encoded: {e}"),
    }
}

/// Like [`post_with`] with the body already encoded.
pub(crate) fn post_json(
    url: &str,
    fixed: Vec<(HeaderName, HeaderValue)>,
    endpoint: &ProviderEndpoint,
    json: Vec<u8>,
    stream: bool,
) -> Result<http::Request<Bytes>, TranslateError> {
    let uri = endpoint
        .parsed_uri(url)
        .map_err(|e| TranslateError::Invalid {
            param: "model".to_owned(),
            message: format!("does not make a valid upstream URL ({e})"),
        })?;
    // Built in place rather than through `Request::builder()`, which moves
    // the request's parts along at every call and can fail on nothing
    // here: the URI is parsed and the fields are typed already.
    let mut request = http::Request::new(Bytes::from(json));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = uri;
    let headers = request.headers_mut();
    headers.reserve(2 + endpoint.headers.len() + fixed.len());
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::ACCEPT, accept(stream));
    for (name, value) in &endpoint.headers {
        headers.insert(name.clone(), value.clone());
    }
    for (name, value) in fixed {
        headers.insert(name, value);
    }
    Ok(request)
}

fn accept(stream: bool) -> HeaderValue {
    if stream {
        HeaderValue::from_static("text/event-stream")
    } else {
        HeaderValue::from_static("application/json")
    }
}

/// Remove [`CACHE_CONTROL`] from the request, every tool and every part,
/// for servers that refuse it (OpenAI: "Unknown parameter") or have no use
/// for it. Nothing is lost: OpenAI caches long
/// prompt prefixes by itself.
pub(crate) fn drop_cache_control(body: &mut ChatRequest) {
    body.extra.remove(CACHE_CONTROL);
    for tool in body.tools.iter_mut().flatten() {
        tool.extra.remove(CACHE_CONTROL);
    }
    for message in &mut body.messages {
        if let Some(MessageContent::Parts(parts)) = &mut message.content {
            for part in parts {
                part.take_cache_control();
            }
        }
    }
}

/// For servers that predate `developer` messages and
/// `max_completion_tokens` (Mistral, Ollama): `developer` becomes `system`
/// and the cap moves to `max_tokens`.
pub(crate) fn legacy_names(body: &mut ChatRequest) {
    for message in &mut body.messages {
        if message.role == Role::Developer {
            message.role = Role::System;
        }
    }
    if let Some(cap) = body.max_completion_tokens.take() {
        body.max_tokens = Some(cap);
    }
}
