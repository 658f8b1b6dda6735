//! [`Caller`]: who is calling the AI endpoint and what they may use.

use sy_policy::RequestContext;

use crate::AiError;
use crate::registry::{Model, Registry};

/// The route's model allow-list and the request's context (route, consumer
/// with its scopes, subscriptions and limits). Cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// Models the route admits; empty admits every model.
    pub allowed: &'a [String],
    /// The request's context once policies ran; `None` when the endpoint is
    /// driven without the proxy (unit tests).
    pub ctx: Option<&'a RequestContext>,
}

impl<'a> Caller<'a> {
    /// A caller on a route admitting `allowed`, with the request's `ctx`.
    pub fn new(allowed: &'a [String], ctx: Option<&'a RequestContext>) -> Self {
        Caller { allowed, ctx }
    }

    /// The model `name` as this caller may use it. A model the route does
    /// not admit answers exactly like an unknown one (404), so a route does
    /// not reveal other routes' models; a model the consumer's key scopes or
    /// subscriptions do not cover is a 403 that says why.
    pub(crate) fn model<'r>(
        &self,
        registry: &'r Registry,
        name: &str,
    ) -> Result<&'r Model, AiError> {
        let model = registry
            .get(name, self.allowed)
            .ok_or_else(|| AiError::ModelNotFound {
                model: name.to_owned(),
            })?;
        if let Some(consumer) = self.ctx.and_then(|c| c.consumer.as_ref()) {
            consumer
                .grants
                .check_model(&consumer.name, name)
                .map_err(|denied| AiError::Forbidden { message: denied.0 })?;
        }
        Ok(model)
    }

    /// Whether the consumer may use `name` (for listings: a model the caller
    /// cannot call is not listed).
    pub(crate) fn may_list(&self, name: &str) -> bool {
        self.ctx
            .and_then(|c| c.consumer.as_ref())
            .is_none_or(|c| c.grants.check_model(&c.name, name).is_ok())
    }
}
