//! Token and spend limits, and a model's own limits: reserved once the
//! model is known and before any provider call, settled by the call's
//! [`Meter`](crate::endpoints) to the usage and cost actually recorded.
//!
//! Applicable counters: the tokens and spend of the caller's key, consumer
//! and tenant (`Grants.limits`) and of the route (`RouteSpec.limits`; its
//! requests and concurrency are the quota policy's), and every limit of the
//! model asked for (`ModelSpec.limits`: requests, concurrency, tokens,
//! spend, whoever calls it).
//!
//! The estimate: the prompt counted with the vocabulary of the deployment
//! a call would try first, plus the completion cap (`max_completion_tokens`
//! or `max_tokens`, times `n`); without a cap, the largest context window
//! of the model's deployments minus the prompt, else
//! [`DEFAULT_COMPLETION_ESTIMATE`]. Its cost is priced at the most
//! expensive deployment that may answer (the model's, its
//! context-window fallback's and its fallbacks'), so a fallback can never
//! cost more than was reserved for the estimate.

use std::sync::Arc;

use sy_core::TokenUsage;
use sy_llm::{ChatRequest, tokens};
use sy_policy::{RateLimitHeaders, push_charges};
use sy_state::{Actual, Charge, Measure, Metric, Reservation, Scope};

use crate::registry::{Model, Registry};
use crate::{AiError, AiGateway, Caller};

/// Completion tokens reserved for a request that sets no cap, on a model
/// whose deployments declare no context window.
pub const DEFAULT_COMPLETION_ESTIMATE: u64 = 4096;

/// What a call reserved: kept by its meter (which settles it) and by its
/// [`crate::AiCallInfo`] (which the proxy keeps until the body ends, so a
/// concurrency slot is held exactly as long as the response).
#[derive(Debug, Clone, Default)]
pub struct CallQuota {
    /// The reservation; `None` when no limit applied.
    pub reservation: Option<Arc<Reservation>>,
    /// The `x-ratelimit-*` values, merged with the quota policy's.
    pub headers: RateLimitHeaders,
}

impl CallQuota {
    /// Settle the reservation to the usage and cost recorded.
    pub(crate) fn settle(&self, tokens: &TokenUsage, cost_micros: i64) {
        if let Some(r) = &self.reservation {
            r.settle(Actual {
                tokens: tokens.prompt.saturating_add(tokens.completion),
                spend: u64::try_from(cost_micros).unwrap_or(0),
            });
        }
    }

    /// The call failed before any usage: give back tokens and spend.
    pub(crate) fn release(&self) {
        self.settle(&TokenUsage::default(), 0);
    }
}

/// Reserve the token and spend counters of a call of `asked` (and the
/// model's own counters). A refusal is the 429 naming the limit.
pub(crate) async fn reserve(
    gateway: &AiGateway,
    caller: &Caller<'_>,
    asked: &Model,
    request: &ChatRequest,
) -> Result<CallQuota, AiError> {
    reserve_with(gateway, caller, asked, || {
        estimate(&gateway.registry, asked, request)
    })
    .await
}

/// [`reserve`] with the `(tokens, micro-USD)` estimate from `estimate`,
/// called only when some token or spend limit applies (embeddings count
/// their input, chat calls their prompt and completion cap).
pub(crate) async fn reserve_with(
    gateway: &AiGateway,
    caller: &Caller<'_>,
    asked: &Model,
    estimate: impl FnOnce() -> (u64, u64),
) -> Result<CallQuota, AiError> {
    let ctx = caller.ctx;
    let mut headers = ctx
        .and_then(|c| c.extensions.get::<RateLimitHeaders>())
        .copied()
        .unwrap_or_default();
    let Some(ledger) = &gateway.ledger else {
        return Ok(CallQuota {
            reservation: None,
            headers,
        });
    };
    let usage_only = |m: Measure| matches!(m.metric(), Metric::Tokens | Metric::Spend);
    // Which counters apply, before the estimate is known (amounts are
    // filled in below), so that a call under no token or spend limit never
    // counts its prompt for nothing.
    let mut scopes: Vec<(Scope, &Arc<str>, &sy_config::LimitsSpec, bool)> = Vec::new();
    if let Some(consumer) = ctx.and_then(|c| c.consumer.as_ref()) {
        for set in &consumer.grants.limits {
            scopes.push((set.scope.into(), &set.id, &set.limits, true));
        }
    }
    if let Some(ctx) = ctx
        && let Some((name, limits)) = gateway.route_limits.get_key_value(&*ctx.route)
    {
        scopes.push((Scope::Route, name, limits, true));
    }
    if !asked.limits.is_empty() {
        scopes.push((Scope::Model, &asked.quota_id, &asked.limits, false));
    }
    let needs_estimate = scopes.iter().any(|(_, _, limits, _)| {
        Measure::ALL
            .iter()
            .any(|&m| usage_only(m) && sy_policy::limit_of(limits, m).is_some())
    });
    let (tokens, spend) = if needs_estimate { estimate() } else { (0, 0) };
    let mut charges: Vec<Charge> = Vec::new();
    for (scope, entity, limits, usage_limits_only) in scopes {
        push_charges(&mut charges, scope, entity, limits, |m| match m.metric() {
            Metric::Tokens => Some(tokens),
            Metric::Spend => Some(spend),
            Metric::Requests | Metric::Concurrency if !usage_limits_only => Some(1),
            _ => None,
        });
    }
    if charges.is_empty() {
        return Ok(CallQuota {
            reservation: None,
            headers,
        });
    }
    match ledger.reserve(&charges).await {
        Ok(r) => {
            headers.fold(r.held());
            Ok(CallQuota {
                reservation: Some(Arc::new(r)),
                headers,
            })
        }
        Err(mut refusal) => {
            sy_policy::name_refusal(&mut refusal, ctx.and_then(|c| c.consumer.as_ref()));
            headers.refused(&refusal);
            Err(AiError::quota(&refusal, headers))
        }
    }
}

/// `(tokens, micro-USD)` of an embeddings call: every input counted (token
/// arrays by their length), priced at the most expensive deployment of the
/// model and its fallbacks.
pub(crate) fn estimate_embeddings(
    registry: &Registry,
    asked: &Model,
    request: &sy_llm::embeddings::EmbeddingsRequest,
) -> (u64, u64) {
    let vocabulary = asked.pick().map_or("gpt-4o", |d| d.model.as_str());
    let prompt: u64 = request
        .input
        .items()
        .iter()
        .map(|item| match item {
            sy_llm::embeddings::InputItem::Text(t) => tokens::count_text_tokens(t, vocabulary),
            sy_llm::embeddings::InputItem::Tokens(ids) => ids.len() as u64,
        })
        .sum();
    let usage = TokenUsage {
        prompt,
        ..TokenUsage::default()
    };
    (prompt, max_price(registry, asked, &usage))
}

/// The highest cost of `usage` among the deployments that may answer a
/// call of `asked`.
fn max_price(registry: &Registry, asked: &Model, usage: &TokenUsage) -> u64 {
    let mut models = vec![asked];
    let routing = &asked.routing;
    for name in routing
        .context_window_fallback
        .iter()
        .chain(routing.fallbacks.iter())
    {
        if let Some(m) = registry.model(name) {
            models.push(m);
        }
    }
    let spend = models
        .iter()
        .flat_map(|m| m.deployments.iter())
        .filter_map(|d| d.price.map(|p| p.cost(usage).micros()))
        .max()
        .unwrap_or(0);
    u64::try_from(spend).unwrap_or(0)
}

/// `(tokens, micro-USD)` a call of `asked` may use at most, as far as the
/// request says.
pub(crate) fn estimate(registry: &Registry, asked: &Model, request: &ChatRequest) -> (u64, u64) {
    let vocabulary = asked.pick().map_or("gpt-4o", |d| d.model.as_str());
    let prompt = tokens::count_prompt_tokens(request, vocabulary);
    let window = asked
        .deployments
        .iter()
        .filter_map(|d| d.context_window)
        .max();
    let completion = match (request.completion_cap(), window) {
        (Some(cap), _) => u64::from(cap).saturating_mul(u64::from(request.choice_count())),
        (None, Some(window)) => window.saturating_sub(prompt),
        (None, None) => DEFAULT_COMPLETION_ESTIMATE,
    };
    // A call that marks cache breakpoints may write its whole prompt to
    // the cache at the dearest lifetime: reserved as such, so the estimate
    // stays an upper bound.
    let written = if request.asks_for_prompt_cache() {
        prompt
    } else {
        0
    };
    let usage = TokenUsage {
        prompt,
        completion,
        cache_write: written,
        cache_write_long: written,
        ..TokenUsage::default()
    };
    (
        prompt.saturating_add(completion),
        max_price(registry, asked, &usage),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A call that marks cache breakpoints reserves its prompt at the
    /// dearest cache-write price, so the reservation still bounds the cost.
    #[test]
    fn breakpoints_reserve_the_prompt_as_a_long_cache_write() {
        let providers = vec![serde_json::from_value(json!({"name": "p", "kind": "mock"})).unwrap()];
        let models = vec![
            serde_json::from_value(json!({"name": "m", "deployments": [{"provider": "p",
                "model": "claude-on-mock", "input_price_per_million": 3,
                "output_price_per_million": 15}]}))
            .unwrap(),
        ];
        let registry = Registry::compile(&providers, &models).unwrap();
        let asked = registry.model("m").unwrap();
        let long_prompt = "the manual ".repeat(200);
        let plain: ChatRequest = serde_json::from_value(json!({"model": "m", "max_tokens": 10,
            "messages": [{"role": "user", "content": long_prompt}]}))
        .unwrap();
        let cached: ChatRequest = serde_json::from_value(json!({"model": "m", "max_tokens": 10,
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": long_prompt, "cache_control": {"type": "ephemeral"}}]}]}))
        .unwrap();
        let (tokens, plain_cost) = estimate(&registry, asked, &plain);
        let (same_tokens, cached_cost) = estimate(&registry, asked, &cached);
        assert_eq!(tokens, same_tokens);
        let prompt = tokens - 10;
        // $3/M input, doubled for a one-hour write; $15/M output.
        assert_eq!(plain_cost, prompt * 3 + 150);
        assert_eq!(cached_cost, prompt * 6 + 150);
    }
}
