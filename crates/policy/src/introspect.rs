//! OAuth2 token introspection (RFC 7662): ask the identity provider whether
//! a bearer token is active, then make the request as the consumer the
//! answer's `consumer_claim` names.
//!
//! The token is POSTed as a form (`token`, `token_type_hint=access_token`)
//! with the gateway's client credentials in HTTP Basic. Answers, active or
//! not, are cached for `cache_ttl` (never past the token's `exp`) under the
//! token's SHA-256, never the token; the cache is bounded. Concurrent
//! requests with the same uncached token share one call. A provider that
//! fails, times out or answers anything but 200 gives a 503: the token was
//! not judged, so it is not a 401. The token never goes upstream.

mod cache;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use sy_config::IntrospectionSpec;
use sy_http::client::UpstreamClient;

pub(crate) use cache::{Answer, AnswerCache};

use crate::consumer::ConsumerDirectory;
use crate::context::RequestContext;
use crate::credentials::{TokenSources, require};
use crate::error::PolicyError;
use crate::jwt::{MISSING_TOKEN, TokenCaches, admit_consumer, claim_at, exchange, idp_client};
use crate::policy::{Flow, Order, Policy, Step};

/// The most answers kept per endpoint (about 150 bytes each).
const MAX_CACHED: usize = 100_000;

/// One introspection endpoint with its credentials and answer cache,
/// shared by every route (and reload) configured the same way.
pub(crate) struct Endpoint {
    url: http::Uri,
    /// `Basic base64(client_id:client_secret)`, marked sensitive.
    authorization: HeaderValue,
    timeout: Duration,
    ttl: Duration,
    /// The answer field naming the consumer, split on dots.
    claim_path: Vec<Box<str>>,
    client: UpstreamClient,
    cache: AnswerCache,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &self.url)
            .field("timeout", &self.timeout)
            .field("ttl", &self.ttl)
            .field("cached", &self.cache.len())
            .finish_non_exhaustive()
    }
}

/// Why an introspection call gave no answer (for the 503 message).
#[derive(Debug, Clone)]
pub(crate) struct Failed(String);

impl Endpoint {
    /// An endpoint as `spec` configures it, caching at most `max_cached` answers.
    pub(crate) fn new(spec: &IntrospectionSpec, max_cached: usize) -> Result<Self, String> {
        let url: http::Uri = spec
            .url
            .parse()
            .map_err(|_| format!("`{}` is not a URL", spec.url))?;
        if !matches!(url.scheme_str(), Some("http" | "https")) || url.host().is_none() {
            return Err(format!(
                "`{}` must be an absolute http:// or https:// URL",
                spec.url
            ));
        }
        // RFC 6749 §2.3.1: both parts are form-encoded before Basic encoding.
        let pair = format!(
            "{}:{}",
            form_encode(&spec.client_id),
            form_encode(&spec.client_secret)
        );
        let mut authorization =
            HeaderValue::try_from(format!("Basic {}", STANDARD.encode(pair)))
                .map_err(|_| "client credentials cannot be sent in a header".to_owned())?;
        authorization.set_sensitive(true);
        Ok(Endpoint {
            url,
            authorization,
            timeout: spec.timeout.get(),
            ttl: spec.cache_ttl.get(),
            claim_path: spec.consumer_claim.split('.').map(Box::from).collect(),
            client: idp_client()?,
            cache: AnswerCache::new(max_cached),
        })
    }

    /// What identifies an endpoint for sharing: everything that changes
    /// how answers are fetched or read (the secret only as a hash).
    pub(crate) fn identity(spec: &IntrospectionSpec) -> String {
        let secret: [u8; 32] = Sha256::digest(spec.client_secret.as_bytes()).into();
        let secret: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "{} {} {} {} {} {}",
            spec.url,
            spec.client_id,
            secret,
            spec.consumer_claim,
            spec.cache_ttl.get().as_millis(),
            spec.timeout.get().as_millis()
        )
    }

    /// The answer for `token` (with SHA-256 `hash`): from the cache, from a
    /// call already running for the same token, or from a new call.
    async fn answer(&self, hash: [u8; 32], token: &str) -> Result<Arc<Answer>, Failed> {
        let slot = Slot {
            cache: &self.cache,
            hash,
            cell: self.cache.in_flight(hash),
        };
        slot.cell
            .get_or_init(|| async {
                let r = self.call(token).await;
                if let Ok(answer) = &r {
                    self.cache.insert(hash, Arc::clone(answer), self.ttl);
                }
                r
            })
            .await
            .clone()
    }

    /// One POST to the endpoint.
    async fn call(&self, token: &str) -> Result<Arc<Answer>, Failed> {
        let failed = |why: String| Failed(format!("the token introspection endpoint {why}"));
        let body = format!("token={}&token_type_hint=access_token", form_encode(token));
        let req = http::Request::post(self.url.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .header(AUTHORIZATION, self.authorization.clone())
            .body(sy_http::full(body))
            .map_err(|_| failed("URL cannot be requested".into()))?;
        let bytes = exchange(&self.client, req, self.timeout)
            .await
            .map_err(failed)?;
        let Ok(Value::Object(doc)) = serde_json::from_slice::<Value>(&bytes) else {
            return Err(failed(
                "answered with something other than a JSON object".into(),
            ));
        };
        Answer::from_json(&doc, &self.claim_path)
            .map(Arc::new)
            .ok_or_else(|| failed("answered without a boolean `active`".into()))
    }
}

/// A request's share of a call in flight. Dropping it, when the call ends
/// or the client goes away mid-call, forgets the slot, so abandoned calls
/// cannot pile up; a waiter still holding the cell keeps it alive.
struct Slot<'a> {
    cache: &'a AnswerCache,
    hash: [u8; 32],
    cell: cache::InFlight,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.cache.done(self.hash, &self.cell);
    }
}

/// Requires an active OAuth2 access token naming a known consumer.
#[derive(Debug)]
pub struct Introspection {
    directory: Arc<dyn ConsumerDirectory>,
    endpoint: Arc<Endpoint>,
    sources: TokenSources,
    /// `consumer_claim` as written, for messages.
    claim: Box<str>,
    required_scopes: Vec<Box<str>>,
}

impl Introspection {
    /// Introspection against `spec.url`; the endpoint and its cache come
    /// from `caches`.
    pub fn new(
        spec: &IntrospectionSpec,
        directory: Arc<dyn ConsumerDirectory>,
        caches: &TokenCaches,
    ) -> Result<Self, Vec<String>> {
        Self::with_capacity(spec, directory, caches, MAX_CACHED)
    }

    /// [`Introspection::new`] with another cache bound.
    pub(crate) fn with_capacity(
        spec: &IntrospectionSpec,
        directory: Arc<dyn ConsumerDirectory>,
        caches: &TokenCaches,
        max_cached: usize,
    ) -> Result<Self, Vec<String>> {
        let endpoint = caches
            .introspection(Endpoint::identity(spec), || Endpoint::new(spec, max_cached))
            .map_err(|e| vec![format!("oauth2_introspection: {e}")])?;
        Ok(Introspection {
            directory,
            endpoint,
            sources: TokenSources::default(),
            claim: spec.consumer_claim.as_str().into(),
            required_scopes: spec
                .required_scopes
                .iter()
                .map(|s| s.as_str().into())
                .collect(),
        })
    }

    /// Judge an answer: active, not expired, the scopes, then the consumer.
    fn admit(&self, answer: &Answer, ctx: &mut RequestContext) -> Result<Flow, PolicyError> {
        let Answer::Active {
            consumer,
            scope,
            exp,
        } = answer
        else {
            return Err(PolicyError::Unauthorized(
                "invalid token: not active (expired, revoked or unknown to the identity provider)"
                    .into(),
            ));
        };
        if exp.is_some_and(|exp| exp <= unix_now()) {
            return Err(PolicyError::Unauthorized("invalid token: expired".into()));
        }
        let granted: Vec<&str> = scope.split_ascii_whitespace().collect();
        if let Some(missing) = self
            .required_scopes
            .iter()
            .find(|s| !granted.contains(&&***s))
        {
            // RFC 6750 §3.1: insufficient_scope is a 403.
            return Err(PolicyError::Forbidden(format!(
                "the token lacks the required scope `{missing}`"
            )));
        }
        admit_consumer(
            &*self.directory,
            consumer.as_deref().map(str::to_owned),
            &self.claim,
            ctx,
        )?;
        Ok(Flow::Continue)
    }
}

impl Policy for Introspection {
    fn name(&self) -> &'static str {
        "oauth2_introspection"
    }

    fn order(&self) -> Order {
        Order::Auth
    }

    /// No response phase.
    fn reads_response(&self) -> bool {
        false
    }

    fn on_request<'a>(
        &'a self,
        req: &'a mut http::request::Parts,
        ctx: &'a mut RequestContext,
    ) -> Step<'a> {
        let token = match require(self.sources.take(req), MISSING_TOKEN) {
            Ok(t) => t,
            Err(e) => return Step::Ready(Err(e)),
        };
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(answer) = self.endpoint.cache.get(&hash) {
            return Step::Ready(self.admit(&answer, ctx));
        }
        Step::Pending(Box::pin(async move {
            match self.endpoint.answer(hash, &token).await {
                Ok(answer) => self.admit(&answer, ctx),
                Err(Failed(why)) => Err(PolicyError::IdentityProviderUnavailable(why)),
            }
        }))
    }
}

/// Seconds since the Unix epoch (token `exp` values are wall-clock).
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `application/x-www-form-urlencoded` encoding of one value: unreserved
/// characters as they are, space as `+`, everything else `%XX`.
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Parse helper shared with the cache: the answer fields we act on.
impl Answer {
    /// `None` when `active` is missing or not a boolean (not an RFC 7662 answer).
    fn from_json(doc: &Map<String, Value>, claim_path: &[Box<str>]) -> Option<Answer> {
        match doc.get("active")? {
            Value::Bool(false) => Some(Answer::Inactive),
            Value::Bool(true) => Some(Answer::Active {
                consumer: claim_at(doc, claim_path).map(Box::from),
                scope: doc
                    .get("scope")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .into(),
                exp: doc.get("exp").and_then(|e| {
                    e.as_u64()
                        .or_else(|| e.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
                }),
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
