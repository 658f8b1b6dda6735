//! Usage limits on requests: `requests_per_minute` and
//! `concurrent_requests` of the route (`RouteSpec.limits`, every caller)
//! and of the caller's key, consumer and tenant (`Grants.limits`), counted
//! in the shared [`QuotaLedger`]. Token and spend limits, and model limits,
//! need the model and the prompt: the AI endpoint reserves those itself,
//! with the helpers here ([`push_charges`], [`RateLimitHeaders`]).
//!
//! Every applicable counter is reserved at once, all or none. The
//! reservation rides in the request's context extensions, which the proxy
//! keeps until the response body ends or is dropped: that is when the
//! concurrency slots free (a stream counts until it ends).
//!
//! The `x-ratelimit-*` headers (OpenAI's names and formats) report the
//! tightest request and token counters; the AI endpoint merges in its own
//! counters, so this policy writes them only when the response lacks them.

use std::sync::Arc;
use std::time::Duration;

use http::header::HeaderName;
use sy_config::LimitsSpec;
use sy_http::{SetField, has_any_field};
use sy_state::quota::format_duration;
use sy_state::{
    Charge, CounterId, Held, Measure, Metric, QuotaFuture, QuotaLedger, Refusal, Reservation, Scope,
};

use crate::consumer::{Consumer, LimitScope};
use crate::context::RequestContext;
use crate::error::PolicyError;
use crate::policy::{Flow, Order, Policy, Step};

/// `x-ratelimit-limit-requests`: the request limit of the tightest counter.
pub const X_RATELIMIT_LIMIT_REQUESTS: HeaderName =
    HeaderName::from_static("x-ratelimit-limit-requests");
/// `x-ratelimit-remaining-requests`.
pub const X_RATELIMIT_REMAINING_REQUESTS: HeaderName =
    HeaderName::from_static("x-ratelimit-remaining-requests");
/// `x-ratelimit-reset-requests`: time until that counter's window ends
/// (`1s`, `6m0s`).
pub const X_RATELIMIT_RESET_REQUESTS: HeaderName =
    HeaderName::from_static("x-ratelimit-reset-requests");
/// `x-ratelimit-limit-tokens`: the token limit of the tightest counter.
pub const X_RATELIMIT_LIMIT_TOKENS: HeaderName =
    HeaderName::from_static("x-ratelimit-limit-tokens");
/// `x-ratelimit-remaining-tokens`.
pub const X_RATELIMIT_REMAINING_TOKENS: HeaderName =
    HeaderName::from_static("x-ratelimit-remaining-tokens");
/// `x-ratelimit-reset-tokens`.
pub const X_RATELIMIT_RESET_TOKENS: HeaderName =
    HeaderName::from_static("x-ratelimit-reset-tokens");

impl From<LimitScope> for Scope {
    fn from(s: LimitScope) -> Scope {
        match s {
            LimitScope::Key => Scope::Key,
            LimitScope::Consumer => Scope::Consumer,
            LimitScope::Tenant => Scope::Tenant,
            LimitScope::Route => Scope::Route,
            LimitScope::Model => Scope::Model,
        }
    }
}

/// The limit `limits` sets on `measure`, if any (spend in micro-USD; a
/// negative amount, refused by validation, counts as zero).
pub fn limit_of(limits: &LimitsSpec, measure: Measure) -> Option<u64> {
    let spend = |usd: Option<sy_config::Usd>| usd.map(|u| u64::try_from(u.micros()).unwrap_or(0));
    match measure {
        Measure::RequestsPerMinute => limits.requests_per_minute,
        Measure::TokensPerMinute => limits.tokens_per_minute,
        Measure::TokensPerDay => limits.tokens_per_day,
        Measure::SpendPerDay => spend(limits.spend_per_day),
        Measure::SpendPerMonth => spend(limits.spend_per_month),
        Measure::Concurrent => limits.concurrent_requests,
    }
}

/// Append a charge for every measure `limits` limits and `amount` prices
/// (`None`: not charged here), on the counters of `(scope, entity)`.
pub fn push_charges(
    out: &mut Vec<Charge>,
    scope: Scope,
    entity: &Arc<str>,
    limits: &LimitsSpec,
    amount: impl Fn(Measure) -> Option<u64>,
) {
    for measure in Measure::ALL {
        let (Some(limit), Some(amount)) = (limit_of(limits, measure), amount(measure)) else {
            continue;
        };
        out.push(Charge {
            counter: CounterId {
                scope,
                entity: Arc::clone(entity),
                measure,
            },
            limit,
            amount,
        });
    }
}

/// One counter as the headers show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gauge {
    /// The limit.
    pub limit: u64,
    /// What is left of it.
    pub remaining: u64,
    /// Time until the window ends.
    pub reset_after: Duration,
}

impl Gauge {
    /// Whether `self` is tighter: less left, or as little left for longer.
    fn tighter_than(&self, other: &Gauge) -> bool {
        (self.remaining, std::cmp::Reverse(self.reset_after))
            < (other.remaining, std::cmp::Reverse(other.reset_after))
    }
}

/// The `x-ratelimit-*` values of a request: the tightest requests-per-minute
/// counter and the tightest token counter among every reservation made for
/// it. Kept in the context extensions so the AI endpoint can merge its
/// own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimitHeaders {
    /// `x-ratelimit-*-requests`.
    pub requests: Option<Gauge>,
    /// `x-ratelimit-*-tokens`.
    pub tokens: Option<Gauge>,
}

impl RateLimitHeaders {
    /// Fold in the counters of a reservation.
    pub fn fold(&mut self, held: &[Held]) {
        for h in held {
            self.offer(
                h.counter.measure,
                Gauge {
                    limit: h.limit,
                    remaining: h.remaining(),
                    reset_after: h.reset_after,
                },
            );
        }
    }

    /// Fold in a refused counter (nothing left of it).
    pub fn refused(&mut self, r: &Refusal) {
        let reset_after = if r.never_fits() {
            Duration::ZERO
        } else {
            r.retry_after
        };
        self.offer(
            r.counter.measure,
            Gauge {
                limit: r.limit,
                remaining: r.limit.saturating_sub(r.used),
                reset_after,
            },
        );
    }

    fn offer(&mut self, measure: Measure, gauge: Gauge) {
        let slot = match measure {
            Measure::RequestsPerMinute => &mut self.requests,
            Measure::TokensPerMinute | Measure::TokensPerDay => &mut self.tokens,
            _ => return,
        };
        if slot.is_none_or(|s| gauge.tighter_than(&s)) {
            *slot = Some(gauge);
        }
    }

    /// Whether there is nothing to report.
    pub fn is_empty(&self) -> bool {
        self.requests.is_none() && self.tokens.is_none()
    }

    /// Write the headers (replacing same-named ones).
    pub fn write<F: SetField + ?Sized>(&self, h: &mut F) {
        let pairs = [
            (
                self.requests,
                [
                    X_RATELIMIT_LIMIT_REQUESTS,
                    X_RATELIMIT_REMAINING_REQUESTS,
                    X_RATELIMIT_RESET_REQUESTS,
                ],
            ),
            (
                self.tokens,
                [
                    X_RATELIMIT_LIMIT_TOKENS,
                    X_RATELIMIT_REMAINING_TOKENS,
                    X_RATELIMIT_RESET_TOKENS,
                ],
            ),
        ];
        for (gauge, [limit, remaining, reset]) in pairs {
            let Some(g) = gauge else { continue };
            h.set_number(&limit, g.limit);
            h.set_number(&remaining, g.remaining);
            h.set_field(&reset, &[format_duration(g.reset_after).as_bytes()]);
        }
    }
}

/// A refused quota, as a policy error: the message names the limit
/// (`tenant "acme" spend per day limit of $5.00 reached: …`), the headers
/// carry `Retry-After` and `x-ratelimit-*`.
pub fn refusal_error(refusal: Refusal, mut headers: RateLimitHeaders) -> PolicyError {
    headers.refused(&refusal);
    PolicyError::QuotaExceeded {
        refusal: Box::new(refusal),
        headers,
    }
}

/// Give `refusal` the caller's display name when the refused counter is
/// the caller's consumer (known to counters by its id).
pub fn name_refusal(refusal: &mut Refusal, consumer: Option<&Consumer>) {
    let Some(c) = consumer else { return };
    let counter = &refusal.counter;
    if counter.scope == Scope::Consumer && counter.entity == c.id && c.name != c.id {
        refusal.name = Some(Arc::clone(&c.name));
    }
}

/// The reservation of a request, kept in the context's extensions (and so
/// until the response body ends). Shared because extensions are cloneable.
#[derive(Debug, Clone)]
struct Hold(#[expect(dead_code, reason = "held only to be dropped at body end")] Arc<Reservation>);

/// Request and concurrency limits of a route and of its callers.
#[derive(Debug, Clone)]
pub struct QuotaPolicy {
    route: Arc<str>,
    limits: LimitsSpec,
    ledger: Arc<dyn QuotaLedger>,
}

impl QuotaPolicy {
    /// Limits of `route` (its own `limits`; callers' limits come with their
    /// consumer at request time), counted in `ledger`.
    pub fn new(route: &str, limits: &LimitsSpec, ledger: Arc<dyn QuotaLedger>) -> Self {
        QuotaPolicy {
            route: Arc::from(route),
            limits: limits.clone(),
            ledger,
        }
    }

    fn charges(&self, ctx: &RequestContext) -> Vec<Charge> {
        let one =
            |m: Measure| matches!(m.metric(), Metric::Requests | Metric::Concurrency).then_some(1);
        let mut out = Vec::new();
        if let Some(consumer) = &ctx.consumer {
            for set in &consumer.grants.limits {
                push_charges(&mut out, set.scope.into(), &set.id, &set.limits, one);
            }
        }
        push_charges(&mut out, Scope::Route, &self.route, &self.limits, one);
        out
    }
}

fn granted(ctx: &mut RequestContext, reservation: Reservation) -> Flow {
    let mut headers = ctx
        .extensions
        .get::<RateLimitHeaders>()
        .copied()
        .unwrap_or_default();
    headers.fold(reservation.held());
    ctx.extensions.insert(headers);
    ctx.extensions.insert(Hold(Arc::new(reservation)));
    Flow::Continue
}

fn refused(ctx: &RequestContext, mut refusal: Refusal) -> PolicyError {
    name_refusal(&mut refusal, ctx.consumer.as_ref());
    let headers = ctx
        .extensions
        .get::<RateLimitHeaders>()
        .copied()
        .unwrap_or_default();
    refusal_error(refusal, headers)
}

impl Policy for QuotaPolicy {
    fn name(&self) -> &'static str {
        "quota"
    }

    fn order(&self) -> Order {
        Order::Limits
    }

    /// The rate-limit fields are set and looked for through
    /// `SetField` and `has_any_field`, wherever the answer keeps them.
    fn reads_response(&self) -> bool {
        false
    }

    fn on_request<'a>(
        &'a self,
        _req: &'a mut http::request::Parts,
        ctx: &'a mut RequestContext,
    ) -> Step<'a> {
        let charges = self.charges(ctx);
        if charges.is_empty() {
            return Step::next();
        }
        // In-memory ledgers answer at once: no future is allocated.
        match self.ledger.reserve(&charges) {
            QuotaFuture::Ready(Ok(r)) => Step::Ready(Ok(granted(ctx, r))),
            QuotaFuture::Ready(Err(refusal)) => Step::Ready(Err(refused(ctx, refusal))),
            QuotaFuture::Pending(_) => Step::Pending(Box::pin(async move {
                let charges = self.charges(ctx);
                match self.ledger.reserve(&charges).await {
                    Ok(r) => Ok(granted(ctx, r)),
                    Err(refusal) => Err(refused(ctx, refusal)),
                }
            })),
        }
    }

    fn on_response(&self, res: &mut http::response::Parts, ctx: &RequestContext) {
        if has_any_field(res, &[X_RATELIMIT_LIMIT_REQUESTS, X_RATELIMIT_LIMIT_TOKENS]) {
            return;
        }
        if let Some(h) = ctx.extensions.get::<RateLimitHeaders>() {
            h.write(res);
        }
    }
}

#[cfg(test)]
mod tests;
