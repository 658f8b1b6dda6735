//! Consistent-hash ring with virtual nodes.
//!
//! Each target owns [`POINTS_PER_WEIGHT`] points per unit of weight, placed
//! by hashing its identity (`scheme://host:port`) and the point number. A key
//! belongs to the first point at or after its hash, wrapping around. The
//! points depend only on the target itself, so removing a target moves only
//! the keys it owned, and they spread over the others; an ineligible target
//! is skipped by walking on to the next point, with the same effect.
//!
//! The hash is ours (FNV-1a followed by a 64-bit finalizer) and stable across
//! processes and versions, so every gateway replica maps a key to the same
//! target.

/// Virtual nodes per unit of weight.
pub(crate) const POINTS_PER_WEIGHT: u64 = 160;

/// Total points above which the per-weight count is scaled down.
const MAX_POINTS: u64 = 160 * 1024;

/// FNV-1a over `bytes`, then a finalizer that spreads the low-entropy output
/// FNV gives for short, similar inputs (`host:port#1`, `host:port#2`).
pub(crate) fn hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

/// 64-bit avalanche finalizer (xor-shift-multiply rounds).
fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Sorted ring of `(point hash, target index)`.
#[derive(Debug)]
pub(crate) struct Ring {
    points: Box<[(u64, u32)]>,
}

impl Ring {
    /// Build from `(identity, weight)` per target index; weight 0 gets no points.
    pub(crate) fn new(targets: &[(&str, u32)]) -> Ring {
        let total: u64 = targets.iter().map(|(_, w)| u64::from(*w)).sum();
        let per_weight = if total == 0 {
            0.0
        } else {
            (MAX_POINTS as f64 / total as f64).min(POINTS_PER_WEIGHT as f64)
        };
        let mut points = Vec::new();
        for (index, (identity, weight)) in targets.iter().enumerate() {
            if *weight == 0 {
                continue;
            }
            let count = ((f64::from(*weight) * per_weight).round() as u64).max(1);
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            let mut key = Vec::with_capacity(identity.len() + 12);
            for n in 0..count {
                key.clear();
                key.extend_from_slice(identity.as_bytes());
                key.push(b'#');
                key.extend_from_slice(n.to_string().as_bytes());
                points.push((hash(&key), index));
            }
        }
        points.sort_unstable();
        Ring {
            points: points.into_boxed_slice(),
        }
    }

    /// The first eligible target at or after `key_hash` on the ring.
    pub(crate) fn pick(&self, key_hash: u64, eligible: &dyn Fn(usize) -> bool) -> Option<usize> {
        let len = self.points.len();
        let start = self.points.partition_point(|(h, _)| *h < key_hash);
        (0..len)
            .filter_map(|k| self.points.get((start + k) % len))
            .map(|(_, index)| *index as usize)
            .find(|i| eligible(*i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable_across_builds() {
        // Pinned: a change here remaps every sticky client in a fleet.
        assert_eq!(hash(b""), mix(0xcbf2_9ce4_8422_2325));
        assert_eq!(hash(b"user-42"), hash(b"user-42"));
        assert_ne!(hash(b"user-42"), hash(b"user-43"));
    }

    #[test]
    fn points_follow_weight() {
        let ring = Ring::new(&[("http://a:80", 1), ("http://b:80", 3), ("http://c:80", 0)]);
        let count = |i: u32| ring.points.iter().filter(|(_, t)| *t == i).count() as u64;
        assert_eq!(count(0), POINTS_PER_WEIGHT);
        assert_eq!(count(1), 3 * POINTS_PER_WEIGHT);
        assert_eq!(count(2), 0);
    }

    #[test]
    fn huge_weights_are_scaled_down() {
        let ring = Ring::new(&[("http://a:80", 1_000_000), ("http://b:80", 1_000_000)]);
        assert!(ring.points.len() as u64 <= MAX_POINTS + 2);
    }

    #[test]
    fn walks_past_ineligible_targets() {
        let ring = Ring::new(&[("http://a:80", 1), ("http://b:80", 1)]);
        for k in 0..100u32 {
            let h = hash(&k.to_be_bytes());
            assert_eq!(ring.pick(h, &|i| i == 1), Some(1));
        }
        assert_eq!(ring.pick(0, &|_| false), None);
        assert_eq!(Ring::new(&[]).pick(0, &|_| true), None);
    }
}
