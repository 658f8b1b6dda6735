//! Secrets at rest: `SecretBox` encrypts provider credentials with
//! AES-256-GCM, plus the hashing helpers for API keys, session tokens and
//! passwords.
//!
//! Ciphertext format: `v1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`, where
//! the key id is the first 8 hex digits of the key's SHA-256. The key id lets
//! a decrypt with the wrong key fail with a clear message, and lets
//! [`crate::Store::rotate_secrets`] tell what is already re-encrypted.

use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};

/// Environment variable holding the base64 of the 32-byte secret key.
pub const SECRET_KEY_ENV: &str = "SWITCHYARD_SECRET_KEY";
/// Environment variable naming a file that holds the base64 key.
pub const SECRET_KEY_FILE_ENV: &str = "SWITCHYARD_SECRET_KEY_FILE";

const NONCE_LEN: usize = 12;

/// AES-256-GCM with one key. Debug shows the key id only, never the key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
    key_id: String,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretBox")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl SecretBox {
    /// A box for this 256-bit key.
    pub fn from_key_bytes(key: [u8; 32]) -> SecretBox {
        let key_id = hex(&Sha256::digest(key))[..8].to_owned();
        SecretBox {
            cipher: Aes256Gcm::new(&key.into()),
            key_id,
        }
    }

    /// A box for the base64 (standard alphabet, padding optional) of a
    /// 32-byte key.
    pub fn from_base64(text: &str) -> Result<SecretBox> {
        let text = text.trim();
        let bytes = STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .map_err(|_| StoreError::Crypto("secret key is not valid base64".into()))?;
        let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            StoreError::Crypto(format!("secret key must be 32 bytes, got {}", b.len()))
        })?;
        Ok(SecretBox::from_key_bytes(key))
    }

    /// The key from `SWITCHYARD_SECRET_KEY`, else from the file named by
    /// `SWITCHYARD_SECRET_KEY_FILE`; `Ok(None)` when neither is set.
    pub fn from_env_or_file() -> Result<Option<SecretBox>> {
        if let Ok(text) = std::env::var(SECRET_KEY_ENV) {
            return SecretBox::from_base64(&text).map(Some);
        }
        if let Ok(path) = std::env::var(SECRET_KEY_FILE_ENV) {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| StoreError::Crypto(format!("reading {path}: {e}")))?;
            return SecretBox::from_base64(&text).map(Some);
        }
        Ok(None)
    }

    /// First 8 hex digits of the key's SHA-256.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Encrypts with a fresh random 96-bit nonce.
    pub fn encrypt(&self, plain: &str) -> Result<String> {
        let nonce_bytes: [u8; NONCE_LEN] = random_bytes()?;
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce_bytes), plain.as_bytes())
            .map_err(|_| StoreError::Crypto("encryption failed".into()))?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&sealed);
        Ok(format!("v1:{}:{}", self.key_id, STANDARD.encode(out)))
    }

    /// Decrypts what [`SecretBox::encrypt`] made with the same key.
    pub fn decrypt(&self, text: &str) -> Result<String> {
        let mut parts = text.splitn(3, ':');
        let (Some("v1"), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(StoreError::Crypto("unknown ciphertext format".into()));
        };
        if key_id != self.key_id {
            return Err(StoreError::Crypto(format!(
                "secret was encrypted with key {key_id}, not with the configured key {}",
                self.key_id
            )));
        }
        let bytes = STANDARD
            .decode(body)
            .map_err(|_| StoreError::Crypto("ciphertext is not valid base64".into()))?;
        if bytes.len() < NONCE_LEN {
            return Err(StoreError::Crypto("ciphertext too short".into()));
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), sealed)
            .map_err(|_| StoreError::Crypto("decryption failed (wrong key or tampered)".into()))?;
        String::from_utf8(plain).map_err(|_| StoreError::Crypto("secret is not UTF-8".into()))
    }

    /// Whether `text` was encrypted with this box's key (by key id).
    pub fn owns(&self, text: &str) -> bool {
        text.strip_prefix("v1:").and_then(|t| t.split(':').next()) == Some(self.key_id.as_str())
    }
}

/// `N` bytes from the operating system's CSPRNG.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    OsRng
        .try_fill_bytes(&mut buf)
        .map_err(|e| StoreError::Crypto(format!("random source failed: {e}")))?;
    Ok(buf)
}

/// `prefix` + base64url (no padding) of 32 random bytes.
pub(crate) fn random_token(prefix: &str) -> Result<String> {
    Ok(format!(
        "{prefix}{}",
        URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)
    ))
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(data: &str) -> String {
    hex(&Sha256::digest(data.as_bytes()))
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// Parses 64 hex digits (either case) into 32 bytes.
pub(crate) fn parse_hash(text: &str) -> Option<[u8; 32]> {
    let b = text.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (i, pair) in b.chunks_exact(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

/// argon2id PHC string (default parameters, random 16-byte salt). Slow on
/// purpose: call from `spawn_blocking`.
pub(crate) fn hash_password(password: &str) -> Result<String> {
    use argon2::PasswordHasher;
    use argon2::password_hash::SaltString;
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|e| StoreError::Crypto(e.to_string()))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Crypto(e.to_string()))
}

/// Checks `password` against a PHC string; `false` on mismatch or a
/// malformed hash. Slow on purpose: call from `spawn_blocking`.
pub(crate) fn verify_password(phc: &str, password: &str) -> bool {
    use argon2::PasswordVerifier;
    argon2::password_hash::PasswordHash::new(phc)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let h = sha256_hex("abc");
        assert_eq!(
            h,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(hex(&parse_hash(&h).unwrap()), h);
        assert!(parse_hash("zz").is_none());
    }

    #[test]
    fn debug_hides_the_key() {
        let b = SecretBox::from_key_bytes([7; 32]);
        let dbg = format!("{b:?}");
        assert!(dbg.contains(b.key_id()));
        assert!(!dbg.contains("7, 7"));
    }

    #[test]
    fn password_hash_is_argon2id() {
        let phc = hash_password("hunter2").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password(&phc, "hunter2"));
        assert!(!verify_password(&phc, "hunter3"));
    }
}
