//! The provider call every dialect shares: find the model (honouring the
//! route's allow-list), then the attempt loop of the router.
//!
//! Dialect endpoints translate their request to the canonical form, call
//! [`call_model`], and translate what comes back, settling usage and cost
//! through the returned [`Meter`]; so routing, limits and accounting added
//! here apply to every dialect alike.
//!
//! The attempt loop: rank the model's deployments by its strategy
//! ([`crate::router::strategy`]); skip those whose context window the
//! prompt does not fit, those cooling down and those at their `rpm`/`tpm`
//! limit; call the next one. A 429 (cooling the deployment down for its
//! `Retry-After`), 5xx, timeout or connection error moves on — after
//! `retries.attempts` retries of the same deployment with back-off for
//! errors other than 429 — then to the `fallbacks` models in order. A
//! prompt too long for the model goes to its `context_window_fallback`.
//! Client errors (400, 401, 403, 404) end the loop at once. All of this
//! happens before the first byte reaches the client: a stream is handed
//! over only once its first chunk arrived.

use std::collections::VecDeque;
use std::sync::Arc;

use http::Response;
use sy_core::TokenUsage;
use sy_http::{Body, SetField};
use sy_llm::{ChatRequest, tokens};
use sy_providers::ProviderErrorKind;
use tokio::time::Instant;

use super::meter::{self, Lease, Meter, Prompt};
use crate::providers::{AnswerForm, ProviderReply};
use crate::registry::{Deployment, Model};
use crate::router::{InFlight, strategy};
use crate::{AiCallInfo, AiError, AiGateway, CallTrace, Caller, respond};

/// A provider's answer and what the call record needs.
pub(crate) struct Called {
    /// Model, deployment label, attempts, usage and cost cells for the
    /// access log.
    pub info: AiCallInfo,
    /// Settles usage and cost into `info`.
    pub meter: Meter,
    /// The prompt's tokens, counted with the deployment's vocabulary; 0
    /// unless `count_prompt` was asked or routing needed the count.
    pub prompt_estimate: u64,
    /// The answer, whole or streamed.
    pub reply: ProviderReply,
}

/// Call the model `request.model` names, failing over as the model's
/// routing says. An unknown model and a model not allowed on this route
/// fail alike ([`AiError::ModelNotFound`]). `count_prompt`: the caller
/// needs the prompt's token count (Anthropic's `message_start`); otherwise
/// it is counted only when routing needs it. `form`: the forms of a whole
/// answer the caller takes.
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn keeps each argument twice in its future (rust-lang/rust#62958)"
)]
pub(crate) fn call_model(
    gateway: &AiGateway,
    allowed: &Caller<'_>,
    request: &Arc<ChatRequest>,
    source: Option<&[u8]>,
    count_prompt: bool,
    form: AnswerForm,
) -> impl Future<Output = Result<Called, AiError>> + Send {
    async move {
        let asked = allowed.model(&gateway.registry, &request.model)?;
        // Token, spend and model limits, before any provider is called.
        let quota = crate::quota::reserve(gateway, allowed, asked, request).await?;
        match walk(gateway, asked, request, source, count_prompt, form).await {
            Ok(mut called) => {
                called.meter.quota = quota.clone();
                called.info.quota = quota;
                Ok(called)
            }
            Err(error) => {
                // Nothing answered, nothing is billed.
                quota.release();
                Err(error)
            }
        }
    }
}

/// The attempt loop over `asked`'s deployments and fallbacks.
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn keeps each argument twice in its future (rust-lang/rust#62958)"
)]
fn walk(
    gateway: &AiGateway,
    asked: &Model,
    request: &Arc<ChatRequest>,
    source: Option<&[u8]>,
    count_prompt: bool,
    form: AnswerForm,
) -> impl Future<Output = Result<Called, AiError>> + Send {
    async move {
        let mut run = Run {
            request,
            source,
            form,
            counts: Vec::new(),
            attempts: 0,
            last_error: None,
            last_deployment: None,
            skipped: Vec::new(),
            failovers: Vec::new(),
            cooled: 0,
            ignore_cooldown: false,
        };
        // Cool-downs steer traffic to other deployments; they never make a
        // model unanswerable. When the first pass called nothing because every
        // option was cooling down, a second pass ignores cool-downs, so the
        // client gets what the provider says now rather than a gateway-made 503
        // (a single error must not take a one-deployment model offline).
        for pass in 0..2 {
            if pass == 1 {
                if run.attempts > 0 || run.cooled == 0 {
                    break;
                }
                run.ignore_cooldown = true;
                run.skipped.clear();
            }
            if let Some(done) = run_pass(gateway, asked, &mut run, count_prompt).await {
                return done.map_err(|error| error.routed(run.trace()));
            }
        }
        let trace = run.trace();
        Err(run.give_up().routed(trace))
    }
}

/// Walk the asked model, its context-window fallback and its fallbacks
/// once. `None` when every option was exhausted.
async fn run_pass<'r>(
    gateway: &AiGateway,
    asked: &Model,
    run: &mut Run<'r>,
    count_prompt: bool,
) -> Option<Result<Called, AiError>> {
    let mut queue: VecDeque<&Model> = VecDeque::from([asked]);
    let mut visited: Vec<&str> = Vec::new();
    while let Some(model) = queue.pop_front() {
        if visited.contains(&model.name.as_str()) {
            continue;
        }
        visited.push(&model.name);
        let overflow = match run.try_model(model).await {
            Outcome::Answered(answer) => {
                let taken = std::mem::replace(run, run.fresh());
                return Some(Ok(taken.called(model, answer, count_prompt)));
            }
            Outcome::Fatal(error) => return Some(Err(error)),
            Outcome::Exhausted { overflow } => overflow,
        };
        let routing = &model.routing;
        if overflow
            && let Some(larger) = routing
                .context_window_fallback
                .as_deref()
                .and_then(|name| gateway.registry.model(name))
        {
            queue.push_front(larger);
        }
        queue.extend(
            routing
                .fallbacks
                .iter()
                .filter_map(|name| gateway.registry.model(name)),
        );
    }
    None
}

/// The response headers naming what answered: the deployment, the number
/// of attempts and, when one answered, the fallback model. (A failed
/// call's error carries the same in its [`CallTrace`].)
pub(crate) fn set_call_headers(response: &mut Response<Body>, info: &AiCallInfo) {
    sy_http::with_fields(response, |fields| call_headers(fields, info));
}

fn call_headers<F: SetField + ?Sized>(fields: &mut F, info: &AiCallInfo) {
    respond::set_routing_headers(
        fields,
        Some(&info.deployment),
        info.attempts,
        info.fallback.as_deref(),
    );
    info.quota.headers.write(fields);
}

/// One call's walk through deployments and models.
struct Run<'r> {
    request: &'r Arc<ChatRequest>,
    /// The client's bytes `request` was decoded from, when the endpoint
    /// passes them on ([`crate::providers::Provider::chat`]).
    source: Option<&'r [u8]>,
    /// The forms of a whole answer the endpoint takes.
    form: AnswerForm,
    /// Prompt counts by provider model id (vocabularies differ).
    counts: Vec<(String, u64)>,
    attempts: u32,
    last_error: Option<AiError>,
    /// The deployment `last_error` is about (`<provider>/<model>`) and its
    /// model's name.
    last_deployment: Option<(String, String)>,
    /// Deployments passed over before a call (cool-down, limits).
    skipped: Vec<String>,
    /// Every deployment passed over or failed, with why.
    failovers: Vec<String>,
    /// Deployments passed over only because they were cooling down.
    cooled: u32,
    /// The last-resort pass: call deployments even while cooling down.
    ignore_cooldown: bool,
}

/// How trying one model ended.
enum Outcome<'m> {
    Answered(Answer<'m>),
    /// Every deployment failed or was skipped; `overflow` when the prompt
    /// did not fit at least one of them.
    Exhausted {
        overflow: bool,
    },
    /// An error no other deployment would fix.
    Fatal(AiError),
}

/// A deployment's successful reply, with its lease.
struct Answer<'m> {
    deployment: &'m Deployment,
    in_flight: InFlight,
    tpm: Option<(u64, u64)>,
    reply: ProviderReply,
}

/// What to do after a failed attempt.
enum Next {
    /// Retry here or move on.
    FailOver,
    /// The prompt is too long: the context-window fallback.
    TooLong,
    /// Give the error to the client.
    Stop,
}

fn next_after(error: &AiError) -> Next {
    match error {
        AiError::Provider {
            kind: ProviderErrorKind::ContextLength,
            ..
        }
        | AiError::ContextLengthExceeded { .. } => Next::TooLong,
        AiError::Provider { kind, .. } if kind.is_retryable() => Next::FailOver,
        _ => Next::Stop,
    }
}

impl<'r> Run<'r> {
    /// The prompt's tokens in `model_id`'s vocabulary, counted once.
    fn count(&mut self, model_id: &str) -> u64 {
        if let Some((_, n)) = self.counts.iter().find(|(m, _)| m == model_id) {
            return *n;
        }
        let n = tokens::count_prompt_tokens(self.request, model_id);
        self.counts.push((model_id.to_owned(), n));
        n
    }

    fn completion_cap(&self) -> u64 {
        self.request.completion_cap().map_or(0, u64::from)
    }

    async fn try_model<'m>(&mut self, model: &'m Model) -> Outcome<'m> {
        let routing = &model.routing;
        let costs = if routing.strategy == sy_config::RoutingStrategySpec::LeastCost {
            let completion = self.completion_cap();
            model
                .deployments
                .iter()
                .map(|d| {
                    let prompt = self.count(&d.model);
                    d.price.map(|p| {
                        p.cost(&TokenUsage {
                            prompt,
                            completion,
                            ..TokenUsage::default()
                        })
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut overflow = false;
        for i in strategy::rank(routing.strategy, &model.deployments, &costs) {
            let Some(d) = model.deployments.get(i) else {
                continue;
            };
            let label = d.label();
            if d.context_window.is_some() {
                let prompt = self.count(&d.model);
                if let Err(error) = meter::check_context(d, self.request, prompt) {
                    overflow = true;
                    self.failovers.push(format!("{label}: context window"));
                    self.failed(model, label.to_owned(), error);
                    continue;
                }
            }
            if let Some(left) = d.state.cooling_down().filter(|_| !self.ignore_cooldown) {
                self.cooled += 1;
                self.skip(format!(
                    "{label}: cooling down ({}s left)",
                    left.as_secs().max(1)
                ));
                continue;
            }
            if !d.state.try_request(d.rpm) {
                self.skip(format!("{label}: at its rpm limit"));
                continue;
            }
            let tpm = match d.tpm {
                None => None,
                Some(_) => {
                    let want = self.count(&d.model).saturating_add(self.completion_cap());
                    match d.state.try_tokens(d.tpm, want) {
                        Some(window) => Some((window, want)),
                        None => {
                            self.skip(format!("{label}: at its tpm limit"));
                            continue;
                        }
                    }
                }
            };
            match self.call_deployment(model, d).await {
                Ok((in_flight, reply)) => {
                    return Outcome::Answered(Answer {
                        deployment: d,
                        in_flight,
                        tpm,
                        reply,
                    });
                }
                Err(next) => {
                    if let Some((window, reserved)) = tpm {
                        d.state.settle_tokens(window, reserved, 0);
                    }
                    match next {
                        Next::FailOver => {}
                        Next::TooLong if routing.context_window_fallback.is_some() => {
                            return Outcome::Exhausted { overflow: true };
                        }
                        Next::TooLong | Next::Stop => {
                            let error = self.last_error.take().unwrap_or_else(|| {
                                AiError::Internal("failed attempt without an error".into())
                            });
                            return Outcome::Fatal(error);
                        }
                    }
                }
            }
        }
        Outcome::Exhausted { overflow }
    }

    /// Call one deployment, retrying it with back-off as the model says.
    /// On failure the error is left in `last_error`.
    async fn call_deployment(
        &mut self,
        model: &Model,
        d: &Deployment,
    ) -> Result<(InFlight, ProviderReply), Next> {
        let routing = &model.routing;
        let mut retry = 0;
        loop {
            if retry > 0 {
                tokio::time::sleep(routing.backoff(retry)).await;
                if d.state.cooling_down().is_some() && !self.ignore_cooldown {
                    return Err(Next::FailOver);
                }
            }
            self.attempts += 1;
            let in_flight = d.state.enter();
            let started = Instant::now();
            let call = d
                .provider
                .chat(self.request, self.source, &d.model, self.form);
            let result = match routing.timeout {
                None => call.await,
                Some(limit) => tokio::time::timeout(limit, call).await.unwrap_or_else(|_| {
                    Err(AiError::provider(
                        504,
                        format!(
                            "The deployment `{}` did not answer within {}ms.",
                            d.label(),
                            limit.as_millis()
                        ),
                    ))
                }),
            };
            let error = match result {
                Ok(reply) => {
                    d.state.record_success(started.elapsed());
                    return Ok((in_flight, reply));
                }
                Err(error) => error,
            };
            drop(in_flight);
            let next = next_after(&error);
            let retry_after = match &error {
                AiError::Provider { retry_after, .. } => *retry_after,
                _ => None,
            };
            let rate_limited = matches!(
                &error,
                AiError::Provider {
                    kind: ProviderErrorKind::RateLimit,
                    ..
                }
            );
            let label = d.label();
            self.failovers.push(format!(
                "{label}: {} {}",
                error.status().as_u16(),
                error.reason()
            ));
            self.failed(model, label.to_owned(), error);
            match next {
                Next::FailOver => {
                    d.state.record_failure(&routing.cooldown, retry_after);
                    if rate_limited || retry >= routing.retries.attempts {
                        return Err(Next::FailOver);
                    }
                    retry += 1;
                }
                other => return Err(other),
            }
        }
    }

    /// An empty run for the same request (what `called` leaves behind).
    fn fresh(&self) -> Run<'r> {
        Run {
            request: self.request,
            source: self.source,
            form: self.form,
            counts: Vec::new(),
            attempts: 0,
            last_error: None,
            last_deployment: None,
            skipped: Vec::new(),
            failovers: Vec::new(),
            cooled: 0,
            ignore_cooldown: false,
        }
    }

    /// Keep `error` as the one to return if nothing answers, with the
    /// deployment (`label`, of `model`) it came from.
    fn failed(&mut self, model: &Model, label: String, error: AiError) {
        self.last_error = Some(error);
        self.last_deployment = Some((label, model.name.clone()));
    }

    /// What the routing headers of the error response say.
    fn trace(&mut self) -> CallTrace {
        CallTrace::new(
            self.attempts,
            self.last_deployment.take(),
            &self.request.model,
        )
    }

    fn skip(&mut self, why: String) {
        self.failovers.push(why.clone());
        self.skipped.push(why);
    }

    /// The answer's call record and meter.
    fn called(mut self, model: &Model, answer: Answer<'_>, count_prompt: bool) -> Called {
        let d = answer.deployment;
        let counted = self
            .counts
            .iter()
            .find(|(m, _)| *m == d.model)
            .map(|(_, n)| *n);
        let counted = match counted {
            Some(n) => Some(n),
            None if count_prompt => Some(self.count(&d.model)),
            None => None,
        };
        let prompt = match counted {
            Some(n) => Prompt::Counted(n),
            None => Prompt::Deferred(Arc::clone(self.request)),
        };
        let mut info = AiCallInfo::new(self.request.model.clone(), d.label());
        info.attempts = self.attempts;
        info.fallback = (model.name != self.request.model).then(|| model.name.clone());
        info.failovers = self.failovers;
        let lease = Lease {
            in_flight: answer.in_flight,
            tpm: answer.tpm,
            cooldown: model.routing.cooldown,
        };
        let meter = Meter::new(&info, d, prompt, Some(lease));
        Called {
            info,
            meter,
            prompt_estimate: counted.unwrap_or(0),
            reply: answer.reply,
        }
    }

    /// The error when nothing answered: the last error a deployment gave,
    /// else 503 naming why every deployment was skipped.
    fn give_up(self) -> AiError {
        if let Some(error) = self.last_error {
            return error;
        }
        AiError::NoDeploymentAvailable {
            model: self.request.model.clone(),
            reasons: self.skipped,
        }
    }
}
