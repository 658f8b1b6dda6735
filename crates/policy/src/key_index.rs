//! [`KeyIndex`]: the store's API keys and consumers in memory, updated in
//! place as the store changes, so authentication never waits on the store.
//!
//! Keys live in a lock-free concurrent map (papaya) because there can be
//! millions and they change one at a time: a new or revoked key is one
//! insert or remove, never a rebuild. Consumers (with their subscriptions,
//! tenant and limits, all folded into [`Grants`]) are few and change
//! together, so they are one immutable map swapped whole.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use sy_core::FastMap;

use arc_swap::ArcSwap;

use crate::consumer::{Consumer, ConsumerDirectory, Grants};

/// One stored key as the data plane needs it.
#[derive(Debug, Clone)]
pub struct IndexedKey {
    /// The key's id in the store.
    pub key_id: Arc<str>,
    /// The owning consumer's id.
    pub consumer_id: Arc<str>,
    /// Unix milliseconds after which the key no longer works.
    pub expires_at_ms: Option<i64>,
    /// Grants of a key with scopes or limits of its own (built from its
    /// consumer's grants); `None` uses the consumer's.
    pub grants: Option<Arc<Grants>>,
}

/// The store-backed [`ConsumerDirectory`].
#[derive(Debug)]
pub struct KeyIndex {
    keys: papaya::HashMap<[u8; 32], IndexedKey, sy_core::hash::FastHasher>,
    consumers: ArcSwap<Consumers>,
}

/// Consumers by id, and by name where the name is unique across tenants.
#[derive(Debug, Default)]
struct Consumers {
    by_id: FastMap<Arc<str>, Consumer>,
    by_name: FastMap<Arc<str>, Arc<str>>,
}

impl Default for KeyIndex {
    fn default() -> Self {
        KeyIndex {
            keys: papaya::HashMap::default(),
            consumers: ArcSwap::from_pointee(Consumers::default()),
        }
    }
}

impl KeyIndex {
    /// An empty index.
    pub fn new() -> Self {
        KeyIndex::default()
    }

    /// Add or replace the key whose SHA-256 is `hash`.
    pub fn insert(&self, hash: [u8; 32], key: IndexedKey) {
        self.keys.pin().insert(hash, key);
    }

    /// Forget the key whose SHA-256 is `hash` (revoked or deleted).
    pub fn remove(&self, hash: &[u8; 32]) {
        self.keys.pin().remove(hash);
    }

    /// Number of keys held.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// No keys held.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The hash of every key held (for reconciling with the store).
    pub fn hashes(&self) -> Vec<[u8; 32]> {
        self.keys.pin().iter().map(|(h, _)| *h).collect()
    }

    /// Every key with its hash, for rebuilding key-level grants after the
    /// consumers changed.
    pub fn keys_with_own_grants(&self) -> Vec<([u8; 32], IndexedKey)> {
        self.keys
            .pin()
            .iter()
            .filter(|(_, k)| k.grants.is_some())
            .map(|(h, k)| (*h, k.clone()))
            .collect()
    }

    /// Replace every consumer at once (each with `key_id: None` and its
    /// consumer-level grants). Names shared by consumers of several tenants
    /// are reachable only by id.
    pub fn replace_consumers(&self, consumers: impl IntoIterator<Item = Consumer>) {
        let mut by_id = FastMap::default();
        let mut names: FastMap<Arc<str>, Option<Arc<str>>> = FastMap::default();
        for c in consumers {
            names
                .entry(Arc::clone(&c.name))
                .and_modify(|id| *id = None)
                .or_insert_with(|| Some(Arc::clone(&c.id)));
            by_id.insert(Arc::clone(&c.id), c);
        }
        let by_name = names
            .into_iter()
            .filter_map(|(name, id)| Some((name, id?)))
            .collect();
        self.consumers.store(Arc::new(Consumers { by_id, by_name }));
    }

    /// The consumer with id `id`, as the index holds it.
    pub fn consumer(&self, id: &str) -> Option<Consumer> {
        self.consumers.load().by_id.get(id).cloned()
    }

    fn lookup_at(&self, hash: &[u8; 32], now_ms: i64) -> Option<Consumer> {
        let keys = self.keys.pin();
        let key = keys.get(hash)?;
        if key.expires_at_ms.is_some_and(|at| at <= now_ms) {
            return None;
        }
        let consumers = self.consumers.load();
        let consumer = consumers.by_id.get(&key.consumer_id)?;
        Some(Consumer {
            id: Arc::clone(&consumer.id),
            name: Arc::clone(&consumer.name),
            tenant: consumer.tenant.clone(),
            key_id: Some(Arc::clone(&key.key_id)),
            grants: key
                .grants
                .clone()
                .unwrap_or_else(|| Arc::clone(&consumer.grants)),
        })
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl ConsumerDirectory for KeyIndex {
    fn lookup_key(&self, key_sha256: &[u8; 32]) -> Option<Consumer> {
        self.lookup_at(key_sha256, now_ms())
    }

    fn lookup_consumer(&self, name: &str) -> Option<Consumer> {
        let consumers = self.consumers.load();
        let id = consumers.by_name.get(name).map_or(name, |id| id.as_ref());
        consumers.by_id.get(id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consumer(id: &str, name: &str, tenant: &str) -> Consumer {
        Consumer::unrestricted(id, name, Some(tenant))
    }

    fn key(id: &str, consumer: &str, expires: Option<i64>) -> IndexedKey {
        IndexedKey {
            key_id: Arc::from(id),
            consumer_id: Arc::from(consumer),
            expires_at_ms: expires,
            grants: None,
        }
    }

    #[test]
    fn finds_keys_through_their_consumer() {
        let index = KeyIndex::new();
        index.replace_consumers([consumer("c1", "web", "t1")]);
        index.insert([1; 32], key("k1", "c1", None));
        let found = index.lookup_key(&[1; 32]).unwrap();
        assert_eq!(&*found.id, "c1");
        assert_eq!(found.key_id.as_deref(), Some("k1"));
        assert_eq!(found.tenant.as_deref(), Some("t1"));
        assert!(index.lookup_key(&[2; 32]).is_none());
        index.remove(&[1; 32]);
        assert!(
            index.lookup_key(&[1; 32]).is_none(),
            "removed keys stop at once"
        );
    }

    #[test]
    fn expired_keys_and_orphans_do_not_authenticate() {
        let index = KeyIndex::new();
        index.replace_consumers([consumer("c1", "web", "t1")]);
        index.insert([1; 32], key("k1", "c1", Some(1_000)));
        assert!(index.lookup_at(&[1; 32], 999).is_some());
        assert!(index.lookup_at(&[1; 32], 1_000).is_none());
        index.insert([2; 32], key("k2", "gone", None));
        assert!(index.lookup_key(&[2; 32]).is_none(), "consumer deleted");
    }

    #[test]
    fn key_grants_override_the_consumers() {
        let index = KeyIndex::new();
        index.replace_consumers([consumer("c1", "web", "t1")]);
        let own = Arc::new(Grants {
            key_models: Some([Arc::from("mini")].into_iter().collect()),
            ..Grants::default()
        });
        let mut k = key("k1", "c1", None);
        k.grants = Some(Arc::clone(&own));
        index.insert([1; 32], k);
        let found = index.lookup_key(&[1; 32]).unwrap();
        assert!(Arc::ptr_eq(&found.grants, &own));
        assert_eq!(index.keys_with_own_grants().len(), 1);
    }

    #[test]
    fn consumers_by_unique_name_or_id() {
        let index = KeyIndex::new();
        index.replace_consumers([
            consumer("c1", "web", "t1"),
            consumer("c2", "web", "t2"),
            consumer("c3", "batch", "t1"),
        ]);
        assert_eq!(
            index.lookup_consumer("batch").map(|c| c.id),
            Some(Arc::from("c3"))
        );
        assert!(index.lookup_consumer("web").is_none(), "ambiguous name");
        assert_eq!(
            index.lookup_consumer("c2").map(|c| c.id),
            Some(Arc::from("c2"))
        );
        assert_eq!(index.consumer("c1").map(|c| c.name), Some(Arc::from("web")));
    }
}
