//! The AI endpoint: an OpenAI-compatible API in front of configured models.
//!
//! A request flows: dialect in (parse and validate, [`sy_llm::openai`]) →
//! model lookup (public name → deployment, [`registry`]) → provider
//! ([`providers`]) → answer out, whole or as a chunk stream encoded to SSE
//! as the chunks are produced. Every failure becomes an OpenAI-shaped error
//! with the right status ([`AiError`]).
//!
//! Invariants: [`AiGateway::handle`] never panics and never buffers a
//! stream; the gateway is immutable once compiled (it lives inside the
//! proxy's snapshot) and holds no locks on the request path.
//!
//! Routing ([`router`]): each model ranks its deployments by its strategy,
//! skips those in cool-down or at their limits, retries and fails over to
//! the next deployment and then to fallback models, before the first byte
//! reaches the client.

mod caller;
mod endpoints;
mod error;
mod gateway;
pub mod pricing;
pub mod providers;
mod quota;
pub mod registry;
mod respond;
pub mod router;

pub use caller::Caller;
pub use error::{AiError, CallTrace};
pub use gateway::{AiCallInfo, AiGateway};
pub use quota::{CallQuota, DEFAULT_COMPLETION_ESTIMATE};

/// Response header naming the deployment that answered: `<provider>/<model>`.
pub const HEADER_DEPLOYMENT: &str = "x-switchyard-deployment";
/// Response header with the number of provider calls made for the answer.
pub const HEADER_ATTEMPTS: &str = "x-switchyard-attempts";
/// Response header naming the fallback model that answered, when the model
/// asked for could not.
pub const HEADER_FALLBACK: &str = "x-switchyard-fallback";
/// Response header with the prompt token count (non-streaming answers).
pub const HEADER_PROMPT_TOKENS: &str = "x-switchyard-prompt-tokens";
/// Response header with the completion token count (non-streaming answers).
pub const HEADER_COMPLETION_TOKENS: &str = "x-switchyard-completion-tokens";
/// Response header with the call's cost in USD, six decimals (non-streaming
/// answers from priced deployments).
pub const HEADER_COST: &str = "x-switchyard-cost-usd";
