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

use std::sync::Arc;
use sy_core::FastSet;

use http::header::HeaderName;
use sha2::{Digest, Sha256};
use sy_config::KeyAuthSpec;

use crate::consumer::ConsumerDirectory;
use crate::context::RequestContext;
use crate::credentials::{query_param, require, strip_query_param, take_bearer};
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
    consumers: FastSet<Arc<str>>,
}

impl KeyAuth {
    /// Authentication against `directory` as `spec` configures it.
    pub fn new(spec: &KeyAuthSpec, directory: Arc<dyn ConsumerDirectory>) -> Self {
        KeyAuth {
            directory,
            query_param: query_param(spec.query_param.as_deref()),
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
        let mut key = take_bearer(req);
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

    /// No response phase.
    fn reads_response(&self) -> bool {
        false
    }

    fn on_request<'a>(
        &'a self,
        req: &'a mut http::request::Parts,
        ctx: &'a mut RequestContext,
    ) -> Step<'a> {
        let key = match require(self.take_key(req), MISSING_KEY) {
            Ok(k) => k,
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

#[cfg(test)]
mod tests;
