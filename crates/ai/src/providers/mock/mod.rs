//! The built-in mock provider: deterministic answers, no network.
//!
//! For demos, tests and load tests of the gateway itself. What it answers is
//! decided in [`answer`]; this file adds the timing and the injected errors.
//!
//! Timing (from [`MockProviderSpec`]): `latency` passes before anything is
//! answered (before the first chunk, or before the whole response);
//! `chunk_delay` passes between consecutive stream chunks. A non-streaming
//! answer takes as long as the stream would: `latency + chunk_delay ×
//! (chunks − 1)`.
//!
//! Embeddings ([`embed`]): deterministic unit vectors from a hash of each
//! input, after `latency`.
//!
//! Errors: a last user message containing `mock:error:<status>` (any 4xx or
//! 5xx) is answered, after `latency`, with that status as a provider error.

mod answer;
mod embed;
mod schema;

use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use sy_config::MockProviderSpec;
use sy_llm::ChatRequest;
use sy_llm::embeddings::EmbeddingsRequest;

use super::{AnswerForm, Provider, ProviderReply};
use crate::AiError;

/// The mock provider.
#[derive(Debug, Clone, Default)]
pub struct MockProvider {
    latency: Duration,
    chunk_delay: Duration,
}

impl MockProvider {
    /// A mock with the timing of `spec`.
    pub fn new(spec: MockProviderSpec) -> MockProvider {
        MockProvider {
            latency: spec.latency.map(|d| d.get()).unwrap_or_default(),
            chunk_delay: spec.chunk_delay.map(|d| d.get()).unwrap_or_default(),
        }
    }

    async fn answer(&self, request: &ChatRequest, model: &str) -> Result<ProviderReply, AiError> {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        if let Some(status) = answer::injected_error(request) {
            return Err(AiError::provider(
                status,
                format!(
                    "The mock provider failed with status {status}, as asked by `mock:error:{status}`."
                ),
            ));
        }
        let plan = answer::plan(request);
        let chunks = plan.chunks(model);
        if request.is_stream() {
            return Ok(ProviderReply::Stream(paced(chunks, self.chunk_delay)));
        }
        let gaps = u32::try_from(chunks.len().saturating_sub(1)).unwrap_or(u32::MAX);
        let generation = self.chunk_delay.saturating_mul(gaps);
        if !generation.is_zero() {
            tokio::time::sleep(generation).await;
        }
        Ok(ProviderReply::Complete(Box::new(plan.response(model))))
    }
}

/// Yield `items` with `delay` between consecutive ones (none before the
/// first), each as soon as its time comes.
fn paced<T: Send + 'static>(
    items: Vec<T>,
    delay: Duration,
) -> futures_util::stream::BoxStream<'static, Result<T, AiError>> {
    futures_util::stream::unfold(
        (items.into_iter(), true),
        move |(mut items, first)| async move {
            let item = items.next()?;
            if !first && !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            Some((Ok(item), (items, false)))
        },
    )
    .boxed()
}

impl Provider for MockProvider {
    /// The mock builds its answers in canonical form: `form` is moot.
    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
        _source: Option<&'a [u8]>,
        deployment_model: &'a str,
        _form: AnswerForm,
    ) -> BoxFuture<'a, Result<ProviderReply, AiError>> {
        Box::pin(self.answer(request, deployment_model))
    }

    fn embeddings<'a>(
        &'a self,
        request: &'a EmbeddingsRequest,
        _source: Option<&'a [u8]>,
        deployment_model: &'a str,
        _provider: &'a str,
    ) -> BoxFuture<'a, Result<super::EmbeddingsReply, AiError>> {
        Box::pin(async move {
            if !self.latency.is_zero() {
                tokio::time::sleep(self.latency).await;
            }
            embed::answer(request, deployment_model).map(super::EmbeddingsReply::Decoded).map_err(|status| {
                AiError::provider(
                    status,
                    format!(
                        "The mock provider failed with status {status}, as asked by `mock:error:{status}`."
                    ),
                )
            })
        })
    }
}
