//! API-key authentication: find the caller's key, hash it, look the hash up
//! in the [`ConsumerDirectory`], and set `ctx.consumer`.
//!
//! The key is accepted, in this order, from `Authorization: Bearer <key>`,
//! `x-api-key: <key>`, or a configured query parameter. Every place a key
//! can travel is scrubbed from the request before it goes upstream, whether
//! or not it was the one used: the client's key is the gateway's secret, not
//! the upstream's.
//!
//! Lookups are by SHA-256, so comparing hashes in a hash map leaks nothing
//! useful about the key through timing.

use std::collections::HashSet;
use std::sync::Arc;

use http::header::{AUTHORIZATION, HeaderName};
use http::uri::PathAndQuery;
use sha2::{Digest, Sha256};
use sy_config::KeyAuthSpec;

use crate::consumer::ConsumerDirectory;
use crate::context::RequestContext;
use crate::error::PolicyError;
use crate::policy::{Order, Policy, Step};

/// `x-api-key`, the header OpenAI- and Anthropic-style clients send.
const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

/// The message for a request with no key, naming how to send one.
pub const MISSING_KEY: &str = "missing API key: send `Authorization: Bearer <key>` or `x-api-key`";
/// The message for a key that matches no consumer.
pub const INVALID_KEY: &str = "invalid API key";

/// Requires a known API key; optionally only from some consumers.
#[derive(Debug, Clone)]
pub struct KeyAuth {
    directory: Arc<dyn ConsumerDirectory>,
    query_param: Option<Box<str>>,
    /// Consumer ids allowed on the route; empty means any consumer. For
    /// consumers from the config file the id is the consumer's name.
    consumers: HashSet<Arc<str>>,
}

impl KeyAuth {
    /// Authentication against `directory` as `spec` configures it.
    pub fn new(spec: &KeyAuthSpec, directory: Arc<dyn ConsumerDirectory>) -> Self {
        KeyAuth {
            directory,
            query_param: spec
                .query_param
                .as_deref()
                .filter(|p| !p.is_empty())
                .map(Box::from),
            consumers: spec
                .consumers
                .iter()
                .map(|c| Arc::from(c.as_str()))
                .collect(),
        }
    }

    /// Take the key out of the request: returns the first key found and
    /// removes every key-carrying header and query parameter.
    fn take_key(&self, req: &mut http::request::Parts) -> Result<Option<String>, PolicyError> {
        let mut key = None;
        let bearer = req
            .headers
            .get_all(AUTHORIZATION)
            .iter()
            .find_map(|v| bearer_token(v.as_bytes()));
        if let Some(k) = bearer {
            key = Some(k.to_owned());
            // Other schemes (Basic for the upstream) are left alone.
            req.headers.remove(AUTHORIZATION);
        }
        let header_key = req
            .headers
            .get(&X_API_KEY)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_owned);
        key = key.or(header_key);
        req.headers.remove(&X_API_KEY);
        if let Some(param) = &self.query_param {
            let query_key = strip_query_param(req, param)?;
            key = key.or(query_key);
        }
        Ok(key)
    }
}

impl Policy for KeyAuth {
    fn name(&self) -> &'static str {
        "key_auth"
    }

    fn order(&self) -> Order {
        Order::Auth
    }

    fn on_request<'a>(
        &'a self,
        req: &'a mut http::request::Parts,
        ctx: &'a mut RequestContext,
    ) -> Step<'a> {
        let key = match self.take_key(req) {
            Ok(Some(k)) => k,
            Ok(None) => return Step::Ready(Err(PolicyError::Unauthorized(MISSING_KEY.into()))),
            Err(e) => return Step::Ready(Err(e)),
        };
        let hash: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        let Some(consumer) = self.directory.lookup_key(&hash) else {
            return Step::Ready(Err(PolicyError::Unauthorized(INVALID_KEY.into())));
        };
        // Listed by name (config files) or by id (the store's).
        if !self.consumers.is_empty()
            && !self.consumers.contains(&consumer.id)
            && !self.consumers.contains(&consumer.name)
        {
            let msg = format!(
                "consumer `{}` may not call route `{}`",
                consumer.name, ctx.route
            );
            return Step::Ready(Err(PolicyError::Forbidden(msg)));
        }
        if let Err(denied) = consumer.grants.check_route(&consumer.name, &ctx.route) {
            return Step::Ready(Err(PolicyError::Forbidden(denied.0)));
        }
        ctx.consumer = Some(consumer);
        Step::next()
    }
}

/// The token of an `Authorization: Bearer <token>` value (scheme matched
/// case-insensitively), or `None` for other schemes and empty tokens.
fn bearer_token(value: &[u8]) -> Option<&str> {
    let v = std::str::from_utf8(value).ok()?.trim();
    let (scheme, token) = v.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Remove every `param=…` pair from the query, keeping the others byte for
/// byte and in order; returns the first non-empty value, percent-decoded.
/// `+` is kept literally: keys are URL-safe, and form decoding would turn a
/// literal `+` into a space.
fn strip_query_param(
    req: &mut http::request::Parts,
    param: &str,
) -> Result<Option<String>, PolicyError> {
    let Some(query) = req.uri.query() else {
        return Ok(None);
    };
    let mut found = None;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if percent_decode(name).as_deref() == Some(param) {
            if found.is_none() {
                found = percent_decode(value).filter(|v| !v.is_empty());
            }
        } else {
            kept.push(pair);
        }
    }
    if kept.len() == query.split('&').count() {
        return Ok(found);
    }
    let path = req.uri.path();
    let pq = if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    };
    let pq = PathAndQuery::try_from(pq)
        .map_err(|_| PolicyError::BadRequest("malformed request URI".into()))?;
    let mut parts = req.uri.clone().into_parts();
    parts.path_and_query = Some(pq);
    req.uri = http::Uri::from_parts(parts)
        .map_err(|_| PolicyError::BadRequest("malformed request URI".into()))?;
    Ok(found)
}

/// `%XX` decoding into UTF-8; `None` if the result is not UTF-8 or an escape
/// is malformed.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3)?;
            let hi = (hex[0] as char).to_digit(16)?;
            let lo = (hex[1] as char).to_digit(16)?;
            out.push(u8::try_from(hi * 16 + lo).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests;
