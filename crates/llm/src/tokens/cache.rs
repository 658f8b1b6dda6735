//! A lock-free memo of token counts by text.
//!
//! Direct-mapped: a text's hash picks one slot; the slot holds the rest of
//! the hash (a 40-bit tag) and the count, packed in one `AtomicU64`, so a
//! lookup is one relaxed load and a miss one relaxed store — no lock, no
//! allocation, nothing kept of the text itself (prompts are not retained in
//! memory by this cache). A newer text evicts an older one in its slot.
//!
//! The hash is keyed per process (`foldhash`'s random seed), so which texts
//! share a slot or a tag cannot be arranged from outside. A false hit needs
//! a slot *and* tag match, about 2⁻⁴⁰ per lookup; its only effect would be one
//! estimate taken from another text — estimates are settled to the
//! provider's reported usage after the call either way.

use std::hash::{BuildHasher, Hasher};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Encoding;

/// Slots (a power of two): 16,384 × 8 bytes = 128 KiB, room for the
/// recurring texts (system prompts, recent conversation turns) of many
/// concurrent clients.
const SLOTS: usize = 1 << 14;
/// Bits of the packed entry holding the count; larger counts are not cached.
const COUNT_BITS: u32 = 24;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;

struct Cache {
    hasher: foldhash::quality::RandomState,
    slots: Box<[AtomicU64]>,
}

static CACHE: LazyLock<Cache> = LazyLock::new(|| Cache {
    hasher: foldhash::quality::RandomState::default(),
    slots: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
});

/// The count of `text` in `encoding`: remembered, or `count()` (then
/// remembered). `text` must not be empty (an empty entry means "vacant").
pub(super) fn get_or_count(encoding: Encoding, text: &str, count: impl FnOnce() -> u64) -> u64 {
    let cache = &*CACHE;
    let mut hasher = cache.hasher.build_hasher();
    hasher.write_u8(encoding as u8);
    hasher.write(text.as_bytes());
    let hash = hasher.finish();
    // Low bits pick the slot; the top 40 bits are the tag.
    let slot = &cache.slots[(hash as usize) & (SLOTS - 1)];
    let tag = hash & !COUNT_MASK;
    let entry = slot.load(Ordering::Relaxed);
    if entry != 0 && entry & !COUNT_MASK == tag {
        return entry & COUNT_MASK;
    }
    #[cfg(test)]
    MISSES.with(|m| m.set(m.get() + 1));
    let counted = count();
    // A non-empty text has at least one token, so a stored entry is never 0.
    if (1..=COUNT_MASK).contains(&counted) {
        slot.store(tag | counted, Ordering::Relaxed);
    }
    counted
}

#[cfg(test)]
thread_local! {
    /// Counts computed (not found) on this thread, for the tests.
    pub(super) static MISSES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}
