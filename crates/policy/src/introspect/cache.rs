//! The introspection answer cache: answers by the token's SHA-256, each
//! until its deadline, bounded in size; and the calls in flight, so that
//! concurrent requests with one uncached token share one call.
//!
//! Sharded maps, no lock held across an await. When full, expired answers
//! are dropped first, then about a tenth of the rest (whichever the map
//! yields first: the cache is a shortcut, never the source of truth).

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use tokio::sync::OnceCell;
use tokio::time::Instant;

use super::{Failed, unix_now};

/// What the identity provider said about a token, reduced to the fields
/// the policy acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    /// `active: false`.
    Inactive,
    /// `active: true`.
    Active {
        /// The consumer claim's value, if present and a string or integer.
        consumer: Option<Box<str>>,
        /// The space-separated `scope` (empty when absent).
        scope: Box<str>,
        /// `exp`, seconds since the epoch.
        exp: Option<u64>,
    },
}

/// A shared slot for one call's result.
pub(crate) type InFlight = Arc<OnceCell<Result<Arc<Answer>, Failed>>>;

struct Entry {
    answer: Arc<Answer>,
    until: Instant,
}

/// Cached answers and calls in flight.
pub(crate) struct AnswerCache {
    answers: DashMap<[u8; 32], Entry>,
    in_flight: DashMap<[u8; 32], InFlight>,
    max: usize,
}

impl AnswerCache {
    /// An empty cache holding at most `max` answers.
    pub(crate) fn new(max: usize) -> Self {
        AnswerCache {
            answers: DashMap::new(),
            in_flight: DashMap::new(),
            max: max.max(1),
        }
    }

    /// Answers held now (some may be past their deadline).
    pub(crate) fn len(&self) -> usize {
        self.answers.len()
    }

    /// Calls in flight (tests: abandoned calls leave nothing behind).
    #[cfg(test)]
    pub(crate) fn in_flight_len(&self) -> usize {
        self.in_flight.len()
    }

    /// The answer for `hash`, if cached and not past its deadline.
    pub(crate) fn get(&self, hash: &[u8; 32]) -> Option<Arc<Answer>> {
        let e = self.answers.get(hash)?;
        (e.until > Instant::now()).then(|| Arc::clone(&e.answer))
    }

    /// Keep `answer` for `ttl`, and never past the token's `exp`.
    pub(crate) fn insert(&self, hash: [u8; 32], answer: Arc<Answer>, ttl: Duration) {
        let mut ttl = ttl;
        if let Answer::Active { exp: Some(exp), .. } = &*answer {
            ttl = ttl.min(Duration::from_secs(exp.saturating_sub(unix_now())));
        }
        if ttl.is_zero() {
            return;
        }
        if self.answers.len() >= self.max && !self.answers.contains_key(&hash) {
            self.make_room();
        }
        let until = Instant::now() + ttl;
        self.answers.insert(hash, Entry { answer, until });
    }

    /// Drop expired answers, then, if still full, about a tenth of the rest.
    fn make_room(&self) {
        let now = Instant::now();
        self.answers.retain(|_, e| e.until > now);
        if self.answers.len() < self.max {
            return;
        }
        let victims: Vec<[u8; 32]> = self
            .answers
            .iter()
            .take(self.max / 10 + 1)
            .map(|e| *e.key())
            .collect();
        for k in victims {
            self.answers.remove(&k);
        }
    }

    /// The slot of the call for `hash`: a running one, or a new one.
    pub(crate) fn in_flight(&self, hash: [u8; 32]) -> InFlight {
        Arc::clone(&self.in_flight.entry(hash).or_default())
    }

    /// The call in `cell` is over (its answer, if any, is cached): forget
    /// the slot, unless a newer call took its place.
    pub(crate) fn done(&self, hash: [u8; 32], cell: &InFlight) {
        self.in_flight.remove_if(&hash, |_, c| Arc::ptr_eq(c, cell));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active(exp: Option<u64>) -> Arc<Answer> {
        Arc::new(Answer::Active {
            consumer: Some("app".into()),
            scope: "".into(),
            exp,
        })
    }

    #[tokio::test(start_paused = true)]
    async fn answers_expire_after_ttl_and_never_past_exp() {
        let c = AnswerCache::new(10);
        c.insert([1; 32], active(None), Duration::from_secs(60));
        c.insert(
            [2; 32],
            active(Some(unix_now() + 5)),
            Duration::from_secs(60),
        );
        c.insert(
            [3; 32],
            active(Some(unix_now().saturating_sub(1))),
            Duration::from_secs(60),
        );
        c.insert([4; 32], Arc::new(Answer::Inactive), Duration::from_secs(60));
        assert!(c.get(&[1; 32]).is_some());
        assert!(c.get(&[2; 32]).is_some());
        assert!(c.get(&[3; 32]).is_none(), "already expired: not cached");
        assert_eq!(c.get(&[4; 32]).as_deref(), Some(&Answer::Inactive));
        tokio::time::advance(Duration::from_secs(6)).await;
        assert!(c.get(&[1; 32]).is_some());
        assert!(c.get(&[2; 32]).is_none(), "capped at the token's exp");
        tokio::time::advance(Duration::from_secs(60)).await;
        assert!(c.get(&[1; 32]).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn the_cache_is_bounded_and_drops_expired_answers_first() {
        let c = AnswerCache::new(20);
        for i in 0..10u8 {
            c.insert([i; 32], active(None), Duration::from_secs(1));
        }
        tokio::time::advance(Duration::from_secs(2)).await;
        for i in 10..30u8 {
            c.insert([i; 32], active(None), Duration::from_secs(60));
        }
        assert!(c.len() <= 20, "{}", c.len());
        assert!(c.get(&[29; 32]).is_some(), "the newest answer is kept");
        for i in 0..10u8 {
            assert!(c.answers.get(&[i; 32]).is_none(), "expired {i} was dropped");
        }
        for i in 30..200u8 {
            c.insert([i; 32], active(None), Duration::from_secs(60));
            assert!(c.len() <= 20);
        }
    }

    #[test]
    fn in_flight_slots_are_shared_until_done() {
        let c = AnswerCache::new(10);
        let a = c.in_flight([1; 32]);
        let b = c.in_flight([1; 32]);
        assert!(Arc::ptr_eq(&a, &b));
        c.done([1; 32], &a);
        let fresh = c.in_flight([1; 32]);
        assert!(!Arc::ptr_eq(&a, &fresh));
        c.done([1; 32], &a);
        assert!(
            Arc::ptr_eq(&fresh, &c.in_flight([1; 32])),
            "an old call leaves a new slot"
        );
    }
}
