//! [`LocalLedger`]: the in-memory [`QuotaLedger`] for a single node.
//!
//! Counters live in a sharded map ([`DashMap`]) keyed by counter and window
//! start; each value is a shared atomic. A reservation keeps the counters it
//! took from, so settling and releasing it go to them directly, never to a
//! counter made later under the same key. A reservation takes its charges one by
//! one with a compare-and-swap that never lets a counter pass its limit,
//! and gives back what it took if a later charge is refused. No lock is
//! held across two counters or an `.await`, so there is no global lock and
//! no lock-order deadlock; the price is that a request racing with a
//! refused one may briefly see the refused amounts and be refused too (a
//! conservative refusal, never an overshoot).
//!
//! Time: Unix milliseconds = an origin read once from the system clock (or
//! injected, [`LocalLedger::with_origin`]) plus the [`tokio::time::Instant`]
//! elapsed since, so paused-time tests drive the windows and calendar
//! boundaries can be placed where a test needs them.
//!
//! Memory: a window's counter is dropped by [`LocalLedger::sweep`] once the
//! window has ended, a gauge once it is back to zero; a counter cap stops
//! growth between sweeps.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dashmap::DashMap;
use tokio::time::Instant;

use super::{
    Actual, Charge, CounterId, Held, Metric, QuotaFuture, QuotaLedger, Refusal, Reservation,
    Settlement, Window, window_bounds,
};

/// Default counter cap (about 150 bytes each: some 40 MiB at most).
pub const DEFAULT_MAX_COUNTERS: usize = 262_144;

/// Shortest gap between two sweeps forced by the cap.
const FORCED_SWEEP_EVERY: Duration = Duration::from_secs(1);

/// A refused gauge suggests retrying after this long.
const GAUGE_RETRY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    counter: CounterId,
    /// Window start, Unix ms (0 for gauges).
    start: u64,
}

/// Two writes instead of the derived five: every call hashes a key per
/// counter for its reservation and again for its settlement. The window
/// start (Unix ms, under 2^42 for the next century) leaves the top bytes
/// free for the scope and measure; the entity, the only field of varying
/// length, goes last.
impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let c = &self.counter;
        state.write_u64(self.start ^ ((c.scope as u64) << 56) ^ ((c.measure as u64) << 48));
        state.write(c.entity.as_bytes());
    }
}

/// Shared with the reservations that hold an amount on it, so that
/// settling and releasing go straight to the counter instead of finding it
/// again (a hash and a sharded-map lookup per counter, twice per call).
#[derive(Debug)]
struct Cell {
    used: AtomicU64,
    /// Window end, Unix ms; `u64::MAX` for gauges.
    end: u64,
}

/// Counter keys are ids from the configuration and the store (consumers,
/// tenants, keys, routes, models), never text a client picks, and every
/// call looks up several of them: a fast keyed hash rather than SipHash
/// (~4× fewer instructions per lookup).
type Hasher = foldhash::quality::RandomState;

#[derive(Debug)]
struct Inner {
    cells: DashMap<Key, Arc<Cell>, Hasher>,
    /// Kept beside the map because `DashMap::len` locks every shard.
    len: AtomicUsize,
    max: usize,
    epoch: Instant,
    origin_ms: u64,
    last_forced_sweep: AtomicU64,
    overflows: AtomicU64,
}

/// In-memory quota ledger for one node. Cheap to clone (shared state);
/// call [`sweep`](Self::sweep) every few seconds from a background task.
///
/// When the counter cap is reached and a sweep frees nothing, a charge on a
/// new counter is allowed without being remembered (fail open, as
/// [`crate::LocalLimiter`]); [`overflows`](Self::overflows) counts these.
/// Counters are in memory; [`saved_counters`](Self::saved_counters) and
/// [`restore`](Self::restore) carry day and month windows across a restart
/// (the binary saves them to the store).
#[derive(Debug, Clone)]
pub struct LocalLedger {
    inner: Arc<Inner>,
}

impl Default for LocalLedger {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalLedger {
    /// A ledger on the system clock with [`DEFAULT_MAX_COUNTERS`].
    pub fn new() -> Self {
        let origin = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Self::with_origin(origin, DEFAULT_MAX_COUNTERS)
    }

    /// A ledger whose clock reads `origin_ms` (Unix milliseconds) now and
    /// advances with `tokio::time`; at most `max_counters` counters (at
    /// least one).
    pub fn with_origin(origin_ms: u64, max_counters: usize) -> Self {
        LocalLedger {
            inner: Arc::new(Inner {
                cells: DashMap::with_hasher(Hasher::default()),
                len: AtomicUsize::new(0),
                max: max_counters.max(1),
                epoch: Instant::now(),
                origin_ms,
                last_forced_sweep: AtomicU64::new(0),
                overflows: AtomicU64::new(0),
            }),
        }
    }

    /// The ledger's clock, Unix milliseconds.
    pub fn now_ms(&self) -> u64 {
        self.inner.now_ms()
    }

    /// Counters held (windows not yet swept included).
    pub fn len(&self) -> usize {
        self.inner.len.load(Ordering::Relaxed)
    }

    /// Whether no counter is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Charges allowed without state because the cap was reached.
    pub fn overflows(&self) -> u64 {
        self.inner.overflows.load(Ordering::Relaxed)
    }

    /// Drop the counters of ended windows and idle gauges; returns how many.
    /// O(counters): run it off the request path.
    pub fn sweep(&self) -> usize {
        self.inner.sweep()
    }

    /// The counters worth keeping across a restart: tokens and spend over
    /// day and month windows that are still open (minute windows and
    /// concurrency would be stale by the time a restarted node serves).
    /// Reserved amounts of calls in flight are included, conservatively.
    pub fn saved_counters(&self) -> Vec<SavedCounter> {
        let now = self.now_ms();
        self.inner
            .cells
            .iter()
            .filter(|e| {
                matches!(
                    e.key().counter.measure.window(),
                    Window::Day | Window::Month
                ) && e.value().end > now
            })
            .map(|e| SavedCounter {
                counter: e.key().counter.clone(),
                start_ms: e.key().start,
                end_ms: e.value().end,
                used: e.value().used.load(Ordering::Acquire),
            })
            .filter(|c| c.used > 0)
            .collect()
    }

    /// Put saved counters back after a restart. Windows already over are
    /// skipped; a counter this ledger already holds keeps the larger value,
    /// so restoring never lowers usage.
    pub fn restore(&self, saved: impl IntoIterator<Item = SavedCounter>) -> usize {
        let now = self.now_ms();
        let mut restored = 0;
        for c in saved {
            if c.end_ms <= now || c.start_ms > now {
                continue;
            }
            let key = Key {
                counter: c.counter,
                start: c.start_ms,
            };
            match self.inner.cells.entry(key) {
                dashmap::Entry::Occupied(cell) => {
                    cell.get().used.fetch_max(c.used, Ordering::AcqRel);
                }
                dashmap::Entry::Vacant(slot) => {
                    slot.insert(Arc::new(Cell {
                        used: AtomicU64::new(c.used),
                        end: c.end_ms,
                    }));
                    self.inner.len.fetch_add(1, Ordering::Relaxed);
                }
            }
            restored += 1;
        }
        restored
    }
}

/// One day or month counter, as saved across restarts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedCounter {
    /// Which counter.
    pub counter: CounterId,
    /// Its window's start and end, Unix ms.
    pub start_ms: u64,
    /// Window end (exclusive).
    pub end_ms: u64,
    /// Amount used (tokens, or micro-USD for spend).
    pub used: u64,
}

impl Inner {
    fn now_ms(&self) -> u64 {
        let elapsed = Instant::now().saturating_duration_since(self.epoch);
        self.origin_ms
            .saturating_add(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
    }

    fn sweep(&self) -> usize {
        let now = self.now_ms();
        let mut removed = 0;
        self.cells.retain(|_, cell| {
            let idle = if cell.end == u64::MAX {
                cell.used.load(Ordering::Acquire) == 0
            } else {
                cell.end <= now
            };
            removed += usize::from(idle);
            !idle
        });
        self.len.fetch_sub(removed, Ordering::Relaxed);
        removed
    }

    /// Add `amount` to the counter unless that passes `limit`: `Ok((value
    /// after, the counter))`, or `Err(value now)`. No counter when no state
    /// is kept (nothing taken from a counter not yet made, or the cap).
    fn take(
        &self,
        key: &Key,
        end: u64,
        amount: u64,
        limit: u64,
    ) -> Result<(u64, Option<Arc<Cell>>), u64> {
        loop {
            if let Some(cell) = self.cells.get(key) {
                return cell
                    .used
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                        u.checked_add(amount).filter(|n| *n <= limit)
                    })
                    .map(|before| (before + amount, Some(Arc::clone(&cell))));
            }
            if amount > limit {
                return Err(0);
            }
            if amount == 0 {
                return Ok((0, None));
            }
            if self.len.load(Ordering::Relaxed) >= self.max && !self.make_room() {
                self.overflows.fetch_add(1, Ordering::Relaxed);
                return Ok((amount, None));
            }
            if let dashmap::Entry::Vacant(slot) = self.cells.entry(key.clone()) {
                let cell = Arc::new(Cell {
                    used: AtomicU64::new(amount),
                    end,
                });
                slot.insert(Arc::clone(&cell));
                self.len.fetch_add(1, Ordering::Relaxed);
                return Ok((amount, Some(cell)));
            }
            // Created by another request in between: charge it.
        }
    }

    fn make_room(&self) -> bool {
        let now = self.now_ms();
        let last = self.last_forced_sweep.load(Ordering::Relaxed);
        let every = u64::try_from(FORCED_SWEEP_EVERY.as_millis()).unwrap_or(u64::MAX);
        let due = last == 0 || now.saturating_sub(last) >= every;
        if due
            && self
                .last_forced_sweep
                .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.sweep();
        }
        self.len.load(Ordering::Relaxed) < self.max
    }

    fn reserve(&self, charges: &[Charge]) -> Result<Reservation, Refusal> {
        if charges.is_empty() {
            return Ok(Reservation::empty());
        }
        let now = self.now_ms();
        let mut held: Vec<Held> = Vec::with_capacity(charges.len());
        let mut cells: Vec<Option<Arc<Cell>>> = Vec::with_capacity(charges.len());
        for c in charges {
            let window = c.counter.measure.window();
            let (start, end) = window_bounds(window, now);
            let key = Key {
                counter: c.counter.clone(),
                start,
            };
            let gauge = window == Window::Open;
            let reset_after = if gauge {
                Duration::ZERO
            } else {
                Duration::from_millis(end.saturating_sub(now))
            };
            match self.take(&key, end, c.amount, c.limit) {
                Ok((used, cell)) => {
                    held.push(Held {
                        counter: c.counter.clone(),
                        window_start: start,
                        limit: c.limit,
                        amount: c.amount,
                        used,
                        resets_at: (!gauge).then_some(end),
                        reset_after,
                    });
                    cells.push(cell);
                }
                Err(used) => {
                    for (h, cell) in held.iter().zip(&cells) {
                        adjust(cell.as_deref(), 0, h.amount);
                    }
                    let never = c.amount > c.limit;
                    let retry_after = match (never, gauge) {
                        (true, _) => Duration::MAX,
                        (false, true) => GAUGE_RETRY,
                        (false, false) => reset_after,
                    };
                    return Err(Refusal {
                        counter: c.counter.clone(),
                        limit: c.limit,
                        used,
                        requested: c.amount,
                        resets_at: (!gauge).then_some(end),
                        retry_after,
                        name: None,
                        unavailable: false,
                    });
                }
            }
        }
        Ok(Reservation::new(held, Arc::new(Hold { cells })))
    }
}

/// Add `add` to a counter and take `sub` from it, without a limit check;
/// nothing when no counter was kept. A counter swept since (its window
/// over) takes the change unseen.
fn adjust(cell: Option<&Cell>, add: u64, sub: u64) {
    let Some(cell) = cell.filter(|_| add != sub) else {
        return;
    };
    let _ = cell
        .used
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
            Some(if add > sub {
                u.saturating_add(add - sub)
            } else {
                u.saturating_sub(sub - add)
            })
        });
}

/// The counters one reservation took amounts from, in the order of its
/// [`Held`] entries.
#[derive(Debug)]
struct Hold {
    cells: Vec<Option<Arc<Cell>>>,
}

impl Settlement for Hold {
    fn settle(&self, held: &[Held], actual: Actual) {
        for (h, cell) in held.iter().zip(&self.cells) {
            match h.counter.measure.metric() {
                Metric::Tokens => adjust(cell.as_deref(), actual.tokens, h.amount),
                Metric::Spend => adjust(cell.as_deref(), actual.spend, h.amount),
                Metric::Requests | Metric::Concurrency => {}
            }
        }
    }

    fn release(&self, held: &[Held]) {
        for (h, cell) in held.iter().zip(&self.cells) {
            if h.counter.measure.metric() == Metric::Concurrency {
                adjust(cell.as_deref(), 0, h.amount);
            }
        }
    }
}

impl QuotaLedger for LocalLedger {
    fn reserve<'a>(&'a self, charges: &'a [Charge]) -> QuotaFuture<'a> {
        QuotaFuture::Ready(self.inner.reserve(charges))
    }

    fn current(&self, counter: &CounterId) -> u64 {
        let (start, _) = window_bounds(counter.measure.window(), self.inner.now_ms());
        let key = Key {
            counter: counter.clone(),
            start,
        };
        self.inner
            .cells
            .get(&key)
            .map_or(0, |c| c.used.load(Ordering::Acquire))
    }
}

#[cfg(test)]
mod tests;
