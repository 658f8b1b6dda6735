//! A fast hasher for the router's maps.
//!
//! A lookup hashes the host several times and every path segment once, so
//! SipHash (the std default) was a large share of lookup time. Keys come
//! only from configuration and requests only look up, so an attacker cannot
//! grow a probe chain; a per-process random seed still keeps bucket layout
//! unpredictable.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::OnceLock;

/// `HashMap` with [`Seeded`] hashing.
pub(crate) type FastMap<K, V> = HashMap<K, V, Seeded>;

const K1: u64 = 0x9e37_79b9_7f4a_7c15;
const K2: u64 = 0xd6e8_feb8_6659_fd93;

/// Builds [`FastHasher`]s from the process's random seed. Zero-sized, so
/// the many small maps of the path trie stay small.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Seeded;

fn seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| RandomState::new().hash_one(K1))
}

impl BuildHasher for Seeded {
    type Hasher = FastHasher;

    fn build_hasher(&self) -> FastHasher {
        FastHasher { h: seed() }
    }
}

/// Mixes eight bytes at a time; `finish` folds a 128-bit product so both the
/// low bits (bucket index) and high bits (tag) depend on every input bit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FastHasher {
    h: u64,
}

impl FastHasher {
    fn mix(&mut self, word: u64) {
        self.h = (self.h ^ word).wrapping_mul(K1).rotate_left(31);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let tail = chunks.remainder();
        if !tail.is_empty() {
            let mut word = [0u8; 8];
            for (w, b) in word.iter_mut().zip(tail) {
                *w = *b;
            }
            // The length keeps `ab` and `ab\0` apart.
            self.mix(u64::from_le_bytes(word) ^ ((tail.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, b: u8) {
        self.mix(u64::from(b) | 0x100);
    }

    fn finish(&self) -> u64 {
        let m = u128::from(self.h).wrapping_mul(u128::from(K2));
        (m as u64) ^ ((m >> 64) as u64)
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::Seeded;

    #[test]
    fn distinct_keys_hash_apart() {
        let s = Seeded;
        let keys = [
            "",
            "a",
            "ab",
            "ab\0",
            "abcdefgh",
            "abcdefgh\0",
            "abcdefghi",
            "svc1",
            "svc10",
            "svc100",
        ];
        let mut hashes: Vec<u64> = keys.iter().map(|k| s.hash_one(k)).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), keys.len());
        assert_eq!(s.hash_one("svc1"), s.hash_one(String::from("svc1")));
    }
}
