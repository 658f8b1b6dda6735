//! Per-target circuit breaker: closed → open after `failure_threshold`
//! failures in a row; open for `open_for`; then half-open, letting exactly
//! `half_open_requests` probe attempts through. All probes succeed → closed;
//! any probe fails → open again.
//!
//! The whole state is one packed `AtomicU64` moved by compare-and-swap, so a
//! half-open slot is reserved atomically however many tasks select at once:
//!
//! ```text
//! bits 0..2   state (closed, open, half-open)
//! bits 2..16  generation: bumped on entering half-open, so a probe from an
//!             earlier round cannot count toward the current one
//! bits 16..40 a: closed → consecutive failures; half-open → slots handed out
//! bits 40..64 b: half-open → probes that succeeded
//! ```
//!
//! Only probes move a half-open breaker; attempts started before the circuit
//! opened are ignored when they finish while it is open or half-open.

use std::sync::atomic::{AtomicU64, Ordering};

use sy_config::CircuitBreakerSpec;

use super::target::duration_nanos;

/// Circuit-breaker state, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BreakerState {
    /// Traffic flows.
    Closed,
    /// Traffic is refused until `open_for` has passed.
    Open,
    /// A few probe requests are let through to test the target.
    HalfOpen,
}

impl BreakerState {
    /// A short, stable label for metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

/// Counters are 24 bits wide; config values are clamped below this.
pub(crate) const COUNTER_MAX: u32 = (1 << 24) - 1;

const CLOSED: u64 = 0;
const OPEN: u64 = 1;
const HALF_OPEN: u64 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Word {
    state: u64,
    generation: u64,
    a: u32,
    b: u32,
}

impl Word {
    fn unpack(w: u64) -> Word {
        Word {
            state: w & 0b11,
            generation: (w >> 2) & 0x3fff,
            a: ((w >> 16) & 0xff_ffff) as u32,
            b: ((w >> 40) & 0xff_ffff) as u32,
        }
    }

    fn pack(self) -> u64 {
        (self.state & 0b11)
            | ((self.generation & 0x3fff) << 2)
            | (u64::from(self.a.min(COUNTER_MAX)) << 16)
            | (u64::from(self.b.min(COUNTER_MAX)) << 40)
    }
}

/// A reserved half-open slot; belongs to one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Probe {
    generation: u64,
}

/// Breaker of one target; times are pool-clock nanoseconds.
#[derive(Debug)]
pub(crate) struct Breaker {
    threshold: u32,
    open_for: u64,
    half_open: u32,
    word: AtomicU64,
    /// Written before the CAS into `Open`, read after seeing `Open`.
    open_until: AtomicU64,
}

impl Breaker {
    pub(crate) fn new(spec: &CircuitBreakerSpec) -> Breaker {
        Breaker {
            threshold: spec.failure_threshold.clamp(1, COUNTER_MAX),
            open_for: duration_nanos(spec.open_for.get()),
            half_open: spec.half_open_requests.clamp(1, COUNTER_MAX),
            word: AtomicU64::new(0),
            open_until: AtomicU64::new(0),
        }
    }

    fn load(&self) -> (u64, Word) {
        let raw = self.word.load(Ordering::Acquire);
        (raw, Word::unpack(raw))
    }

    fn swap(&self, old: u64, new: Word) -> bool {
        self.word
            .compare_exchange_weak(old, new.pack(), Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// State for metrics; an open circuit past its deadline reads half-open.
    pub(crate) fn state(&self, now: u64) -> BreakerState {
        let (_, w) = self.load();
        match w.state {
            CLOSED => BreakerState::Closed,
            HALF_OPEN => BreakerState::HalfOpen,
            _ if now >= self.open_until.load(Ordering::Acquire) => BreakerState::HalfOpen,
            _ => BreakerState::Open,
        }
    }

    /// Would [`Breaker::admit`] let an attempt through now? Reserves nothing.
    pub(crate) fn is_available(&self, now: u64) -> bool {
        let (_, w) = self.load();
        match w.state {
            CLOSED => true,
            HALF_OPEN => w.a < self.half_open,
            _ => now >= self.open_until.load(Ordering::Acquire),
        }
    }

    /// Let an attempt through: `None` if refused; `Some((probe, entered))`
    /// otherwise, where `probe` is a reserved half-open slot (`None` when
    /// closed) and `entered` says this call moved open → half-open.
    pub(crate) fn admit(&self, now: u64) -> Option<(Option<Probe>, bool)> {
        loop {
            let (raw, w) = self.load();
            match w.state {
                CLOSED => return Some((None, false)),
                HALF_OPEN => {
                    if w.a >= self.half_open {
                        return None;
                    }
                    if self.swap(raw, Word { a: w.a + 1, ..w }) {
                        return Some((
                            Some(Probe {
                                generation: w.generation,
                            }),
                            false,
                        ));
                    }
                }
                _ => {
                    if now < self.open_until.load(Ordering::Acquire) {
                        return None;
                    }
                    let generation = (w.generation + 1) & 0x3fff;
                    let next = Word {
                        state: HALF_OPEN,
                        generation,
                        a: 1,
                        b: 0,
                    };
                    if self.swap(raw, next) {
                        return Some((Some(Probe { generation }), true));
                    }
                }
            }
        }
    }

    /// A probe that was never sent gives its slot back.
    pub(crate) fn release(&self, probe: Probe) {
        loop {
            let (raw, w) = self.load();
            if w.state != HALF_OPEN || w.generation != probe.generation || w.a == 0 {
                return;
            }
            if self.swap(raw, Word { a: w.a - 1, ..w }) {
                return;
            }
        }
    }

    /// Record a success; returns the new state if it changed.
    pub(crate) fn on_success(&self, probe: Option<Probe>) -> Option<BreakerState> {
        loop {
            let (raw, w) = self.load();
            let next = match w.state {
                CLOSED if w.a == 0 => return None,
                CLOSED => Word { a: 0, ..w },
                HALF_OPEN if probe.is_some_and(|p| p.generation == w.generation) => {
                    if w.b + 1 >= self.half_open {
                        Word {
                            state: CLOSED,
                            generation: w.generation,
                            a: 0,
                            b: 0,
                        }
                    } else {
                        Word { b: w.b + 1, ..w }
                    }
                }
                _ => return None,
            };
            if self.swap(raw, next) {
                return (next.state != w.state).then_some(BreakerState::Closed);
            }
        }
    }

    /// Record a failure; returns the new state if it changed.
    pub(crate) fn on_failure(&self, now: u64, probe: Option<Probe>) -> Option<BreakerState> {
        loop {
            let (raw, w) = self.load();
            let trips = match w.state {
                CLOSED => w.a + 1 >= self.threshold,
                HALF_OPEN if probe.is_some_and(|p| p.generation == w.generation) => true,
                _ => return None,
            };
            let next = if trips {
                self.open_until
                    .store(now.saturating_add(self.open_for), Ordering::Release);
                Word {
                    state: OPEN,
                    generation: w.generation,
                    a: 0,
                    b: 0,
                }
            } else {
                Word { a: w.a + 1, ..w }
            };
            if self.swap(raw, next) {
                return trips.then_some(BreakerState::Open);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sy_config::DurationSpec;

    const SEC: u64 = 1_000_000_000;

    fn breaker(half_open: u32) -> Breaker {
        Breaker::new(&CircuitBreakerSpec {
            failure_threshold: 3,
            open_for: DurationSpec::from_secs(30),
            half_open_requests: half_open,
        })
    }

    #[test]
    fn word_round_trips() {
        let w = Word {
            state: HALF_OPEN,
            generation: 0x3fff,
            a: COUNTER_MAX,
            b: 7,
        };
        assert_eq!(Word::unpack(w.pack()), w);
    }

    #[test]
    fn closed_open_half_open_closed() {
        let b = breaker(2);
        assert_eq!(b.on_failure(0, None), None);
        assert_eq!(b.on_failure(0, None), None);
        assert_eq!(b.on_success(None), None);
        // The streak restarted: three more failures are needed.
        assert_eq!(b.on_failure(0, None), None);
        assert_eq!(b.on_failure(0, None), None);
        assert_eq!(b.on_failure(0, None), Some(BreakerState::Open));
        assert_eq!(b.state(0), BreakerState::Open);
        assert!(b.admit(29 * SEC).is_none());
        let (p1, entered) = b.admit(30 * SEC).unwrap();
        assert!(entered);
        let (p2, entered) = b.admit(30 * SEC).unwrap();
        assert!(!entered);
        assert!(b.admit(30 * SEC).is_none(), "only two probe slots");
        assert_eq!(b.on_success(p1), None);
        assert_eq!(b.state(30 * SEC), BreakerState::HalfOpen);
        assert_eq!(b.on_success(p2), Some(BreakerState::Closed));
        assert_eq!(b.state(30 * SEC), BreakerState::Closed);
    }

    #[test]
    fn failed_probe_reopens_and_stale_outcomes_are_ignored() {
        let b = breaker(1);
        for _ in 0..3 {
            b.on_failure(0, None);
        }
        let (probe, _) = b.admit(30 * SEC).unwrap();
        // An attempt from before the circuit opened cannot close or reopen it.
        assert_eq!(b.on_success(None), None);
        assert_eq!(b.on_failure(30 * SEC, None), None);
        assert_eq!(b.on_failure(31 * SEC, probe), Some(BreakerState::Open));
        assert!(b.admit(60 * SEC).is_none());
        let (old_round, _) = b.admit(61 * SEC).unwrap();
        b.release(old_round.unwrap());
        let (probe, _) = b.admit(61 * SEC).unwrap();
        assert_eq!(b.on_success(probe), Some(BreakerState::Closed));
    }

    #[test]
    fn released_slot_can_be_taken_again() {
        let b = breaker(1);
        for _ in 0..3 {
            b.on_failure(0, None);
        }
        let (p, _) = b.admit(30 * SEC).unwrap();
        assert!(!b.is_available(30 * SEC));
        b.release(p.unwrap());
        assert!(b.is_available(30 * SEC));
        assert!(b.admit(30 * SEC).is_some());
    }
}
