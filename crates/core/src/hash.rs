//! Hash maps for the request path.
//!
//! The maps a request looks things up in (keys, consumers, grants, models,
//! routes) are built from configuration and the store, never from what a
//! client sends: a client only looks up, and a lookup cannot grow a chain
//! of colliding entries. The flooding attack SipHash (std's default) is
//! there for needs inserts, so these maps use foldhash, seeded per process,
//! at about a quarter of SipHash's instructions per lookup.

/// A `HashMap` with the request path's hasher. Build with `default()` or
/// `collect()` (`new()` is only for std's own hasher).
pub type FastMap<K, V> = std::collections::HashMap<K, V, FastHasher>;

/// A `HashSet` with the request path's hasher.
pub type FastSet<T> = std::collections::HashSet<T, FastHasher>;

/// The hasher of [`FastMap`] and [`FastSet`].
pub type FastHasher = foldhash::quality::RandomState;
