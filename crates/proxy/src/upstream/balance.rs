//! Load-balancing algorithms. Each picks one index for which `eligible`
//! holds (the pool's predicate: weight > 0, healthy, not ejected, circuit
//! passable, not excluded); none of them reserves anything.
//!
//! All are lock-free: round robin uses one atomic cursor, weighted round
//! robin walks a precomputed smooth sequence with another, the ring is
//! immutable, and least connections and peak EWMA read the targets' atomics.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sy_config::BalanceSpec;

use super::ring::{Ring, hash};
use super::target::Target;

/// Longest precomputed weighted sequence; larger weight sums are scaled.
const MAX_SEQUENCE: u64 = 1 << 14;

/// The pool's algorithm and its state.
#[derive(Debug)]
pub(crate) enum Balancer {
    RoundRobin {
        cursor: AtomicUsize,
    },
    Weighted(SmoothWeighted),
    LeastConnections,
    ConsistentHash {
        ring: Ring,
        fallback: SmoothWeighted,
    },
    PeakEwma,
}

type Eligible<'a> = &'a dyn Fn(usize) -> bool;

impl Balancer {
    pub(crate) fn new(kind: BalanceSpec, targets: &[Arc<Target>]) -> Balancer {
        let weights: Vec<u32> = targets.iter().map(|t| t.weight()).collect();
        match kind {
            BalanceSpec::RoundRobin => Balancer::RoundRobin {
                cursor: AtomicUsize::new(0),
            },
            BalanceSpec::Weighted => Balancer::Weighted(SmoothWeighted::new(&weights)),
            BalanceSpec::LeastConnections => Balancer::LeastConnections,
            BalanceSpec::ConsistentHash => {
                let ids: Vec<(&str, u32)> = targets.iter().map(|t| (t.url(), t.weight())).collect();
                Balancer::ConsistentHash {
                    ring: Ring::new(&ids),
                    fallback: SmoothWeighted::new(&weights),
                }
            }
            BalanceSpec::PeakEwma => Balancer::PeakEwma,
        }
    }

    /// One eligible index, or `None` when there is none.
    pub(crate) fn pick(
        &self,
        targets: &[Arc<Target>],
        key: Option<&[u8]>,
        now: u64,
        eligible: Eligible<'_>,
    ) -> Option<usize> {
        match self {
            Balancer::RoundRobin { cursor } => round_robin(cursor, targets.len(), eligible),
            Balancer::Weighted(wrr) => wrr.pick(targets, eligible),
            Balancer::LeastConnections => least_connections(targets, eligible),
            Balancer::ConsistentHash { ring, fallback } => match key {
                // Walking the ring only ends early if some target is eligible.
                Some(key) if (0..targets.len()).any(eligible) => ring.pick(hash(key), eligible),
                Some(_) => None,
                None => fallback.pick(targets, eligible),
            },
            Balancer::PeakEwma => peak_ewma(targets, now, eligible),
        }
    }
}

/// Each eligible target in turn. The cursor counts over the eligible set,
/// not over all targets: passing an ineligible target's turn to its
/// neighbour would give that neighbour a double share while one is down.
fn round_robin(cursor: &AtomicUsize, n: usize, eligible: Eligible<'_>) -> Option<usize> {
    let count = (0..n).filter(|i| eligible(*i)).count();
    if count == 0 {
        return None;
    }
    let k = cursor.fetch_add(1, Ordering::Relaxed) % count;
    (0..n).filter(|i| eligible(*i)).nth(k)
}

/// Fewest in flight per unit of weight; ties are broken uniformly at random
/// (reservoir sampling over the tied targets), so idle targets share evenly.
fn least_connections(targets: &[Arc<Target>], eligible: Eligible<'_>) -> Option<usize> {
    // (index, load, weight, targets tied so far)
    let mut best: Option<(usize, u64, u64, usize)> = None;
    for (i, t) in targets.iter().enumerate().filter(|(i, _)| eligible(*i)) {
        let (load, weight) = (u64::from(t.in_flight()), u64::from(t.weight()));
        best = match best {
            None => Some((i, load, weight, 1)),
            // Compare load/weight without dividing.
            Some((_, bl, bw, _)) if load * bw < bl * weight => Some((i, load, weight, 1)),
            Some((bi, bl, bw, ties)) if load * bw == bl * weight => {
                let ties = ties + 1;
                if fastrand::usize(0..ties) == 0 {
                    Some((i, load, weight, ties))
                } else {
                    Some((bi, bl, bw, ties))
                }
            }
            keep => keep,
        };
    }
    best.map(|(i, ..)| i)
}

/// Power of two choices: two distinct eligible targets at random (reservoir
/// sampling, no allocation), the one with the lower
/// `ewma · (in_flight + 1) / weight` wins.
fn peak_ewma(targets: &[Arc<Target>], now: u64, eligible: Eligible<'_>) -> Option<usize> {
    let mut chosen: [Option<usize>; 2] = [None, None];
    let mut seen = 0usize;
    for i in (0..targets.len()).filter(|i| eligible(*i)) {
        seen += 1;
        if seen <= 2 {
            chosen[seen - 1] = Some(i);
        } else if let Some(slot) = chosen.get_mut(fastrand::usize(0..seen)) {
            *slot = Some(i);
        }
    }
    let cost = |i: usize| {
        targets.get(i).map_or(f64::INFINITY, |t| {
            // +1 ns so in-flight load still counts when the estimate decayed to 0.
            (t.ewma.get(now) + 1.0) * f64::from(t.in_flight().saturating_add(1))
                / f64::from(t.weight().max(1))
        })
    };
    match chosen {
        [Some(a), Some(b)] => {
            let (ca, cb) = (cost(a), cost(b));
            if ca < cb || (ca == cb && fastrand::bool()) {
                Some(a)
            } else {
                Some(b)
            }
        }
        [one, _] => one,
    }
}

/// Smooth weighted round robin (the nginx scheme), precomputed: one cycle
/// of the sequence is built at compile time and walked with an atomic
/// cursor. Over each cycle every target appears exactly in proportion to its
/// weight, interleaved (5:1:1 gives `a a b a c a a`).
///
/// When the sequence's target is ineligible, a weighted random pick among
/// the eligible ones replaces it, which keeps their shares proportional.
#[derive(Debug)]
pub(crate) struct SmoothWeighted {
    sequence: Box<[u32]>,
    cursor: AtomicUsize,
}

impl SmoothWeighted {
    pub(crate) fn new(weights: &[u32]) -> SmoothWeighted {
        let weights = reduce(weights);
        let total: i64 = weights.iter().map(|w| i64::from(*w)).sum();
        let mut current = vec![0i64; weights.len()];
        let mut sequence = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
        for _ in 0..total {
            for (c, w) in current.iter_mut().zip(&weights) {
                *c += i64::from(*w);
            }
            // The first maximum, so the sequence is deterministic.
            let mut best = 0;
            for (i, c) in current.iter().enumerate() {
                if current.get(best).is_some_and(|b| c > b) {
                    best = i;
                }
            }
            if let Some(c) = current.get_mut(best) {
                *c -= total;
            }
            sequence.push(u32::try_from(best).unwrap_or(u32::MAX));
        }
        SmoothWeighted {
            sequence: sequence.into_boxed_slice(),
            cursor: AtomicUsize::new(0),
        }
    }

    fn pick(&self, targets: &[Arc<Target>], eligible: Eligible<'_>) -> Option<usize> {
        if !self.sequence.is_empty() {
            let pos = self.cursor.fetch_add(1, Ordering::Relaxed) % self.sequence.len();
            if let Some(&i) = self.sequence.get(pos)
                && eligible(i as usize)
            {
                return Some(i as usize);
            }
        }
        weighted_random(targets, eligible)
    }
}

/// Divide by the common divisor (a 2:4 pool cycles like 1:2) and scale sums
/// above [`MAX_SEQUENCE`] down, keeping every non-zero weight at least 1.
fn reduce(weights: &[u32]) -> Vec<u32> {
    let divisor = weights.iter().fold(0u32, |g, w| gcd(g, *w)).max(1);
    let reduced: Vec<u32> = weights.iter().map(|w| w / divisor).collect();
    let total: u64 = reduced.iter().map(|w| u64::from(*w)).sum();
    if total <= MAX_SEQUENCE {
        return reduced;
    }
    let scale = MAX_SEQUENCE as f64 / total as f64;
    reduced
        .iter()
        .map(|&w| {
            if w == 0 {
                0
            } else {
                ((f64::from(w) * scale).round() as u32).max(1)
            }
        })
        .collect()
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// A random eligible target, each with probability proportional to weight.
fn weighted_random(targets: &[Arc<Target>], eligible: Eligible<'_>) -> Option<usize> {
    let weight = |i: usize| targets.get(i).map_or(0, |t| u64::from(t.weight()));
    let total: u64 = (0..targets.len())
        .filter(|i| eligible(*i))
        .map(weight)
        .sum();
    if total == 0 {
        return None;
    }
    let mut r = fastrand::u64(0..total);
    for i in (0..targets.len()).filter(|i| eligible(*i)) {
        let w = weight(i);
        if r < w {
            return Some(i);
        }
        r -= w;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smooth_sequence_matches_nginx() {
        let s = SmoothWeighted::new(&[5, 1, 1]);
        assert_eq!(&*s.sequence, &[0, 0, 1, 0, 2, 0, 0]);
        let s = SmoothWeighted::new(&[2, 4, 0]);
        assert_eq!(&*s.sequence, &[1, 0, 1]);
        assert!(SmoothWeighted::new(&[0, 0]).sequence.is_empty());
    }

    #[test]
    fn huge_weights_keep_proportions_roughly() {
        let s = SmoothWeighted::new(&[3_000_000, 1_000_000, 1]);
        let count = |i: u32| s.sequence.iter().filter(|x| **x == i).count();
        assert!(s.sequence.len() as u64 <= MAX_SEQUENCE + 3);
        assert_eq!(count(2), 1);
        let ratio = count(0) as f64 / count(1) as f64;
        assert!((ratio - 3.0).abs() < 0.01, "{ratio}");
    }
}
