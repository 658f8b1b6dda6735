use std::fmt;

/// A request identifier: UUID v7, so ids sort by creation time in logs and
/// stores. A client-supplied `X-Request-Id` is kept verbatim instead when it is
/// short and printable (see [`RequestId::from_client`]).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RequestId(Box<str>);

impl RequestId {
    /// Longest client-supplied id accepted; longer ones are replaced so a
    /// client cannot bloat every log line.
    pub const MAX_CLIENT_LEN: usize = 200;

    /// A fresh time-ordered id.
    pub fn generate() -> Self {
        let mut buf = uuid::Uuid::encode_buffer();
        let s = uuid::Uuid::now_v7().as_hyphenated().encode_lower(&mut buf);
        RequestId(Box::from(&*s))
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
        std::str::from_utf8(raw)
            .ok()
            .map(|s| RequestId(Box::from(s)))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestId({})", self.0)
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
    }
}
