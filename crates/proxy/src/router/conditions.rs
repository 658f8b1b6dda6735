//! The conditions checked after host and path: method, headers, query.

use std::borrow::Cow;

use http::{HeaderName, Method};
use regex::Regex;
use sy_config::{MatchSpec, ValueMatchSpec};
use sy_http::FieldsRef;

use super::RouteRequest;

/// A compiled `exact` / `regex` / `present` test.
#[derive(Debug)]
enum ValueTest {
    Exact(Box<[u8]>),
    /// Compiled as `\A(?:re)\z`.
    Regex(Regex),
    Present(bool),
}

impl ValueTest {
    fn compile(v: &ValueMatchSpec) -> Result<Self, String> {
        match (&v.exact, &v.regex, v.present) {
            (Some(e), None, None) => Ok(Self::Exact(e.as_bytes().into())),
            (None, Some(r), None) => Regex::new(&format!(r"\A(?:{r})\z"))
                .map(Self::Regex)
                .map_err(|e| format!("regex: {e}")),
            (None, None, Some(p)) => Ok(Self::Present(p)),
            _ => Err("exactly one of `exact`, `regex`, `present` must be given".to_owned()),
        }
    }

    /// Tests one value (bytes, as a header value or a decoded query value).
    fn value_matches(&self, value: &[u8]) -> bool {
        match self {
            Self::Exact(e) => **e == *value,
            Self::Regex(r) => r.is_match(&String::from_utf8_lossy(value)),
            Self::Present(_) => true,
        }
    }
}

#[derive(Debug)]
struct HeaderCondition {
    name: HeaderName,
    test: ValueTest,
}

#[derive(Debug)]
struct QueryCondition {
    /// Compared against the decoded parameter name.
    name: Box<[u8]>,
    test: ValueTest,
}

/// Everything a route checks besides host and path.
#[derive(Debug)]
pub(crate) struct Conditions {
    methods: Box<[Method]>,
    headers: Box<[HeaderCondition]>,
    query: Box<[QueryCondition]>,
}

impl Conditions {
    pub(crate) fn compile(spec: &MatchSpec) -> Result<Self, String> {
        let mut methods = Vec::with_capacity(spec.methods.len());
        for (i, m) in spec.methods.iter().enumerate() {
            let upper = m.to_ascii_uppercase();
            let method = Method::from_bytes(upper.as_bytes())
                .map_err(|e| format!("methods[{i}]: `{m}`: {e}"))?;
            if !methods.contains(&method) {
                methods.push(method);
            }
        }
        let mut headers = Vec::with_capacity(spec.headers.len());
        for (i, h) in spec.headers.iter().enumerate() {
            let name = HeaderName::from_bytes(h.name.as_bytes())
                .map_err(|e| format!("headers[{i}].name: `{}`: {e}", h.name))?;
            let test = ValueTest::compile(h).map_err(|e| format!("headers[{i}]: {e}"))?;
            headers.push(HeaderCondition { name, test });
        }
        let mut query = Vec::with_capacity(spec.query.len());
        for (i, q) in spec.query.iter().enumerate() {
            if q.name.is_empty() {
                return Err(format!("query[{i}].name: empty"));
            }
            let test = ValueTest::compile(q).map_err(|e| format!("query[{i}]: {e}"))?;
            query.push(QueryCondition {
                name: q.name.as_bytes().into(),
                test,
            });
        }
        Ok(Self {
            methods: methods.into(),
            headers: headers.into(),
            query: query.into(),
        })
    }

    /// The condition count used for specificity: headers + query, plus one
    /// for a method list.
    pub(crate) fn count(&self) -> u32 {
        let n = self.headers.len() + self.query.len() + usize::from(!self.methods.is_empty());
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    pub(crate) fn matches(&self, req: &RouteRequest<'_>) -> bool {
        (self.methods.is_empty() || self.methods.contains(req.method))
            && self.headers.iter().all(|h| header_matches(h, req.headers))
            && self
                .query
                .iter()
                .all(|q| query_matches(q, req.query.unwrap_or("")))
    }
}

fn header_matches(c: &HeaderCondition, headers: FieldsRef<'_>) -> bool {
    match c.test {
        ValueTest::Present(p) => headers.contains(&c.name) == p,
        _ => headers.get_all(&c.name).any(|v| c.test.value_matches(v)),
    }
}

fn query_matches(c: &QueryCondition, query: &str) -> bool {
    let mut values = query_pairs(query).filter(|(n, _)| *percent_decode(n) == *c.name);
    match c.test {
        ValueTest::Present(p) => values.next().is_some() == p,
        _ => values.any(|(_, v)| c.test.value_matches(&percent_decode(v))),
    }
}

/// `a=1&b&c=` → (`a`, `1`), (`b`, ``), (`c`, ``); empty pieces are skipped.
pub(crate) fn query_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
}

/// Form-style decoding: `+` is a space, `%XY` a byte; a `%` not followed by
/// two hex digits stays as is. Borrows when there is nothing to decode.
pub(crate) fn percent_decode(s: &str) -> Cow<'_, [u8]> {
    let bytes = s.as_bytes();
    if !bytes.iter().any(|&b| b == b'%' || b == b'+') {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let decoded = match b {
            b'+' => Some((b' ', 1)),
            b'%' => match (
                bytes.get(i + 1).and_then(|&h| hex(h)),
                bytes.get(i + 2).and_then(|&l| hex(l)),
            ) {
                (Some(h), Some(l)) => Some((h << 4 | l, 3)),
                _ => None,
            },
            _ => None,
        };
        let (byte, step) = decoded.unwrap_or((b, 1));
        out.push(byte);
        i += step;
    }
    Cow::Owned(out)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}
