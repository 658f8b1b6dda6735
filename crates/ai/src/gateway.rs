//! [`AiGateway`]: the compiled AI endpoint and its request dispatch.

use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};
use sy_core::FastMap;

use bytes::Bytes;
use http::{Method, Response};
use sy_core::{Money, TokenUsage};
use sy_http::Body;
use sy_state::QuotaLedger;

use crate::endpoints;
use crate::registry::Registry;
use crate::{AiError, CallQuota, Caller};

/// The AI endpoint compiled from one config. Immutable; shared by every
/// route with an `ai` target in the same snapshot.
#[derive(Debug)]
pub struct AiGateway {
    pub(crate) registry: Registry,
    /// Unix seconds of compilation: the `created` of model objects.
    pub(crate) created: u64,
    /// Where token, spend and model limits are counted; `None`: no limits
    /// are enforced ([`with_ledger`](Self::with_ledger) sets it).
    pub(crate) ledger: Option<Arc<dyn QuotaLedger>>,
    /// Routes with `limits`, by name (their tokens and spend are counted
    /// here; their requests and concurrency by the quota policy).
    pub(crate) route_limits: FastMap<Arc<str>, sy_config::LimitsSpec>,
}

/// What the endpoint did, left in the response extensions for the access
/// log and call records.
#[derive(Debug, Clone)]
pub struct AiCallInfo {
    /// The model name the client asked for.
    pub model: String,
    /// `<provider>/<model>` that answered.
    pub deployment: String,
    /// Token counts; set when the response is built (whole answers) or when
    /// the stream's usage chunk passes (streams; stays empty if the stream
    /// is cut before it: then a local estimate, flagged `estimated`, is set
    /// when the stream ends or is dropped).
    pub usage: Arc<OnceLock<TokenUsage>>,
    /// The call's cost, set with `usage` when the deployment has a price
    /// (stays empty for unpriced deployments).
    pub cost: Arc<OnceLock<Money>>,
    /// Provider calls made, the answering one included.
    pub attempts: u32,
    /// The call's quota reservation and `x-ratelimit-*` values. Its
    /// concurrency slots are held while any clone of this info lives: the
    /// proxy keeps one until the response body ends.
    pub quota: CallQuota,
    /// The fallback model that answered, when it was not `model`.
    pub fallback: Option<String>,
    /// Deployments that failed or were skipped before the answer, each as
    /// `<provider>/<model>: <why>`.
    pub failovers: Vec<String>,
}

impl AiCallInfo {
    /// Info for a call of public `model` answered by `deployment`, usage
    /// and cost not yet known.
    pub fn new(model: impl Into<String>, deployment: impl Into<String>) -> AiCallInfo {
        AiCallInfo {
            model: model.into(),
            deployment: deployment.into(),
            usage: Arc::new(OnceLock::new()),
            cost: Arc::new(OnceLock::new()),
            attempts: 1,
            quota: CallQuota::default(),
            fallback: None,
            failovers: Vec::new(),
        }
    }
}

/// The endpoints this slice serves, after the API base is stripped.
enum Endpoint<'a> {
    ChatCompletions,
    /// Legacy text completions, emulated over chat.
    Completions,
    Embeddings,
    /// The Responses API, emulated over chat.
    Responses,
    /// Anthropic's `messages`.
    Messages,
    /// Anthropic's `messages/count_tokens`.
    CountTokens,
    Models,
    Model(&'a str),
}

impl AiGateway {
    /// Build from the providers and models of a validated config.
    pub fn compile(spec: &sy_config::ConfigSpec) -> Result<AiGateway, Vec<String>> {
        AiGateway::compile_next(spec, None)
    }

    /// Build from a validated config, keeping the routing state (cool-downs,
    /// limit windows, latencies) of `previous`'s unchanged deployments.
    pub fn compile_next(
        spec: &sy_config::ConfigSpec,
        previous: Option<&AiGateway>,
    ) -> Result<AiGateway, Vec<String>> {
        let registry =
            Registry::compile_next(&spec.providers, &spec.models, previous.map(|p| &p.registry))?;
        let route_limits = spec
            .routes
            .iter()
            .filter(|r| !r.limits.is_empty())
            .map(|r| (Arc::from(r.name.as_str()), r.limits.clone()))
            .collect();
        Ok(AiGateway {
            registry,
            created: unix_now(),
            ledger: None,
            route_limits,
        })
    }

    /// Count token, spend and model limits in `ledger` (one per process,
    /// shared across reloads so usage survives them).
    pub fn with_ledger(mut self, ledger: Arc<dyn QuotaLedger>) -> AiGateway {
        self.ledger = Some(ledger);
        self
    }

    /// A policy's refusal (a quota of the route or caller) as this
    /// endpoint's dialect answers it, for a request to `path`: OpenAI's
    /// body, or Anthropic's on `/v1/messages*`. `None` for refusals the
    /// edge answers itself.
    pub fn policy_error_response(
        &self,
        error: &sy_policy::PolicyError,
        path: &str,
        request_id: &str,
    ) -> Option<Response<Body>> {
        let error = AiError::from_policy(error)?;
        Some(self.error_response(error, path, request_id))
    }

    fn error_response(&self, error: AiError, path: &str, request_id: &str) -> Response<Body> {
        let anthropic = matches!(
            endpoint_of(path),
            Some(Endpoint::Messages | Endpoint::CountTokens)
        );
        if anthropic {
            let mut headers = http::HeaderMap::new();
            error.set_headers(&mut headers);
            let mut response = endpoints::messages::error_response(error, request_id);
            response.headers_mut().extend(headers);
            response
        } else {
            error.into_response()
        }
    }

    /// The compiled models.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Serve one AI API request for `caller` (the route's model allow-list,
    /// the consumer's scopes and subscriptions). The
    /// proxy already collected `body` (under the route's body limit). Never
    /// panics; every failure is a JSON error with the right status, shaped
    /// for the endpoint's dialect: OpenAI's
    /// `{"error":{"message","type","param","code"}}`, or Anthropic's
    /// `{"type":"error","error":{"type","message"}}` on `/v1/messages*`.
    ///
    /// The path is the client's full path. Everything up to and including a
    /// `/v1` segment is the API base and ignored, so `/v1/models` and
    /// `/openai/v1/models` are the same endpoint; a path without `/v1` is
    /// taken whole (`/chat/completions`).
    #[expect(
        clippy::manual_async_fn,
        reason = "an async fn keeps each argument twice in its future (rust-lang/rust#62958)"
    )]
    pub fn handle(
        &self,
        caller: Caller<'_>,
        // Borrowed: only read, and the caller's future holds it already;
        // this one is copied whole when the caller boxes it.
        parts: &http::request::Parts,
        body: Bytes,
        request_id: &str,
    ) -> impl Future<Output = Response<Body>> + Send {
        async move {
            // Errors answer in the dialect of the endpoint asked for.
            match self.dispatch(&caller, parts, body, request_id).await {
                Ok(response) => response,
                Err(error) => self.error_response(error, parts.uri.path(), request_id),
            }
        }
    }

    #[expect(
        clippy::manual_async_fn,
        reason = "an async fn keeps each argument twice in its future (rust-lang/rust#62958)"
    )]
    fn dispatch(
        &self,
        allowed: &Caller<'_>,
        parts: &http::request::Parts,
        body: Bytes,
        request_id: &str,
    ) -> impl Future<Output = Result<Response<Body>, AiError>> + Send {
        async move {
            let path = parts.uri.path();
            let endpoint = endpoint_of(path).ok_or_else(|| AiError::UnknownEndpoint {
                method: parts.method.to_string(),
                path: path.to_owned(),
            })?;
            let (allow, ok) = match endpoint {
                Endpoint::ChatCompletions
                | Endpoint::Completions
                | Endpoint::Embeddings
                | Endpoint::Responses
                | Endpoint::Messages
                | Endpoint::CountTokens => ("POST", parts.method == Method::POST),
                Endpoint::Models | Endpoint::Model(_) => ("GET", parts.method == Method::GET),
            };
            if !ok {
                return Err(AiError::MethodNotAllowed {
                    method: parts.method.to_string(),
                    path: path.to_owned(),
                    allow,
                });
            }
            match endpoint {
                Endpoint::ChatCompletions => {
                    endpoints::chat::handle(self, allowed, &body, request_id).await
                }
                // Boxed, as `/v1/responses`: the larger endpoint futures,
                // inline, would size this one, which every chat call's
                // future holds and copies.
                Endpoint::Completions => {
                    Box::pin(endpoints::completions::handle(
                        self, allowed, &body, request_id,
                    ))
                    .await
                }
                Endpoint::Embeddings => endpoints::embeddings::handle(self, allowed, &body).await,
                Endpoint::Responses => {
                    Box::pin(endpoints::responses::handle(
                        self, allowed, &body, request_id,
                    ))
                    .await
                }
                Endpoint::Messages => {
                    endpoints::messages::handle(self, allowed, &body, request_id).await
                }
                Endpoint::CountTokens => endpoints::messages::count_tokens(self, allowed, &body),
                Endpoint::Models => Ok(endpoints::models::list(self, allowed)),
                Endpoint::Model(id) => endpoints::models::get(self, allowed, &percent_decode(id)),
            }
        }
    }
}

fn endpoint_of(path: &str) -> Option<Endpoint<'_>> {
    // The usual path starts with the prefix: checked before a substring
    // search, whose searcher costs more to set up than the whole match.
    let rest = if path.starts_with("/v1/") {
        &path[3..]
    } else {
        match path.find("/v1/") {
            Some(i) => &path[i + 3..],
            None => path,
        }
    };
    let rest = rest.trim_end_matches('/');
    match rest {
        "/chat/completions" => Some(Endpoint::ChatCompletions),
        "/completions" => Some(Endpoint::Completions),
        "/embeddings" => Some(Endpoint::Embeddings),
        "/responses" => Some(Endpoint::Responses),
        "/messages" => Some(Endpoint::Messages),
        "/messages/count_tokens" => Some(Endpoint::CountTokens),
        "/models" => Some(Endpoint::Models),
        _ => rest
            .strip_prefix("/models/")
            .filter(|id| !id.is_empty())
            .map(Endpoint::Model),
    }
}

/// Decode `%XX` escapes (model ids may contain `/`, sent as `%2F`). Invalid
/// escapes are kept as written.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_ignore_the_base() {
        assert!(matches!(
            endpoint_of("/v1/chat/completions"),
            Some(Endpoint::ChatCompletions)
        ));
        assert!(matches!(
            endpoint_of("/openai/v1/chat/completions/"),
            Some(Endpoint::ChatCompletions)
        ));
        assert!(matches!(
            endpoint_of("/chat/completions"),
            Some(Endpoint::ChatCompletions)
        ));
        assert!(matches!(endpoint_of("/v1/models"), Some(Endpoint::Models)));
        assert!(matches!(
            endpoint_of("/v1/models/a/b"),
            Some(Endpoint::Model("a/b"))
        ));
        assert!(endpoint_of("/v1/models/").is_some_and(|e| matches!(e, Endpoint::Models)));
        assert!(matches!(
            endpoint_of("/v1/completions"),
            Some(Endpoint::Completions)
        ));
        assert!(matches!(
            endpoint_of("/v1/embeddings"),
            Some(Endpoint::Embeddings)
        ));
        assert!(matches!(
            endpoint_of("/v1/responses"),
            Some(Endpoint::Responses)
        ));
        assert!(matches!(
            endpoint_of("/v1/messages"),
            Some(Endpoint::Messages)
        ));
        assert!(matches!(
            endpoint_of("/anthropic/v1/messages/count_tokens"),
            Some(Endpoint::CountTokens)
        ));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("openai%2Fgpt-4o"), "openai/gpt-4o");
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
    }
}
