//! Consumers and their API keys.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::Report;
use crate::spec::{ConfigSpec, KeySpec};

/// Shortest clear-text key accepted: short keys are guessable.
const MIN_KEY_LEN: usize = 16;

pub(super) fn check(spec: &ConfigSpec, r: &mut Report) {
    r.unique_names(
        "consumers",
        "consumer",
        spec.consumers.iter().map(|c| c.name.as_str()),
    );
    // Keys are compared by digest, so a clear key and its own SHA-256 given
    // to two consumers are caught too. Value: where the key was first seen.
    let mut seen: HashMap<String, String> = HashMap::new();
    for (i, c) in spec.consumers.iter().enumerate() {
        for (k, key) in c.keys.iter().enumerate() {
            let base = format!("consumers[{i}].keys[{k}]");
            let (path, digest) = match key {
                KeySpec::Key(clear) => {
                    let path = format!("{base}.key");
                    if clear.chars().count() < MIN_KEY_LEN {
                        r.push(
                            path,
                            format!("a key must be at least {MIN_KEY_LEN} characters long"),
                        );
                        continue;
                    }
                    (path, hex(&Sha256::digest(clear.as_bytes())))
                }
                KeySpec::Sha256(h) => {
                    let path = format!("{base}.sha256");
                    let ok = h.len() == 64
                        && h.bytes()
                            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                    if !ok {
                        r.push(path, "a SHA-256 is 64 lower-case hex characters (`printf %s \"$KEY\" | sha256sum`)");
                        continue;
                    }
                    (path, h.clone())
                }
            };
            if let Some(first) = seen.get(&digest) {
                r.push(
                    path,
                    format!(
                        "this key is already used at {first}; each key belongs to one consumer"
                    ),
                );
            } else {
                seen.insert(digest, path);
            }
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
