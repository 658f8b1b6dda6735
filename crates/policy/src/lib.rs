//! The policy chain: the extension point every request-time feature plugs
//! into (IP rules, CORS, authentication, rate limits, transforms; later
//! budgets, caching and guardrails).
//!
//! A [`Policy`] overrides only the phases it needs; each phase defaults to a
//! no-op. Policies run in the fixed order of [`Order`], whatever order the
//! configuration lists them in, so the sequence reads in one place.
//!
//! Invariants: policies never touch the store; they read compiled state and
//! the `sy-state` traits. A synchronous policy never allocates a future
//! ([`Step::Ready`]).

mod consumer;
mod context;
mod error;
mod policy;

pub use consumer::{Consumer, ConsumerDirectory, StaticDirectory};
pub use context::RequestContext;
pub use error::PolicyError;
pub use policy::{Flow, Order, Policy, PolicyChain, Step};
