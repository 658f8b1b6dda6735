//! Host patterns and request-host normalisation.

use std::borrow::Cow;

use super::HostRank;

/// A compiled `hosts` entry, lower case, without a trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostPattern {
    /// `api.example.com`.
    Exact(Box<str>),
    /// `*.example.com`, stored as the suffix `example.com`.
    Wildcard(Box<str>),
}

impl HostPattern {
    pub(crate) fn parse(raw: &str) -> Result<Self, String> {
        let lower = raw.to_ascii_lowercase();
        let h = lower.strip_suffix('.').unwrap_or(&lower);
        if h.is_empty() {
            return Err("empty host".to_owned());
        }
        if h.bytes()
            .any(|b| b.is_ascii_whitespace() || matches!(b, b'/' | b'?' | b'#' | b'@'))
        {
            return Err(format!("`{raw}` is not a host name"));
        }
        if h.contains(':') && !h.starts_with('[') {
            return Err(format!("`{raw}`: hosts must not carry a port"));
        }
        match h.strip_prefix("*.") {
            Some(suffix)
                if !suffix.is_empty() && !suffix.contains('*') && !suffix.starts_with('.') =>
            {
                Ok(Self::Wildcard(suffix.into()))
            }
            Some(_) => Err(format!(
                "`{raw}`: a wildcard needs a suffix, as in `*.example.com`"
            )),
            None if h.contains('*') => Err(format!(
                "`{raw}`: `*` is only allowed as the whole first label (`*.example.com`)"
            )),
            None => Ok(Self::Exact(h.into())),
        }
    }

    pub(crate) fn rank(&self) -> HostRank {
        match self {
            Self::Exact(_) => HostRank::Exact,
            Self::Wildcard(s) => HostRank::Wildcard(s.len()),
        }
    }
}

/// The request host without port or trailing dot, in lower case; `None` if
/// nothing is left. Lower-casing copies into `buf` (or, past 256 bytes, a
/// `String`); a host already in lower case is borrowed as is.
pub(crate) fn normalize<'b>(raw: &'b str, buf: &'b mut [u8; 256]) -> Option<Cow<'b, str>> {
    let h = strip_port(raw);
    let h = h.strip_suffix('.').unwrap_or(h);
    if h.is_empty() {
        return None;
    }
    if !h.bytes().any(|b| b.is_ascii_uppercase()) {
        return Some(Cow::Borrowed(h));
    }
    match buf.get_mut(..h.len()) {
        Some(dst) => {
            for (d, s) in dst.iter_mut().zip(h.bytes()) {
                *d = s.to_ascii_lowercase();
            }
            // ASCII lower-casing keeps UTF-8 valid, so this never fails.
            std::str::from_utf8(dst).ok().map(Cow::Borrowed)
        }
        None => Some(Cow::Owned(h.to_ascii_lowercase())),
    }
}

/// `example.com:8080` → `example.com`; `[::1]:8080` → `[::1]`. A bare IPv6
/// address (several colons, no brackets) is kept whole.
fn strip_port(h: &str) -> &str {
    if h.starts_with('[') {
        return match h.find(']') {
            Some(i) => h.get(..=i).unwrap_or(h),
            None => h,
        };
    }
    match h.rfind(':') {
        Some(i) if !h.get(..i).unwrap_or("").contains(':') => h.get(..i).unwrap_or(h),
        _ => h,
    }
}

/// Suffixes a wildcard could be keyed by, longest first:
/// `a.b.example.com` → `b.example.com`, `example.com`, `com`. The part before
/// each suffix is non-empty, so `*.example.com` never matches `example.com`
/// or `.example.com`.
pub(crate) fn wildcard_suffixes(host: &str) -> impl Iterator<Item = &str> {
    host.char_indices()
        .filter(|&(i, c)| c == '.' && i > 0)
        .filter_map(move |(i, _)| host.get(i + 1..))
        .filter(|s| !s.is_empty())
}

/// The bit for a suffix's label count in `Router::wildcard_labels`.
pub(crate) fn label_bit(suffix: &str) -> u64 {
    let labels = suffix.bytes().filter(|&b| b == b'.').count() + 1;
    1 << labels.min(63)
}
