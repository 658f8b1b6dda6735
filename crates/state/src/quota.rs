//! Usage quotas: request, token and spend budgets over fixed windows, and
//! concurrency gauges, enforced by *reserve, then settle*.
//!
//! A counter is named by `(scope, entity, measure)` ([`CounterId`]); a
//! measure is a metric over a window ([`Measure`]): requests per minute,
//! tokens per minute and per UTC day, spend (micro-USD) per UTC day and per
//! UTC calendar month, and requests in flight (a gauge, no window). Windows
//! are fixed: a minute starts on the minute, a day at 00:00 UTC, a month on
//! the 1st at 00:00 UTC.
//!
//! Before a call, [`QuotaLedger::reserve`] takes an estimate on every
//! applicable counter, all or none; after it, [`Reservation::settle`]
//! replaces the estimate with what was used. Usage can pass a limit only
//! when actual usage exceeds its estimate, so concurrent calls never
//! overshoot a budget by more than their estimation error.
//!
//! The in-memory implementation is [`crate::LocalLedger`]; a Redis one
//! (`sy-cluster`) replaces it for a cluster without callers changing: like
//! [`crate::RateLimiter`], `reserve` answers [`QuotaFuture::Ready`] when it
//! can decide without I/O, so in-memory calls never allocate a future.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

mod calendar;
mod local;

pub use calendar::{format_duration, format_rfc3339, unix_ms, window_bounds};
pub use local::{DEFAULT_MAX_COUNTERS, LocalLedger, SavedCounter};

/// Who a counter belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// One API key.
    Key,
    /// One consumer (all its keys).
    Consumer,
    /// One tenant (all its consumers).
    Tenant,
    /// One route (every caller).
    Route,
    /// One public model name (every caller).
    Model,
}

impl Scope {
    /// The scope named by [`Scope::as_str`].
    pub fn parse(word: &str) -> Option<Scope> {
        [
            Scope::Key,
            Scope::Consumer,
            Scope::Tenant,
            Scope::Route,
            Scope::Model,
        ]
        .into_iter()
        .find(|s| s.as_str() == word)
    }

    /// The lower-case word used in messages, metrics and store keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Key => "key",
            Scope::Consumer => "consumer",
            Scope::Tenant => "tenant",
            Scope::Route => "route",
            Scope::Model => "model",
        }
    }
}

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// Requests started.
    Requests,
    /// Prompt plus completion tokens.
    Tokens,
    /// Micro-USD of model usage.
    Spend,
    /// Requests in flight (a gauge).
    Concurrency,
}

/// The fixed window a counter is kept over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Window {
    /// From second 0 of a minute to the next.
    Minute,
    /// From 00:00 UTC to the next midnight.
    Day,
    /// From the 1st at 00:00 UTC to the 1st of the next month.
    Month,
    /// No window: a gauge that goes up and down.
    Open,
}

/// A metric over a window: one field of `LimitsSpec`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Measure {
    /// `requests_per_minute`.
    RequestsPerMinute,
    /// `tokens_per_minute`.
    TokensPerMinute,
    /// `tokens_per_day`.
    TokensPerDay,
    /// `spend_per_day` (micro-USD).
    SpendPerDay,
    /// `spend_per_month` (micro-USD).
    SpendPerMonth,
    /// `concurrent_requests`.
    Concurrent,
}

impl Measure {
    /// Every measure, in the order limits are checked and reported.
    pub const ALL: [Measure; 6] = [
        Measure::Concurrent,
        Measure::RequestsPerMinute,
        Measure::TokensPerMinute,
        Measure::TokensPerDay,
        Measure::SpendPerDay,
        Measure::SpendPerMonth,
    ];

    /// What it counts.
    pub fn metric(self) -> Metric {
        match self {
            Measure::RequestsPerMinute => Metric::Requests,
            Measure::TokensPerMinute | Measure::TokensPerDay => Metric::Tokens,
            Measure::SpendPerDay | Measure::SpendPerMonth => Metric::Spend,
            Measure::Concurrent => Metric::Concurrency,
        }
    }

    /// Over which window.
    pub fn window(self) -> Window {
        match self {
            Measure::RequestsPerMinute | Measure::TokensPerMinute => Window::Minute,
            Measure::TokensPerDay | Measure::SpendPerDay => Window::Day,
            Measure::SpendPerMonth => Window::Month,
            Measure::Concurrent => Window::Open,
        }
    }

    /// Words for messages: `spend per day`.
    pub fn describe(self) -> &'static str {
        match self {
            Measure::RequestsPerMinute => "requests per minute",
            Measure::TokensPerMinute => "tokens per minute",
            Measure::TokensPerDay => "tokens per day",
            Measure::SpendPerDay => "spend per day",
            Measure::SpendPerMonth => "spend per month",
            Measure::Concurrent => "concurrent requests",
        }
    }

    /// The measure named by [`Measure::field`].
    pub fn from_field(field: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.field() == field)
    }

    /// The `LimitsSpec` field name (`spend_per_day`), for store keys and
    /// machine-readable bodies.
    pub fn field(self) -> &'static str {
        match self {
            Measure::RequestsPerMinute => "requests_per_minute",
            Measure::TokensPerMinute => "tokens_per_minute",
            Measure::TokensPerDay => "tokens_per_day",
            Measure::SpendPerDay => "spend_per_day",
            Measure::SpendPerMonth => "spend_per_month",
            Measure::Concurrent => "concurrent_requests",
        }
    }

    /// An amount of this measure for people: `$4.98` for spend, the plain
    /// number otherwise.
    pub fn amount(self, value: u64) -> String {
        match self.metric() {
            Metric::Spend => format_usd(value),
            _ => value.to_string(),
        }
    }
}

/// Micro-USD as dollars with at least two decimals: `$5.00`, `$0.000150`.
pub fn format_usd(micros: u64) -> String {
    let whole = micros / 1_000_000;
    let frac = micros % 1_000_000;
    let mut digits = format!("{frac:06}");
    while digits.len() > 2 && digits.ends_with('0') {
        digits.pop();
    }
    format!("${whole}.{digits}")
}

/// The name of one counter. Cheap to clone (the entity is shared).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CounterId {
    /// Who it belongs to.
    pub scope: Scope,
    /// The entity's id within the scope (key id, consumer id, tenant id,
    /// route name, model name).
    pub entity: Arc<str>,
    /// What it counts over which window.
    pub measure: Measure,
}

impl fmt::Display for CounterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:?} {}",
            self.scope.as_str(),
            &*self.entity,
            self.measure.describe()
        )
    }
}

/// One amount to take from one counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// Which counter.
    pub counter: CounterId,
    /// Its limit: usage (reservations included) may not pass it.
    pub limit: u64,
    /// How much to reserve (1 for requests and concurrency; the estimate
    /// for tokens and spend).
    pub amount: u64,
}

/// What a call actually used, for [`Reservation::settle`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Actual {
    /// Prompt plus completion tokens.
    pub tokens: u64,
    /// Micro-USD.
    pub spend: u64,
}

/// Why a reservation was refused: the first counter that would have passed
/// its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The counter.
    pub counter: CounterId,
    /// Its limit.
    pub limit: u64,
    /// Used plus reserved in the current window (in flight, for a gauge).
    pub used: u64,
    /// What this request asked for.
    pub requested: u64,
    /// When the window ends, in Unix milliseconds (`None` for a gauge).
    pub resets_at: Option<u64>,
    /// Time until the window ends; for a gauge, a short hint (a slot frees
    /// when a request in flight ends). [`Duration::MAX`] when the request
    /// can never fit (it alone is over the limit).
    pub retry_after: Duration,
    /// A display name for the entity, when its id is not one (a consumer
    /// known by a generated id); messages use it instead of the id.
    pub name: Option<Arc<str>>,
    /// The counter could not be read (a shared store that did not answer,
    /// with the ledger set to refuse then): `used` means nothing, and the
    /// message says so rather than inventing usage.
    pub unavailable: bool,
}

impl Refusal {
    /// Whether waiting for the window to roll over cannot help.
    pub fn never_fits(&self) -> bool {
        !self.unavailable && self.requested > self.limit
    }
}

impl fmt::Display for Refusal {
    /// `tenant "acme" spend per day limit of $5.00 reached: $4.98 used;
    /// resets at 2026-11-24T00:00:00Z (in 3h12m)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.counter;
        let m = c.measure;
        write!(
            f,
            "{} {:?} {} limit of {}",
            c.scope.as_str(),
            self.name.as_deref().unwrap_or(&c.entity),
            m.describe(),
            m.amount(self.limit)
        )?;
        if self.unavailable {
            return f.write_str(" could not be checked: the shared quota store is unavailable");
        }
        if self.never_fits() {
            return write!(
                f,
                " is smaller than this request's estimate of {}",
                m.amount(self.requested)
            );
        }
        if m.metric() == Metric::Concurrency {
            return write!(
                f,
                " reached: {} in flight; a slot frees when one of them ends",
                self.used
            );
        }
        if self.used >= self.limit {
            write!(f, " reached: {} used", m.amount(self.used))?;
        } else {
            write!(
                f,
                " would be passed: {} used, this request needs up to {}",
                m.amount(self.used),
                m.amount(self.requested)
            )?;
        }
        if let Some(at) = self.resets_at {
            write!(
                f,
                "; resets at {} (in {})",
                format_rfc3339(at / 1000),
                format_duration(self.retry_after)
            )?;
        }
        Ok(())
    }
}

/// One counter a reservation holds an amount on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The counter.
    pub counter: CounterId,
    /// Start of the window the amount was taken in, Unix milliseconds (0
    /// for a gauge); settlement corrects that window, even after it ended.
    pub window_start: u64,
    /// The limit checked.
    pub limit: u64,
    /// The amount reserved.
    pub amount: u64,
    /// The counter's value right after this reservation.
    pub used: u64,
    /// When the window ends, Unix milliseconds (`None` for a gauge).
    pub resets_at: Option<u64>,
    /// Time from the reservation to the end of the window (zero for a
    /// gauge).
    pub reset_after: Duration,
}

impl Held {
    /// What is left under the limit right after the reservation.
    pub fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.used)
    }
}

/// Where a reservation goes when it is settled or dropped: the ledger that
/// made it. Neither call waits: a remote implementation sends them in the
/// background.
pub trait Settlement: Send + Sync + fmt::Debug {
    /// Replace the reserved tokens and spend of `held` by `actual`.
    fn settle(&self, held: &[Held], actual: Actual);

    /// The reservation is gone: release its concurrency slots.
    fn release(&self, held: &[Held]);
}

/// Amounts taken on every counter of one request. Settle it once with
/// [`settle`](Self::settle); a reservation dropped unsettled keeps its
/// reserved tokens and spend as used (the conservative choice for a call
/// whose usage is unknown). Concurrency slots are held until it is dropped,
/// settled or not.
#[derive(Debug)]
pub struct Reservation {
    held: Vec<Held>,
    sink: Option<Arc<dyn Settlement>>,
    settled: AtomicBool,
}

impl Reservation {
    /// A reservation of `held` that `sink` settles.
    pub fn new(held: Vec<Held>, sink: Arc<dyn Settlement>) -> Reservation {
        Reservation {
            held,
            sink: Some(sink),
            settled: AtomicBool::new(false),
        }
    }

    /// A reservation holding nothing (no limit applied).
    pub fn empty() -> Reservation {
        Reservation {
            held: Vec::new(),
            sink: None,
            settled: AtomicBool::new(true),
        }
    }

    /// The counters held, in the order they were charged.
    pub fn held(&self) -> &[Held] {
        &self.held
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Replace the reserved tokens and spend with `actual` (which may be
    /// more: it is recorded, and is the only way usage passes a limit).
    /// Only the first settlement counts. Concurrency stays held until the
    /// reservation is dropped.
    pub fn settle(&self, actual: Actual) {
        if self.settled.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Some(sink) = &self.sink {
            sink.settle(&self.held, actual);
        }
    }

    /// Whether [`settle`](Self::settle) ran.
    pub fn is_settled(&self) -> bool {
        self.settled.load(Ordering::Acquire)
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(sink) = &self.sink {
            sink.release(&self.held);
        }
    }
}

/// The result of [`QuotaLedger::reserve`]: ready at once for in-memory
/// state, a future for a remote store.
pub enum QuotaFuture<'a> {
    /// Decided synchronously.
    Ready(Result<Reservation, Refusal>),
    /// Decided later (e.g. a Redis round trip).
    Pending(Pin<Box<dyn Future<Output = Result<Reservation, Refusal>> + Send + 'a>>),
}

impl Future for QuotaFuture<'_> {
    type Output = Result<Reservation, Refusal>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            QuotaFuture::Ready(r) => Poll::Ready(std::mem::replace(r, Ok(Reservation::empty()))),
            QuotaFuture::Pending(f) => f.as_mut().poll(cx),
        }
    }
}

/// Quota state shared by all requests of a node (or a cluster).
pub trait QuotaLedger: Send + Sync + fmt::Debug {
    /// Take every charge, or none: when one would pass its limit, nothing is
    /// taken and the refusal names the first such counter. An empty list is
    /// an empty reservation.
    ///
    /// Contract: a [`QuotaFuture::Pending`] does no work until first polled.
    fn reserve<'a>(&'a self, charges: &'a [Charge]) -> QuotaFuture<'a>;

    /// The counter's current value (used plus reserved) in the window open
    /// now; for a gauge, what is in flight. For tests and the admin API.
    fn current(&self, counter: &CounterId) -> u64;
}
