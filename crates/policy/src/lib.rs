//! The policy chain: the extension point every request-time feature plugs
//! into (IP rules, CORS, authentication, rate limits, transforms; later
//! budgets, caching and guardrails).
//!
//! A [`Policy`] overrides only the phases it needs; each phase defaults to a
//! no-op. Policies run in the fixed order of [`Order`], whatever order the
//! configuration lists them in, so the sequence reads in one place.
//! [`build_chain`] compiles a route's `policies` section into a
//! [`PolicyChain`]; each policy lives in its own file.
//!
//! Invariants: policies never touch the store; they read compiled state and
//! the `sy-state` traits. A synchronous policy never allocates a future
//! ([`Step::Ready`]). A client's API key never reaches an upstream.

mod consumer;
mod context;
mod credentials;
mod error;
mod policy;
mod registry;

mod body_limit;
mod cors;
mod headers;
mod introspect;
mod ip;
mod jwt;
mod key_auth;
mod key_index;
mod quota;
mod rate_limit;

#[cfg(test)]
mod test_util;

pub use body_limit::BodyLimit;
pub use consumer::{
    Catalog, Consumer, ConsumerDirectory, Denied, Grants, LimitScope, ScopedLimits,
    StaticDirectory, SubscriptionState,
};
pub use context::RequestContext;
pub use cors::Cors;
pub use error::{
    PolicyError, RATELIMIT_LIMIT, RATELIMIT_REMAINING, RATELIMIT_RESET, ceil_secs, quota_code,
};
pub use headers::{RequestHeaders, ResponseHeaders};
pub use introspect::Introspection;
pub use ip::IpRules;
pub use jwt::{Jwt, MISSING_TOKEN, TokenCaches};
pub use key_auth::{INVALID_KEY, KeyAuth, MISSING_KEY};
pub use key_index::{IndexedKey, KeyIndex};
pub use policy::{Flow, Order, Policy, PolicyChain, Step};
pub use quota::{
    Gauge, QuotaPolicy, RateLimitHeaders, X_RATELIMIT_LIMIT_REQUESTS, X_RATELIMIT_LIMIT_TOKENS,
    X_RATELIMIT_REMAINING_REQUESTS, X_RATELIMIT_REMAINING_TOKENS, X_RATELIMIT_RESET_REQUESTS,
    X_RATELIMIT_RESET_TOKENS, limit_of, name_refusal, push_charges, refusal_error,
};
pub use rate_limit::RateLimit;
pub use registry::{PolicyDeps, build_chain, directory_from_config};
