//! [`RedisLedger`]: the usage counters of [`sy_state::LocalLedger`] kept in
//! Redis, so a budget is shared by every node.
//!
//! Keys (`{prefix}:q:{scope}:{measure}:{entity}`, the base):
//! - a windowed counter is an integer at `{base}:{window start ms}`, the
//!   windows those of the local ledger (minute, UTC day, UTC month) read on
//!   the server's clock; it expires [`LedgerOptions::window_grace`] after
//!   its window ends, so a call settling late still finds it;
//! - a concurrency gauge is a sorted set at `{base}` of slot ids scored by
//!   the time their lease expires. A node renews the leases of the slots it
//!   holds every third of a lease; a node that dies stops renewing, and
//!   its slots are pruned by the next reservation once the lease is over.
//!   So a gauge never leaks for longer than a lease, yet a stream may run
//!   for hours.
//!
//! Reservation is one script (`lua/reserve.lua`): every charge or none, the
//! refusal naming the first counter that would pass its limit. Settlement
//! and release go to a background task (`worker.rs`) and are applied in
//! batches. Values are exact integers up to 2^53 (Lua's numbers); limits
//! and amounts above that are treated as 2^53 − 1.

mod worker;

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use redis::Script;
use sy_state::{
    Actual, Charge, CounterId, Held, Metric, QuotaFuture, QuotaLedger, Refusal, Reservation,
    Settlement, Window,
};
use tokio::sync::{mpsc, oneshot};

use crate::backend::{Backend, Throttle, millis};
use crate::{ClusterError, OnError};

use worker::Op;

/// The largest integer Lua's numbers hold exactly.
const EXACT: u64 = (1 << 53) - 1;

/// A refused gauge suggests retrying after this long (as the local ledger).
const GAUGE_RETRY: Duration = Duration::from_secs(1);

static RESERVE: LazyLock<Script> = LazyLock::new(|| with_common(include_str!("lua/reserve.lua")));
static CURRENT: LazyLock<Script> = LazyLock::new(|| with_common(include_str!("lua/current.lua")));

/// A script with the clock, calendar and key helpers in front.
fn with_common(body: &str) -> Script {
    Script::new(&[include_str!("lua/common.lua"), body].concat())
}

/// Tuning of a [`RedisLedger`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerOptions {
    /// How long a concurrency slot outlives its node's last renewal. Nodes
    /// renew every third of it, so it bounds how long a dead node's slots
    /// stay counted, and it must exceed a Redis outage the slots of live
    /// calls should survive (they are added back at the next renewal in
    /// any case). Default 30 s.
    pub lease: Duration,
    /// How long a window's counter is kept after the window ends, so calls
    /// that started in it settle on it. Default 10 minutes.
    pub window_grace: Duration,
    /// Settlements and releases waiting for the background task at most,
    /// and, separately, waiting for Redis to confirm them during an outage;
    /// past that they are dropped (logged): estimates then stay counted and
    /// slots expire with their lease. Unconfirmed ones are also dropped
    /// once older than `window_grace`. Default 8,192.
    pub queue: usize,
    /// Milliseconds added to the server's clock. Zero except in tests,
    /// which place the clock near the end of a window.
    pub clock_shift_ms: i64,
}

impl Default for LedgerOptions {
    fn default() -> Self {
        LedgerOptions {
            lease: Duration::from_secs(30),
            window_grace: Duration::from_secs(600),
            queue: 8192,
            clock_shift_ms: 0,
        }
    }
}

/// A [`QuotaLedger`] whose counters live in Redis, shared by every node
/// using the same Redis and key prefix. Cheap to clone.
///
/// Made by [`crate::Cluster::ledger`]; its background task runs until the
/// ledger and every reservation it made are dropped.
#[derive(Clone)]
pub struct RedisLedger {
    inner: Arc<Inner>,
}

impl fmt::Debug for RedisLedger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLedger")
            .field("prefix", &self.inner.shared.backend.prefix())
            .field("node", &self.inner.shared.node)
            .finish()
    }
}

/// What the ledger and its background task share.
struct Shared {
    backend: Arc<Backend>,
    options: LedgerOptions,
    /// This ledger's part of every slot id: random, so two nodes (or two
    /// ledgers in one test) never hold the same slot.
    node: String,
    seq: AtomicU64,
    /// Slots held by reservations alive on this node, by reservation: the
    /// worker renews their leases. Locked for a map operation only.
    live: Mutex<HashMap<u64, Vec<Slot>>>,
    dropped: Throttle,
    /// Operations the worker holds that Redis has not confirmed yet.
    unsent: AtomicUsize,
}

/// One slot: a member of a gauge's sorted set.
#[derive(Debug, Clone)]
struct Slot {
    key: String,
    member: String,
}

/// The ledger proper; also the [`Settlement`] of reservations holding no
/// slot. It owns the sending side of the worker's queue: the worker ends
/// once it and every reservation are gone.
struct Inner {
    shared: Arc<Shared>,
    ops: mpsc::Sender<Op>,
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLedger").finish_non_exhaustive()
    }
}

/// The [`Settlement`] of a reservation holding slots: releasing it takes
/// its slots out of renewal and off the gauges.
#[derive(Debug)]
struct Lease {
    ledger: Arc<Inner>,
    id: u64,
}

impl RedisLedger {
    pub(crate) fn new(backend: Arc<Backend>, options: LedgerOptions) -> RedisLedger {
        let (tx, rx) = mpsc::channel(options.queue.max(1));
        let shared = Arc::new(Shared {
            backend,
            options,
            node: node_id(),
            seq: AtomicU64::new(0),
            live: Mutex::new(HashMap::new()),
            dropped: Throttle::default(),
            unsent: AtomicUsize::new(0),
        });
        tokio::spawn(worker::run(Arc::clone(&shared), rx));
        RedisLedger {
            inner: Arc::new(Inner { shared, ops: tx }),
        }
    }

    /// The Redis key of `counter` in the window starting at `window_start`
    /// (ignored for a gauge), for operators and tests.
    pub fn key(&self, counter: &CounterId, window_start: u64) -> String {
        let base = self.inner.shared.base(counter);
        match counter.measure.window() {
            Window::Open => base,
            _ => format!("{base}:{window_start}"),
        }
    }

    /// Wait until every settlement and release queued so far has been sent
    /// to Redis, or tried once more if Redis has not confirmed it (those
    /// stay queued for the next retry). For shutdown and tests; requests
    /// never wait.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.inner.ops.send(Op::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }

    /// Settlements and releases held for resending because Redis has not
    /// confirmed them (0 unless Redis is or was unreachable).
    pub fn unsent(&self) -> usize {
        self.inner.shared.unsent.load(Ordering::Relaxed)
    }
}

impl Shared {
    /// Where Redis records the last batch of this ledger it applied.
    fn sent_key(&self) -> String {
        format!("{}:q:sent:{}", self.backend.prefix(), self.node)
    }

    fn base(&self, c: &CounterId) -> String {
        format!(
            "{}:q:{}:{}:{}",
            self.backend.prefix(),
            c.scope.as_str(),
            c.measure.field(),
            c.entity
        )
    }
}

impl Inner {
    async fn reserve(self: &Arc<Self>, charges: &[Charge]) -> Result<Reservation, Refusal> {
        let shared = &self.shared;
        let gauges = charges
            .iter()
            .any(|c| c.counter.measure.window() == Window::Open);
        let id = if gauges {
            shared.seq.fetch_add(1, Ordering::Relaxed)
        } else {
            0
        };
        let slot = format!("{}-{id:x}", shared.node);
        let bases: Vec<String> = charges.iter().map(|c| shared.base(&c.counter)).collect();
        let mut call = RESERVE.prepare_invoke();
        call.arg(shared.options.clock_shift_ms)
            .arg(millis(shared.options.window_grace))
            .arg(millis(shared.options.lease).max(1))
            .arg(&slot)
            .arg(charges.len());
        for (c, base) in charges.iter().zip(&bases) {
            call.arg(base)
                .arg(window_code(c.counter.measure.window()))
                .arg(c.limit.min(EXACT))
                .arg(c.amount.min(EXACT));
        }
        let reply = match shared.backend.run::<Vec<i64>>(&call, "quota reserve").await {
            Ok(reply) => reply,
            Err(_) => return fallback(shared.backend.on_error(), charges),
        };
        match parse(&reply, charges) {
            Some(Ok(held)) => {
                if !gauges {
                    return Ok(Reservation::new(
                        held,
                        Arc::clone(self) as Arc<dyn Settlement>,
                    ));
                }
                let slots = held
                    .iter()
                    .enumerate()
                    .filter(|(_, h)| h.counter.measure.window() == Window::Open)
                    .flat_map(|(i, h)| {
                        let key = &bases[i];
                        let slot = &slot;
                        (1..=h.amount.min(EXACT)).map(move |k| Slot {
                            key: key.clone(),
                            member: format!("{slot}:{}:{k}", i + 1),
                        })
                    })
                    .collect();
                shared
                    .live
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(id, slots);
                let lease = Lease {
                    ledger: Arc::clone(self),
                    id,
                };
                Ok(Reservation::new(held, Arc::new(lease)))
            }
            Some(Err(refusal)) => Err(refusal),
            None => {
                let e = ClusterError::Reply(format!("{reply:?} from the reserve script"));
                shared.backend.failed("quota reserve", &e);
                fallback(shared.backend.on_error(), charges)
            }
        }
    }

    /// Queue `op` without waiting; a full queue drops it (see
    /// [`LedgerOptions::queue`]).
    fn send(&self, op: Op) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.ops.try_send(op) {
            self.shared.backend.warn_throttled(
                &self.shared.dropped,
                "quota settlement queue full: a settlement or release was dropped \
                 (estimates stay counted; slots expire with their lease)",
            );
        }
    }
}

impl Settlement for Inner {
    fn settle(&self, held: &[Held], actual: Actual) {
        for h in held {
            let used = match h.counter.measure.metric() {
                Metric::Tokens => actual.tokens,
                Metric::Spend => actual.spend,
                Metric::Requests | Metric::Concurrency => continue,
            };
            let delta = i128::from(used.min(EXACT)) - i128::from(h.amount.min(EXACT));
            if delta == 0 {
                continue;
            }
            self.send(Op::Adjust {
                key: format!("{}:{}", self.shared.base(&h.counter), h.window_start),
                delta: i64::try_from(delta).unwrap_or_default(),
            });
        }
    }

    fn release(&self, _held: &[Held]) {}
}

impl Settlement for Lease {
    fn settle(&self, held: &[Held], actual: Actual) {
        self.ledger.settle(held, actual);
    }

    fn release(&self, _held: &[Held]) {
        let slots = self
            .ledger
            .shared
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
        for slot in slots.into_iter().flatten() {
            self.ledger.send(Op::Remove(slot));
        }
    }
}

impl QuotaLedger for RedisLedger {
    fn reserve<'a>(&'a self, charges: &'a [Charge]) -> QuotaFuture<'a> {
        if charges.is_empty() {
            return QuotaFuture::Ready(Ok(Reservation::empty()));
        }
        let backend = &self.inner.shared.backend;
        if backend.paused() {
            return QuotaFuture::Ready(fallback(backend.on_error(), charges));
        }
        // An async block does nothing until polled, as the trait requires.
        QuotaFuture::Pending(Box::pin(async move { self.inner.reserve(charges).await }))
    }

    /// Asks Redis, on a blocking connection of its own: the trait is
    /// synchronous and the value is the cluster's, which no cache on this
    /// node knows (other nodes change it). The calling thread waits one
    /// round trip, at most the timeout (and as long again to connect, the
    /// first time); a failure reads as 0. For tests and the admin API,
    /// never the request path.
    fn current(&self, counter: &CounterId) -> u64 {
        let shared = &self.inner.shared;
        let mut call = CURRENT.prepare_invoke();
        call.arg(shared.options.clock_shift_ms)
            .arg(shared.base(counter))
            .arg(window_code(counter.measure.window()));
        shared
            .backend
            .run_blocking::<u64>(&call, "quota read")
            .unwrap_or(0)
    }
}

fn window_code(w: Window) -> &'static str {
    match w {
        Window::Minute => "m",
        Window::Day => "d",
        Window::Month => "M",
        Window::Open => "g",
    }
}

/// The reserve script's answer as the local ledger would give it; `None`
/// for an answer it never sends.
fn parse(reply: &[i64], charges: &[Charge]) -> Option<Result<Vec<Held>, Refusal>> {
    let (&status, rest) = reply.split_first()?;
    let (&now, rest) = rest.split_first()?;
    let now = u64::try_from(now).ok()?;
    let window = |start: i64, end: i64| -> Option<(u64, Option<u64>, Duration)> {
        let start = u64::try_from(start).ok()?;
        if end < 0 {
            return Some((start, None, Duration::ZERO));
        }
        let end = u64::try_from(end).ok()?;
        Some((
            start,
            Some(end),
            Duration::from_millis(end.saturating_sub(now)),
        ))
    };
    if status == 0 {
        let &[index, used, start, end] = rest else {
            return None;
        };
        let c = charges.get(usize::try_from(index).ok()?.checked_sub(1)?)?;
        let (_, resets_at, reset_after) = window(start, end)?;
        let retry_after = if c.amount > c.limit {
            Duration::MAX
        } else if resets_at.is_none() {
            GAUGE_RETRY
        } else {
            reset_after
        };
        return Some(Err(Refusal {
            counter: c.counter.clone(),
            limit: c.limit,
            used: u64::try_from(used).ok()?,
            requested: c.amount,
            resets_at,
            retry_after,
            name: None,
            unavailable: false,
        }));
    }
    if status != 1 || rest.len() != charges.len() * 3 {
        return None;
    }
    let mut held = Vec::with_capacity(charges.len());
    for (c, w) in charges.iter().zip(rest.chunks_exact(3)) {
        let (window_start, resets_at, reset_after) = window(w[0], w[1])?;
        held.push(Held {
            counter: c.counter.clone(),
            window_start,
            limit: c.limit,
            amount: c.amount,
            used: u64::try_from(w[2]).ok()?,
            resets_at,
            reset_after,
        });
    }
    Some(Ok(held))
}

/// The answer when Redis could not decide: nothing held, or a refusal that
/// says the counters could not be read.
fn fallback(on_error: OnError, charges: &[Charge]) -> Result<Reservation, Refusal> {
    match (on_error, charges.first()) {
        (OnError::Deny, Some(c)) => Err(Refusal {
            counter: c.counter.clone(),
            limit: c.limit,
            used: 0,
            requested: c.amount,
            resets_at: None,
            retry_after: Duration::from_secs(1),
            name: None,
            unavailable: true,
        }),
        _ => Ok(Reservation::empty()),
    }
}

/// A random id for this ledger, from the standard library's per-process
/// random hash keys, the time and the process id.
fn node_id() -> String {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    format!("{:016x}", h.finish())
}
