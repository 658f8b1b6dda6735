use std::fmt;

use bytes::Bytes;

/// A request identifier: UUID v7, so ids sort by creation time in logs and
/// stores. A client-supplied `X-Request-Id` is kept verbatim instead when it is
/// short and printable (see [`RequestId::from_client`]).
///
/// Held as shared bytes: a request's id is copied into the request context,
/// the access-log record and two headers (upstream and client), and each of
/// those is then a reference count, not an allocation and a copy.
/// Invariant: the bytes are printable ASCII.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RequestId(Bytes);

impl RequestId {
    /// Longest client-supplied id accepted; longer ones are replaced so a
    /// client cannot bloat every log line.
    pub const MAX_CLIENT_LEN: usize = 200;

    /// A fresh time-ordered id.
    pub fn generate() -> Self {
        let mut buf = uuid::Uuid::encode_buffer();
        let s = uuid::Uuid::now_v7().as_hyphenated().encode_lower(&mut buf);
        RequestId(Bytes::copy_from_slice(s.as_bytes()))
    }

    /// Accept a client's id if it is 1..=200 visible ASCII characters;
    /// otherwise `None` and the caller generates one.
    pub fn from_client(raw: &[u8]) -> Option<Self> {
        if raw.is_empty() || raw.len() > Self::MAX_CLIENT_LEN {
            return None;
        }
        if !raw.iter().all(|b| b.is_ascii_graphic()) {
            return None;
        }
        Some(RequestId(Bytes::copy_from_slice(raw)))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Never empty in practice: both constructors admit printable ASCII only.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The id's bytes, shared (for a header value without a copy).
    pub fn to_bytes(&self) -> Bytes {
        self.0.clone()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestId({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_unique_and_time_ordered() {
        let a = RequestId::generate();
        let b = RequestId::generate();
        assert_ne!(a, b);
        assert!(a.as_str() < b.as_str(), "{a} should sort before {b}");
        assert_eq!(a.as_str().len(), 36);
    }

    #[test]
    fn client_ids_are_validated() {
        assert_eq!(
            RequestId::from_client(b"abc-123").unwrap().as_str(),
            "abc-123"
        );
        assert!(RequestId::from_client(b"").is_none());
        assert!(RequestId::from_client(b"has space").is_none());
        assert!(RequestId::from_client(&[b'a'; 201]).is_none());
        assert!(RequestId::from_client(b"bad\nnewline").is_none());
        // Bytes outside ASCII are refused, so `as_str` always has text.
        assert!(RequestId::from_client("caf\u{e9}".as_bytes()).is_none());
    }

    #[test]
    fn shared_bytes_are_the_text() {
        let generated = RequestId::generate();
        let client = RequestId::from_client(b"req-42").unwrap();
        for id in [generated, client] {
            assert_eq!(&id.to_bytes()[..], id.as_str().as_bytes());
            assert_eq!(id.clone().as_str(), id.as_str());
            assert!(!id.as_str().is_empty());
        }
    }
}
