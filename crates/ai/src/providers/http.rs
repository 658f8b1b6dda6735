//! [`HttpProvider`]: a real provider reached over HTTP.
//!
//! Translation is `sy-providers`' job (pure); this file does the I/O: it
//! sends the adapter's request through a pooled [`UpstreamClient`] (one per
//! provider), bounds the wait with the provider's timeout, classifies
//! failures, and decodes streams chunk by chunk as the bytes arrive — a
//! stream is never collected.
//!
//! Timeouts: the whole answer must come within `timeout` (default 600s);
//! a stream must start within it and then never pause longer than it
//! between two pieces of body.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;
use sy_config::{ProviderSpec, UnsupportedParamsSpec};
use sy_http::client::{ClientOptions, UpstreamClient, build_client};
use sy_http::{BoxError, RawHeaders};
use sy_llm::embeddings::{EmbeddingsJson, EmbeddingsRequest};
use sy_llm::openai::RequestError;
use sy_llm::{ChatChunk, ChatRequest};
use sy_providers::{
    AwsCredentials, Credential, ProviderAdapter, ProviderEndpoint, ProviderKind, StreamDecoder,
    TranslateError, UnsupportedParams,
};

use super::{AnswerForm, ChunkStream, EmbeddingsReply, Provider, ProviderReply};
use crate::AiError;

/// Time allowed for an answer (and between stream pieces) by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// Largest whole response body read (a chat answer is far smaller).
const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// Largest error body read; longer ones are cut, not failed.
const MAX_ERROR_BYTES: usize = 64 * 1024;

/// A provider reached over HTTP through its adapter.
pub struct HttpProvider {
    adapter: &'static dyn ProviderAdapter,
    endpoint: ProviderEndpoint,
    client: UpstreamClient,
    timeout: Duration,
}

impl std::fmt::Debug for HttpProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpProvider")
            .field("adapter", &self.adapter.name())
            .field("endpoint", &self.endpoint)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl HttpProvider {
    /// Build from a provider's config. Fails on settings the config
    /// validation cannot judge without the adapter (a missing `base_url`
    /// for kinds without a default, invalid header names or values).
    pub fn new(spec: &ProviderSpec, kind: ProviderKind) -> Result<HttpProvider, String> {
        let adapter = kind.adapter();
        let regional = spec
            .region
            .as_deref()
            .and_then(|r| adapter.regional_base_url(r));
        let base_url = spec
            .base_url
            .as_deref()
            .or(regional.as_deref())
            .or(adapter.default_base_url())
            .ok_or_else(|| match adapter.regional_base_url("") {
                Some(_) => format!("`kind: {}` needs a `region` or `base_url`", adapter.name()),
                None => format!("`kind: {}` needs a `base_url`", adapter.name()),
            })?;
        match base_url.parse::<http::Uri>() {
            Ok(uri) if matches!(uri.scheme_str(), Some("http" | "https")) => {}
            _ => return Err(format!("`base_url` `{base_url}` is not an http(s) URL")),
        }
        let mut endpoint = ProviderEndpoint::new(spec.name.clone(), base_url);
        endpoint.credential = spec.api_key.clone().map(Credential::new);
        endpoint.api_version.clone_from(&spec.api_version);
        endpoint.region.clone_from(&spec.region);
        endpoint.aws = spec.aws.as_ref().map(|aws| AwsCredentials {
            access_key_id: Credential::new(aws.access_key_id.clone()),
            secret_access_key: Credential::new(aws.secret_access_key.clone()),
            session_token: aws.session_token.clone().map(Credential::new),
        });
        for (name, value) in &spec.headers {
            let name = http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("`headers`: `{name}` is not a valid header name"))?;
            let value = http::HeaderValue::from_str(value)
                .map_err(|_| format!("`headers.{name}`: not a valid header value"))?;
            endpoint.headers.push((name, value));
        }
        if let Some(cap) = spec.max_tokens_default {
            endpoint.max_tokens_default = cap;
        }
        endpoint.unsupported_params = match spec.unsupported_params {
            UnsupportedParamsSpec::Drop => UnsupportedParams::Drop,
            UnsupportedParamsSpec::Refuse => UnsupportedParams::Refuse,
        };
        let client = build_client(&ClientOptions::default())
            .map_err(|e| format!("building the HTTP client: {e}"))?;
        Ok(HttpProvider {
            adapter,
            endpoint,
            client,
            timeout: spec.timeout.map_or(DEFAULT_TIMEOUT, |t| t.get()),
        })
    }

    #[expect(
        clippy::manual_async_fn,
        reason = "an async fn keeps each argument twice in its future (rust-lang/rust#62958)"
    )]
    fn call(
        &self,
        req: &ChatRequest,
        source: Option<&[u8]>,
        model: &str,
        form: AnswerForm,
    ) -> impl Future<Output = Result<ProviderReply, AiError>> + Send {
        async move {
            let upstream = match source {
                Some(source) => {
                    self.adapter
                        .chat_request_as_sent(&self.endpoint, req, source, model)
                }
                None => self.adapter.chat_request(&self.endpoint, req, model),
            }
            .map_err(|e| self.translate_error(e))?;
            let (parts, bytes) = upstream.into_parts();
            let request = http::Request::from_parts(parts, sy_http::full(bytes));
            let deadline = tokio::time::Instant::now() + self.timeout;
            // Forwarded, not requested: an answer's head is only read when it
            // is an error, so on HTTP/1.1 its fields stay lines (no header map
            // built) until then.
            let nothing_added = RawHeaders::default();
            let pass_on = sy_http::PassOn {
                client: None,
                added: &nothing_added,
            };
            let sent = self.client.forward(request, pass_on);
            let response = match tokio::time::timeout_at(deadline, sent).await {
                Err(_) => return Err(self.timed_out()),
                Ok(Err(_)) => return Err(self.unreachable()),
                Ok(Ok(response)) => response,
            };
            let (mut head, body) = response.into_parts();
            let body = upstream_body(body);
            if !head.status.is_success() {
                sy_http::materialize(&mut head);
                // A cut or unreadable error body still yields an error naming
                // the status.
                let bytes = tokio::time::timeout_at(deadline, collect(body, MAX_ERROR_BYTES))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or_default();
                let error = self.adapter.error(head.status, &head.headers, &bytes);
                return Err(AiError::from(error));
            }
            if !req.is_stream() {
                let bytes = match tokio::time::timeout_at(
                    deadline,
                    collect(body, MAX_RESPONSE_BYTES),
                )
                .await
                {
                    Err(_) => return Err(self.timed_out()),
                    Ok(Err(_)) => return Err(self.broken()),
                    Ok(Ok(bytes)) => bytes,
                };
                if form == AnswerForm::OpenAiJson
                    && let Some(json) = self.adapter.chat_response_json(bytes.clone())
                {
                    let json = json.map_err(|e| self.translate_error(e))?;
                    return Ok(ProviderReply::Json(Box::new(json)));
                }
                let answer = self
                    .adapter
                    .chat_response(&bytes)
                    .map_err(|e| self.translate_error(e))?;
                return Ok(ProviderReply::Complete(Box::new(answer)));
            }
            let mut stream = Upstream {
                provider: self.endpoint.name.clone(),
                body,
                decoder: self.adapter.stream_decoder(),
                pending: VecDeque::new(),
                idle: self.timeout,
                done: false,
            };
            // Wait for the first chunk so an error before any output is a
            // proper status rather than an event in a 200 stream.
            match stream.next().await {
                Some(Err(error)) => return Err(error),
                Some(Ok(first)) => stream.pending.push_front(first),
                None => {}
            }
            Ok(ProviderReply::Stream(stream.into_chunks()))
        }
    }

    /// One embeddings call: the adapter's request, the whole answer within
    /// the timeout.
    async fn embed(
        &self,
        req: &EmbeddingsRequest,
        source: Option<&[u8]>,
        model: &str,
    ) -> Result<EmbeddingsReply, AiError> {
        if !self.adapter.supports_embeddings() {
            return Err(super::embeddings_unsupported(
                &self.endpoint.name,
                Some(self.adapter.name()),
            ));
        }
        let upstream = self
            .adapter
            .embeddings_request(&self.endpoint, req, source, model)
            .map_err(|e| self.translate_error(e))?;
        let (parts, bytes) = upstream.into_parts();
        let request = http::Request::from_parts(parts, sy_http::full(bytes));
        let deadline = tokio::time::Instant::now() + self.timeout;
        let response = match tokio::time::timeout_at(deadline, self.client.request(request)).await {
            Err(_) => return Err(self.timed_out()),
            Ok(Err(_)) => return Err(self.unreachable()),
            Ok(Ok(response)) => response,
        };
        let (head, body) = response.into_parts();
        let body = upstream_body(body);
        if !head.status.is_success() {
            let bytes = tokio::time::timeout_at(deadline, collect(body, MAX_ERROR_BYTES))
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            let error = self.adapter.error(head.status, &head.headers, &bytes);
            return Err(AiError::from(error));
        }
        let bytes = match tokio::time::timeout_at(deadline, collect(body, MAX_RESPONSE_BYTES)).await
        {
            Err(_) => return Err(self.timed_out()),
            Ok(Err(_)) => return Err(self.broken()),
            Ok(Ok(bytes)) => bytes,
        };
        // Float vectors from an OpenAI-format provider are served as it
        // wrote them; a body the walk refuses goes to the decoder, which
        // names what is wrong (or reads it after all).
        if self.adapter.embeddings_in_openai_format()
            && !req.wants_base64()
            && let Ok(json) = EmbeddingsJson::scan(bytes.clone())
        {
            return Ok(EmbeddingsReply::Json(json));
        }
        self.adapter
            .embeddings_response(&bytes)
            .map(EmbeddingsReply::Decoded)
            .map_err(|e| self.translate_error(e))
    }

    fn translate_error(&self, error: TranslateError) -> AiError {
        translate_error(&self.endpoint.name, error)
    }

    fn timed_out(&self) -> AiError {
        AiError::provider(
            504,
            format!(
                "The provider `{}` did not answer within {}s.",
                self.endpoint.name,
                self.timeout.as_secs()
            ),
        )
    }

    fn unreachable(&self) -> AiError {
        AiError::provider(
            502,
            format!(
                "The provider `{}` could not be reached.",
                self.endpoint.name
            ),
        )
    }

    fn broken(&self) -> AiError {
        broken(&self.endpoint.name)
    }
}

impl Provider for HttpProvider {
    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
        source: Option<&'a [u8]>,
        deployment_model: &'a str,
        form: AnswerForm,
    ) -> BoxFuture<'a, Result<ProviderReply, AiError>> {
        Box::pin(self.call(request, source, deployment_model, form))
    }

    fn embeddings<'a>(
        &'a self,
        request: &'a EmbeddingsRequest,
        source: Option<&'a [u8]>,
        deployment_model: &'a str,
        _provider: &'a str,
    ) -> BoxFuture<'a, Result<EmbeddingsReply, AiError>> {
        Box::pin(self.embed(request, source, deployment_model))
    }
}

/// An adapter's error as the client sees it.
fn translate_error(provider: &str, error: TranslateError) -> AiError {
    match error {
        TranslateError::Unsupported { ref param, .. } => AiError::InvalidRequest(RequestError {
            message: format!("{error}."),
            param: Some(param.clone()),
            code: Some("unsupported_parameter"),
        }),
        TranslateError::Invalid { param, message } => AiError::InvalidRequest(RequestError {
            message: format!("Invalid value for '{param}': {message}."),
            param: Some(param),
            code: Some("invalid_value"),
        }),
        TranslateError::Malformed { .. } => AiError::provider(
            502,
            format!("The provider `{provider}` sent a response the gateway could not read."),
        ),
        TranslateError::Upstream(error) => AiError::from(error),
    }
}

fn broken(provider: &str) -> AiError {
    AiError::provider(
        502,
        format!("The connection to provider `{provider}` broke before the answer was complete."),
    )
}

type UpstreamBody = UnsyncBoxBody<Bytes, BoxError>;

/// The response body with its error type erased (a plain function, so the
/// caller's future stays `Send` for every lifetime).
fn upstream_body<B>(body: B) -> UpstreamBody
where
    B: http_body::Body<Data = Bytes, Error = BoxError> + Send + 'static,
{
    body.boxed_unsync()
}

/// Read a body whole, refusing more than `limit` bytes.
fn collect(mut body: UpstreamBody, limit: usize) -> BoxFuture<'static, Result<Bytes, BoxError>> {
    Box::pin(async move {
        let mut out = bytes::BytesMut::new();
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame?.into_data() {
                if out.len() + data.len() > limit {
                    return Err(BoxError::from(format!("body larger than {limit} bytes")));
                }
                out.extend_from_slice(&data);
            }
        }
        Ok(out.freeze())
    })
}

/// A streamed answer being decoded.
struct Upstream {
    provider: String,
    body: UpstreamBody,
    decoder: Box<dyn StreamDecoder>,
    /// Chunks decoded but not yet handed out.
    pending: VecDeque<ChatChunk>,
    idle: Duration,
    done: bool,
}

impl Upstream {
    /// The chunks as a stream, pulled as the endpoint forwards them.
    fn into_chunks(self) -> ChunkStream {
        futures_util::stream::unfold(
            self,
            |mut s| async move { s.next().await.map(|item| (item, s)) },
        )
        .boxed()
    }

    /// The next chunk: from what is decoded, else from the next piece of
    /// body. After an error, `None`.
    ///
    /// Boxed: an opaque `async fn` future here trips the compiler's
    /// `Send` inference for the caller's future (rust-lang/rust#64552).
    fn next(&mut self) -> BoxFuture<'_, Option<Result<ChatChunk, AiError>>> {
        Box::pin(self.next_inner())
    }

    async fn next_inner(&mut self) -> Option<Result<ChatChunk, AiError>> {
        loop {
            if let Some(chunk) = self.pending.pop_front() {
                return Some(Ok(chunk));
            }
            if self.done {
                return None;
            }
            let decoded = match tokio::time::timeout(self.idle, self.body.frame()).await {
                Err(_) => {
                    self.done = true;
                    return Some(Err(AiError::provider(
                        504,
                        format!(
                            "The provider `{}` stopped sending for {}s mid-answer.",
                            self.provider,
                            self.idle.as_secs()
                        ),
                    )));
                }
                Ok(Some(Err(_))) => {
                    self.done = true;
                    return Some(Err(broken(&self.provider)));
                }
                Ok(None) => {
                    self.done = true;
                    self.decoder.finish()
                }
                Ok(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => self.decoder.push(&data),
                    Err(_) => continue, // trailers carry nothing for us
                },
            };
            match decoded {
                Ok(chunks) => self.pending.extend(chunks),
                Err(error) => {
                    self.done = true;
                    return Some(Err(translate_error(&self.provider, error)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_parameters_are_400_naming_them() {
        let error = translate_error(
            "claude",
            TranslateError::Unsupported {
                param: "logprobs".into(),
                provider: "anthropic",
            },
        );
        assert_eq!(error.status(), http::StatusCode::BAD_REQUEST);
        let body = error.to_body();
        assert_eq!(
            body.error.message,
            "parameter `logprobs` is not supported by provider anthropic."
        );
        assert_eq!(body.error.param.as_deref(), Some("logprobs"));
        assert_eq!(body.error.code.as_deref(), Some("unsupported_parameter"));
    }

    #[test]
    fn malformed_answers_are_502() {
        let error = translate_error(
            "p",
            TranslateError::Malformed {
                provider: "openai",
                detail: "x".into(),
            },
        );
        assert_eq!(error.status(), http::StatusCode::BAD_GATEWAY);
    }
}
