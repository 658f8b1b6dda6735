//! Tokens and cost of one call: the context-window check before it, and
//! settling usage and cost into [`AiCallInfo`] after it.
//!
//! Provider-reported usage is the truth. Without it (a provider that sent
//! none, a stream cut before its usage chunk) the local counts stand in,
//! flagged `estimated`: the prompt counted before the call, and the
//! completion counted from the text actually received.

use std::sync::{Arc, OnceLock};

use sy_config::CooldownSpec;
use sy_core::{Money, TokenUsage};
use sy_llm::chat::ChatChunk;
use sy_llm::{ChatRequest, ChatResponse, tokens};

use crate::pricing::Price;
use crate::registry::Deployment;
use crate::router::InFlight;
use http::Response;
use sy_http::Body;

use crate::{AiCallInfo, AiError, CallQuota, respond};

/// The prompt's token count: counted before the call when something needed
/// it, else counted only if an estimate is ever needed (a provider that
/// reports no usage, a cut stream).
pub(crate) enum Prompt {
    Counted(u64),
    Deferred(Arc<ChatRequest>),
}

/// The deployment's side of one call: in flight until dropped, its `tpm`
/// reservation settled to the actual usage, failures after the first byte
/// counted against it.
pub(crate) struct Lease {
    pub(crate) in_flight: InFlight,
    /// `(window, tokens reserved)` when the deployment has a `tpm` limit.
    pub(crate) tpm: Option<(u64, u64)>,
    pub(crate) cooldown: CooldownSpec,
}

/// Refuse a request whose prompt estimate plus completion cap exceeds the
/// deployment's context window (when one is configured).
pub(crate) fn check_context(
    deployment: &Deployment,
    request: &ChatRequest,
    prompt: u64,
) -> Result<(), AiError> {
    let Some(window) = deployment.context_window else {
        return Ok(());
    };
    let completion = request.completion_cap().map(u64::from).unwrap_or(0);
    let total = prompt.saturating_add(completion);
    if total > window {
        return Err(AiError::ContextLengthExceeded {
            window,
            prompt,
            completion,
            total,
        });
    }
    Ok(())
}

/// Settles one call's usage and cost, once.
pub(crate) struct Meter {
    price: Option<Price>,
    /// The provider's model id: the vocabulary for local counts.
    model: String,
    prompt: Prompt,
    usage: Arc<OnceLock<TokenUsage>>,
    cost: Arc<OnceLock<Money>>,
    lease: Option<Lease>,
    /// The call's quota reservation, settled with the usage.
    pub(crate) quota: CallQuota,
}

impl Meter {
    pub(crate) fn new(
        info: &AiCallInfo,
        deployment: &Deployment,
        prompt: Prompt,
        lease: Option<Lease>,
    ) -> Meter {
        Meter {
            price: deployment.price,
            model: deployment.model.clone(),
            prompt,
            usage: Arc::clone(&info.usage),
            cost: Arc::clone(&info.cost),
            lease,
            quota: info.quota.clone(),
        }
    }

    #[cfg(test)]
    pub(crate) fn for_test(
        info: &AiCallInfo,
        model: &str,
        price: Option<Price>,
        prompt_estimate: u64,
    ) -> Meter {
        Meter {
            price,
            model: model.to_owned(),
            prompt: Prompt::Counted(prompt_estimate),
            usage: Arc::clone(&info.usage),
            cost: Arc::clone(&info.cost),
            lease: None,
            quota: info.quota.clone(),
        }
    }

    /// Record `tokens` and their cost; the first settlement wins. The
    /// deployment's `tpm` reservation and the call's quota reservation
    /// become the actual counts.
    pub(crate) fn settle(&self, tokens: TokenUsage) -> Option<Money> {
        if self.usage.set(tokens).is_ok() {
            if let Some(price) = &self.price {
                let _ = self.cost.set(price.cost(&tokens));
            }
            let cost = self.cost.get().map_or(0, |c| c.micros());
            self.quota.settle(&tokens, cost);
            if let Some(lease) = &self.lease
                && let Some((window, reserved)) = lease.tpm
            {
                let actual = tokens.prompt.saturating_add(tokens.completion);
                let state = lease.in_flight.state();
                state.settle_tokens(window, reserved, actual);
            }
        }
        self.cost.get().copied()
    }

    /// Settle a whole answer's `tokens` and say them, and their cost, in
    /// `response`'s headers.
    pub(crate) fn settle_whole(&self, response: &mut Response<Body>, tokens: TokenUsage) {
        let cost = self.settle(tokens);
        // Where the fields go is looked up once for the three.
        sy_http::with_fields(response, |fields| {
            if let Some(cost) = cost {
                fields.set_field(&respond::names::COST, &[cost.usd().as_bytes()]);
            }
            fields.set_number(&respond::names::PROMPT_TOKENS, tokens.prompt);
            fields.set_number(&respond::names::COMPLETION_TOKENS, tokens.completion);
        });
    }

    /// The answer failed after its first byte: count it against the
    /// deployment.
    pub(crate) fn failed(&self) {
        if let Some(lease) = &self.lease {
            lease
                .in_flight
                .state()
                .record_failure(&lease.cooldown, None);
        }
    }

    fn prompt_tokens(&self) -> u64 {
        match &self.prompt {
            Prompt::Counted(n) => *n,
            Prompt::Deferred(request) => tokens::count_prompt_tokens(request, &self.model),
        }
    }

    /// Usage of a whole answer that reported none: the local counts.
    pub(crate) fn estimate_answer(&self, answer: &ChatResponse) -> TokenUsage {
        let mut text = String::new();
        for choice in &answer.choices {
            text.push_str(choice.message.content.as_deref().unwrap_or(""));
            for call in choice.message.tool_calls.iter().flatten() {
                text.push_str(&call.function.name);
                text.push_str(&call.function.arguments);
            }
        }
        self.estimate(&text)
    }

    fn estimate(&self, received: &str) -> TokenUsage {
        TokenUsage {
            prompt: self.prompt_tokens(),
            completion: tokens::count_completion_tokens(received, &self.model),
            estimated: true,
            ..TokenUsage::default()
        }
    }
}

/// A stream's meter: keeps the text received so that a stream cut before
/// its usage chunk still settles, with an estimate, when it is dropped.
pub(crate) struct StreamMeter {
    meter: Meter,
    received: String,
}

impl StreamMeter {
    pub(crate) fn new(meter: Meter) -> StreamMeter {
        StreamMeter {
            meter,
            received: String::new(),
        }
    }

    /// Note a chunk: its usage settles the call; otherwise its generated
    /// text is kept for the estimate.
    pub(crate) fn observe(&mut self, chunk: &ChatChunk) {
        if let Some(usage) = &chunk.usage {
            self.meter.settle(usage.to_tokens());
            return;
        }
        if self.meter.usage.get().is_some() {
            return;
        }
        for choice in &chunk.choices {
            if let Some(text) = &choice.delta.content {
                self.received.push_str(text);
            }
            for call in choice.delta.tool_calls.iter().flatten() {
                if let Some(f) = &call.function {
                    self.received.push_str(f.name.as_deref().unwrap_or(""));
                    self.received.push_str(f.arguments.as_deref().unwrap_or(""));
                }
            }
        }
    }
}

impl StreamMeter {
    /// A mid-stream error: the call counts as failed for the deployment.
    pub(crate) fn failed(&self) {
        self.meter.failed();
    }

    /// At the end of a stream that carried no usage: settle the estimate
    /// now and return it (for a gateway-made usage chunk). `None` when the
    /// provider's usage already settled the call.
    pub(crate) fn settle_estimate(&mut self) -> Option<TokenUsage> {
        if self.meter.usage.get().is_some() {
            return None;
        }
        let tokens = self.meter.estimate(&self.received);
        self.meter.settle(tokens);
        Some(tokens)
    }
}

impl StreamMeter {
    /// The counts the call settled with, if it has settled.
    pub(crate) fn settled(&self) -> Option<TokenUsage> {
        self.meter.usage.get().copied()
    }
}

impl Drop for StreamMeter {
    fn drop(&mut self) {
        let _ = self.settle_estimate();
    }
}
