//! `POST /v1/embeddings`.
//!
//! Parse → find the model (honouring the route's allow-list) → walk its
//! deployments in the order of its routing strategy, skipping those
//! cooling down or at their `rpm` limit, failing over on 429, 5xx and
//! timeouts (with the model's retries and back-off), then to its
//! `fallbacks` models; client errors (400-404, a provider without
//! embeddings) end the walk → stamp the public model name, convert vectors
//! to base64 when asked → usage and cost into [`AiCallInfo`].
//!
//! Simpler than chat's loop ([`super::upstream`]): no context-window or
//! `tpm` checks, as an embeddings call has no completion to cap.

use std::collections::VecDeque;

use http::{Response, StatusCode};
use sy_core::TokenUsage;
use sy_http::Body;
use sy_http::SetField;
use sy_llm::embeddings::EmbeddingsRequest;
use sy_llm::openai;
use sy_providers::ProviderErrorKind;
use tokio::time::Instant;

use super::upstream;
use crate::providers::EmbeddingsReply;
use crate::registry::{Deployment, Model};
use crate::router::strategy;
use crate::{AiCallInfo, AiError, AiGateway, CallTrace, Caller, respond};

pub(crate) async fn handle(
    gateway: &AiGateway,
    allowed: &Caller<'_>,
    body: &[u8],
) -> Result<Response<Body>, AiError> {
    let (request, source) = openai::parse_embeddings_request_with_source(body)?;
    let asked = allowed.model(&gateway.registry, &request.model)?;
    // Token, spend and model limits, like chat: the input is reserved
    // before the call and settled to the provider's count after.
    let quota = crate::quota::reserve_with(gateway, allowed, asked, || {
        crate::quota::estimate_embeddings(&gateway.registry, asked, &request)
    })
    .await?;
    let (model, deployment, answer, walk) = match call(gateway, asked, &request, source).await {
        Ok(called) => called,
        Err(e) => {
            quota.release();
            return Err(e);
        }
    };

    let mut info = AiCallInfo::new(request.model.clone(), deployment.label());
    info.attempts = walk.attempts;
    info.fallback = (model.name != request.model).then(|| model.name.clone());
    info.failovers = walk.failovers;
    let tokens = TokenUsage {
        prompt: answer.usage().prompt_tokens,
        ..TokenUsage::default()
    };
    let _ = info.usage.set(tokens);
    if let Some(price) = &deployment.price {
        let _ = info.cost.set(price.cost(&tokens));
    }
    quota.settle(&tokens, info.cost.get().map_or(0, |c| c.micros()));

    let mut response = match answer {
        EmbeddingsReply::Json(json) => {
            respond::json_bytes(StatusCode::OK, json.stamped(&request.model))
        }
        EmbeddingsReply::Decoded(mut answer) => {
            answer.model.clone_from(&request.model);
            if request.wants_base64() {
                answer.encode_base64();
            }
            respond::json(StatusCode::OK, &answer)
        }
    };
    response.set_number(&respond::names::PROMPT_TOKENS, tokens.prompt);
    if let Some(cost) = info.cost.get() {
        response.set_field(&respond::names::COST, &[cost.to_string().as_bytes()]);
    }
    info.quota = quota;
    upstream::set_call_headers(&mut response, &info);
    response.extensions_mut().insert(info);
    Ok(response)
}

/// Calls made and deployments passed over.
#[derive(Default)]
struct Walk {
    attempts: u32,
    failovers: Vec<String>,
    skipped: Vec<String>,
    /// Deployments skipped only because they were cooling down.
    cooled: u32,
    last_error: Option<AiError>,
    /// The deployment that failed last (`<provider>/<model>`) and its
    /// model's name: the one whose error is returned.
    last_deployment: Option<(String, String)>,
}

/// Walk the asked model and its fallbacks until a deployment answers.
async fn call<'g>(
    gateway: &'g AiGateway,
    asked: &'g Model,
    request: &EmbeddingsRequest,
    source: Option<&[u8]>,
) -> Result<(&'g Model, &'g Deployment, EmbeddingsReply, Walk), AiError> {
    let mut walk = Walk::default();
    // As for chat: cool-downs steer traffic but never make a model
    // unanswerable; when nothing was called because everything was
    // cooling down, a second pass ignores cool-downs.
    for ignore_cooldown in [false, true] {
        if ignore_cooldown {
            if walk.attempts > 0 || walk.cooled == 0 {
                break;
            }
            walk.skipped.clear();
        }
        if let Some(done) = pass(gateway, asked, request, source, &mut walk, ignore_cooldown).await
        {
            return match done {
                Ok((m, d, answer)) => Ok((m, d, answer, walk)),
                Err(error) => Err(error.routed(CallTrace::new(
                    walk.attempts,
                    walk.last_deployment.take(),
                    &request.model,
                ))),
            };
        }
    }
    let trace = CallTrace::new(walk.attempts, walk.last_deployment.take(), &request.model);
    let error = match walk.last_error {
        Some(error) => error,
        None => AiError::NoDeploymentAvailable {
            model: request.model.clone(),
            reasons: walk.skipped,
        },
    };
    Err(error.routed(trace))
}

type Answered<'g> = (&'g Model, &'g Deployment, EmbeddingsReply);

/// One walk through the asked model and its fallbacks; `None` when every
/// option failed or was skipped.
async fn pass<'g>(
    gateway: &'g AiGateway,
    asked: &'g Model,
    request: &EmbeddingsRequest,
    source: Option<&[u8]>,
    walk: &mut Walk,
    ignore_cooldown: bool,
) -> Option<Result<Answered<'g>, AiError>> {
    let mut queue: VecDeque<&Model> = VecDeque::from([asked]);
    let mut visited: Vec<&str> = Vec::new();
    while let Some(model) = queue.pop_front() {
        if visited.contains(&model.name.as_str()) {
            continue;
        }
        visited.push(&model.name);
        for i in strategy::rank(model.routing.strategy, &model.deployments, &[]) {
            let Some(d) = model.deployments.get(i) else {
                continue;
            };
            if let Some(left) = d.state.cooling_down().filter(|_| !ignore_cooldown) {
                walk.cooled += 1;
                let why = format!(
                    "{}: cooling down ({}s left)",
                    d.label(),
                    left.as_secs().max(1)
                );
                walk.failovers.push(why.clone());
                walk.skipped.push(why);
                continue;
            }
            if !d.state.try_request(d.rpm) {
                let why = format!("{}: at its rpm limit", d.label());
                walk.failovers.push(why.clone());
                walk.skipped.push(why);
                continue;
            }
            match call_deployment(model, d, request, source, walk).await {
                Ok(answer) => return Some(Ok((model, d, answer))),
                Err(Some(fatal)) => return Some(Err(fatal)),
                Err(None) => {}
            }
        }
        queue.extend(
            model
                .routing
                .fallbacks
                .iter()
                .filter_map(|name| gateway.registry.model(name)),
        );
    }
    None
}

/// One deployment with its retries. `Err(None)`: fail over;
/// `Err(Some(_))`: give the error to the client.
async fn call_deployment(
    model: &Model,
    d: &Deployment,
    request: &EmbeddingsRequest,
    source: Option<&[u8]>,
    walk: &mut Walk,
) -> Result<EmbeddingsReply, Option<AiError>> {
    let routing = &model.routing;
    let mut retry = 0;
    loop {
        if retry > 0 {
            tokio::time::sleep(routing.backoff(retry)).await;
        }
        walk.attempts += 1;
        let in_flight = d.state.enter();
        let started = Instant::now();
        let call = d
            .provider
            .embeddings(request, source, &d.model, &d.provider_name);
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
        drop(in_flight);
        let error = match result {
            Ok(answer) => {
                d.state.record_success(started.elapsed());
                return Ok(answer);
            }
            Err(error) => error,
        };
        let label = d.label();
        walk.failovers.push(format!(
            "{label}: {} {}",
            error.status().as_u16(),
            error.reason()
        ));
        walk.last_deployment = Some((label.to_owned(), model.name.clone()));
        let (retryable, rate_limited, retry_after) = match &error {
            AiError::Provider {
                kind, retry_after, ..
            } => (
                kind.is_retryable(),
                *kind == ProviderErrorKind::RateLimit,
                *retry_after,
            ),
            _ => (false, false, None),
        };
        if !retryable {
            return Err(Some(error));
        }
        walk.last_error = Some(error);
        d.state.record_failure(&routing.cooldown, retry_after);
        if rate_limited || retry >= routing.retries.attempts {
            return Err(None);
        }
        retry += 1;
    }
}
