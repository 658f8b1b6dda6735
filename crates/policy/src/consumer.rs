//! Who is calling: [`Consumer`], and the [`ConsumerDirectory`] that
//! authentication asks to turn a key's hash into one.

use std::collections::HashMap;
use std::sync::Arc;

/// An authenticated caller: an application (consumer) and, once tenants
/// exist, the tenant that owns it. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    /// Stable identifier (the config name, or the store's id).
    pub id: Arc<str>,
    /// Display name.
    pub name: Arc<str>,
    /// Owning tenant, when known.
    pub tenant: Option<Arc<str>>,
}

/// Where authentication looks up API keys. The config-file implementation is
/// [`StaticDirectory`]; the store-backed key system plugs in behind the same
/// trait. Lookups are by the SHA-256 of the presented key, so no
/// implementation ever holds keys in clear.
pub trait ConsumerDirectory: Send + Sync + std::fmt::Debug {
    /// The consumer owning the key whose SHA-256 is `key_sha256`, if any.
    fn lookup_key(&self, key_sha256: &[u8; 32]) -> Option<Consumer>;
}

/// Keys from the configuration file, indexed by hash.
#[derive(Debug, Default)]
pub struct StaticDirectory {
    keys: HashMap<[u8; 32], Consumer>,
}

impl StaticDirectory {
    /// An index over `(key hash, consumer)` pairs.
    pub fn new(entries: impl IntoIterator<Item = ([u8; 32], Consumer)>) -> Self {
        StaticDirectory {
            keys: entries.into_iter().collect(),
        }
    }
}

impl ConsumerDirectory for StaticDirectory {
    fn lookup_key(&self, key_sha256: &[u8; 32]) -> Option<Consumer> {
        self.keys.get(key_sha256).cloned()
    }
}
