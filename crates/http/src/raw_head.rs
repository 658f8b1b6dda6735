//! An upstream response head passed on as bytes.
//!
//! A proxy that builds a `HeaderMap` from every upstream response head only
//! to write the same fields out again pays for a name lookup, a hash and a
//! shared value per field, twice the map's allocations, and a walk of the
//! map to encode it: about a fifth of a proxied request's instructions. When
//! the caller forwards the head ([`UpstreamClient::forward`]), the HTTP/1.1
//! client instead keeps the end-to-end fields as the lines to write, and
//! the response carries them as a [`RawHeaders`] extension beside an empty
//! header map.
//!
//! The rule that keeps this one response, not two: **the header map wins**.
//! A name in the map replaces every raw line of that name (so inserting
//! `x-request-id` overrides the upstream's), and whoever needs to read or
//! remove the upstream's fields first calls [`materialize`] to merge them
//! into the map. The server's HTTP/1.1 encoder writes the raw lines the map
//! does not override, then the map; its HTTP/2 path materializes.
//!
//! The same type carries the other way the fields a proxy adds to a
//! request it forwards ([`RawHeaders::push`]), written after the client's.
//!
//! [`UpstreamClient::forward`]: crate::client::UpstreamClient::forward

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1),
/// plus `proxy-connection` which some clients still send. A proxy never
/// forwards them; `Upgrade` joins them except on an upgrade.
pub const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

/// The end-to-end fields of an upstream response head, as `name: value\r\n`
/// lines with lower-case names: hop-by-hop fields, `Upgrade` and the
/// framing (`Content-Length`; the body's exact size frames it again) are
/// already left out.
///
/// The same type carries the fields a proxy adds to a request it forwards
/// ([`push`](Self::push)), and lets it set one of its own on a response
/// ([`set`](Self::set)), without a header map.
#[derive(Clone, Debug, Default)]
pub struct RawHeaders {
    /// Owned and growable, so a field is added in place (a response's
    /// request id fits in the room its parser leaves).
    lines: Vec<u8>,
    has_date: bool,
    /// [`name_bit`] of every name in `lines`: a name whose bit is clear is
    /// certainly absent, so the map's own fields (a request id) are checked
    /// against the lines without scanning them.
    names: u64,
}

/// One of 64 bits for a field name, from its length, its last byte and the
/// one in its middle (both in lower case: the same bit whatever the case),
/// mixed by a multiply: a few instructions for every field parsed, and
/// names that differ in the middle alone (`x-ratelimit-limit-requests`,
/// `x-ratelimit-reset-requests`) get different bits.
/// `const`, so the bits of a set of names are one constant
/// ([`RequestFields::may_contain`](crate::RequestFields::may_contain)).
pub const fn name_bit(name: &[u8]) -> u64 {
    let len = name.len();
    let (last, mid) = match name {
        [] => (0, 0),
        [.., last] => (
            last.to_ascii_lowercase(),
            name[len / 2].to_ascii_lowercase(),
        ),
    };
    let key = (len as u64) | ((last as u64) << 8) | ((mid as u64) << 16);
    1 << (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58)
}

/// What the head parser does with a field, by its lower-case name.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FieldUse {
    /// Written on.
    Keep,
    /// Written on, and the answer needs no `Date` of ours.
    Date,
    /// Hop-by-hop, `Upgrade` or framing: not written on.
    Drop,
}

/// How a field named `lower` (lower-case) is passed on.
pub(crate) fn field_use(lower: &[u8]) -> FieldUse {
    match lower {
        b"date" => FieldUse::Date,
        b"connection"
        | b"keep-alive"
        | b"proxy-connection"
        | b"proxy-authenticate"
        | b"proxy-authorization"
        | b"te"
        | b"trailer"
        | b"transfer-encoding"
        | b"upgrade"
        | b"content-length" => FieldUse::Drop,
        _ => FieldUse::Keep,
    }
}

impl RawHeaders {
    /// Lines already filtered through [`field_use`], with the union of
    /// their names' [`name_bit`]s.
    pub(crate) fn new(lines: Vec<u8>, has_date: bool, names: u64) -> Self {
        RawHeaders {
            lines,
            has_date,
            names,
        }
    }

    /// No fields yet, with room for `bytes` of lines.
    pub fn with_capacity(bytes: usize) -> Self {
        RawHeaders {
            lines: Vec::with_capacity(bytes),
            ..Default::default()
        }
    }

    /// Add `name: value`, the value the concatenation of `parts`. A value
    /// a header could not carry (a control character) is refused: `false`.
    pub fn push(&mut self, name: &HeaderName, parts: &[&[u8]]) -> bool {
        let start = self.lines.len();
        let name = name.as_str().as_bytes();
        // Room for the whole line at once, not a check and a possible
        // growth per piece.
        let value_len: usize = parts.iter().map(|p| p.len()).sum();
        self.lines.reserve(name.len() + value_len + 4);
        self.lines.extend_from_slice(name);
        self.lines.extend_from_slice(b": ");
        let value_at = self.lines.len();
        for p in parts {
            self.lines.extend_from_slice(p);
        }
        // Checked once it is in one piece, eight bytes at a time: this runs
        // on every proxied request, over ~200 bytes.
        if !value_ok(self.lines.get(value_at..).unwrap_or_default()) {
            self.lines.truncate(start);
            return false;
        }
        self.lines.extend_from_slice(b"\r\n");
        self.names |= name_bit(name);
        self.has_date |= name == b"date";
        true
    }

    /// [`push`](Self::push) in place of every line named `name`.
    pub fn set(&mut self, name: &HeaderName, parts: &[&[u8]]) -> bool {
        let lower = name.as_str().as_bytes();
        if self.names & name_bit(lower) != 0 {
            self.remove(lower);
        }
        self.push(name, parts)
    }

    /// [`set`](Self::set) to the decimal `n`, which needs no check: the
    /// gateway's answers carry a dozen counts and limits each.
    pub fn set_number(&mut self, name: &HeaderName, n: u64) {
        let lower = name.as_str().as_bytes();
        let bit = name_bit(lower);
        if self.names & bit != 0 {
            self.remove(lower);
        }
        let mut digits = itoa::Buffer::new();
        let value = digits.format(n).as_bytes();
        self.lines.reserve(lower.len() + value.len() + 4);
        self.lines.extend_from_slice(lower);
        self.lines.extend_from_slice(b": ");
        self.lines.extend_from_slice(value);
        self.lines.extend_from_slice(b"\r\n");
        self.names |= bit;
        self.has_date |= lower == b"date";
    }

    /// Drop the lines named `name` (lower-case), in place. Its bit stays in
    /// `names` (another name may share it): a bit set for nothing only
    /// costs a scan.
    fn remove(&mut self, name: &[u8]) {
        while let Some(line) = self.find(name) {
            self.lines.drain(line);
        }
        if name == b"date" {
            self.has_date = false;
        }
    }

    /// The byte range of the first line named `name` (lower-case). A line
    /// is compared only when its colon is where `name`'s would be: most
    /// lines are passed over by one byte instead of a call to compare.
    /// (Searching the block for the name with `memmem` cost more: it
    /// prepares a searcher on every call.)
    fn find(&self, name: &[u8]) -> Option<std::ops::Range<usize>> {
        let lines = self.lines.as_slice();
        let mut at = 0;
        while let Some(rest) = lines.get(at..).filter(|r| !r.is_empty()) {
            let end = memchr::memchr(b'\n', rest).map_or(lines.len(), |i| at + i + 1);
            if rest.get(name.len()) == Some(&b':') && rest.starts_with(name) {
                return Some(at..end);
            }
            at = end;
        }
        None
    }

    /// Whether a line is named `name` (lower-case).
    pub fn contains(&self, name: &[u8]) -> bool {
        self.names & name_bit(name) != 0 && self.find(name).is_some()
    }

    /// The fields, as `(name, value)` byte slices, in the upstream's order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.lines
            .split_inclusive(|&b| b == b'\n')
            .filter_map(|line| split_line(line).map(|(n, v, _)| (n, v)))
    }

    /// Append the lines `map` does not override to `out`; whether a `Date`
    /// line was among them.
    pub(crate) fn write_to(&self, out: &mut Vec<u8>, map: &HeaderMap) -> bool {
        if map
            .keys()
            .all(|k| self.names & name_bit(k.as_str().as_bytes()) == 0)
        {
            out.extend_from_slice(&self.lines);
            return self.has_date;
        }
        let mut date = false;
        for line in self.lines.split_inclusive(|&b| b == b'\n') {
            let Some((name, _, _)) = split_line(line) else {
                continue;
            };
            if overridden(map, name) {
                continue;
            }
            date |= name == b"date";
            out.extend_from_slice(line);
        }
        date
    }

    /// Merge into `map` the fields whose names it does not hold, keeping
    /// the upstream's order ahead of the map's own fields.
    pub fn merge_into(self, map: &mut HeaderMap) {
        let mut merged = HeaderMap::with_capacity(map.len() + 8);
        // One buffer the values share.
        let lines = Bytes::from(self.lines);
        let base = lines.as_ptr() as usize;
        for line in lines.split_inclusive(|&b| b == b'\n') {
            let Some((name, _, value_at)) = split_line(line) else {
                continue;
            };
            if overridden(map, name) {
                continue;
            }
            let start = line.as_ptr() as usize - base + value_at;
            let end = line.as_ptr() as usize - base + line.len() - 2;
            // Both checked by the parser that made the line; a line that
            // somehow is not valid is left out rather than trusted.
            let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name),
                HeaderValue::from_maybe_shared(lines.slice(start..end)),
            ) else {
                continue;
            };
            merged.append(name, value);
        }
        merged.extend(std::mem::take(map));
        *map = merged;
    }
}

/// Whether `map` holds a field named `name` (lower-case). Linear for the
/// few fields a proxy adds (a request id, say), where comparing names is
/// cheaper than parsing and hashing one.
fn overridden(map: &HeaderMap, name: &[u8]) -> bool {
    if map.keys_len() <= 8 {
        map.keys().any(|k| k.as_str().as_bytes() == name)
    } else {
        HeaderName::from_bytes(name).is_ok_and(|n| map.contains_key(n))
    }
}

/// Whether a header value may carry `b`: a tab, or visible ASCII, space
/// and obs-text (RFC 9110 §5.5), as `HeaderValue` accepts.
fn byte_ok(b: &u8) -> bool {
    *b == b'\t' || (*b >= 0x20 && *b != 0x7f)
}

/// [`byte_ok`] for every byte of `v`, eight at a time: a word with no byte
/// below 0x20 (tabs included) and none equal to 0x7f is fine as a whole,
/// and only a word with one is checked byte by byte. The bytes after the
/// last whole word are checked as the value's last eight (overlapping the
/// word before), and a value shorter than a word padded with spaces: a
/// byte-by-byte tail cost as much as all the words of a typical value.
fn value_ok(v: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Exact for "some byte is below n" with n <= 0x80 (Hacker's Delight).
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGHS != 0;
    let word_ok = |word: [u8; 8]| {
        let x = u64::from_le_bytes(word);
        !(below(x, 0x20) || below(x ^ (ONES * 0x7f), 1)) || word.iter().all(byte_ok)
    };
    let Some(last) = v.len().checked_sub(8) else {
        let mut word = [b' '; 8];
        if let Some(head) = word.get_mut(..v.len()) {
            head.copy_from_slice(v);
        }
        return word_ok(word);
    };
    let mut words = v.chunks_exact(8);
    let whole = words.all(|w| word_ok(<[u8; 8]>::try_from(w).unwrap_or_default()));
    whole
        && (words.remainder().is_empty()
            || v.get(last..)
                .and_then(|w| <[u8; 8]>::try_from(w).ok())
                .is_some_and(word_ok))
}

/// `(name, value, offset of the value)` of one `name: value\r\n` line.
fn split_line(line: &[u8]) -> Option<(&[u8], &[u8], usize)> {
    let colon = line.iter().position(|&b| b == b':')?;
    let value_at = colon + 2;
    let value = line.get(value_at..line.len().checked_sub(2)?)?;
    Some((line.get(..colon)?, value, value_at))
}

/// Merge the response's [`RawHeaders`], if it carries any, into its header
/// map: call before reading or removing the upstream's fields.
pub fn materialize(parts: &mut http::response::Parts) {
    if let Some(raw) = parts.extensions.remove::<RawHeaders>() {
        raw.merge_into(&mut parts.headers);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(lines: &str) -> RawHeaders {
        let date = lines.split("\r\n").any(|l| l.starts_with("date:"));
        let names = lines
            .split("\r\n")
            .filter_map(|l| l.split_once(':'))
            .fold(0, |bits, (n, _)| bits | name_bit(n.as_bytes()));
        RawHeaders::new(lines.as_bytes().to_vec(), date, names)
    }

    #[test]
    fn drops_exactly_the_hop_by_hop_upgrade_and_framing_fields() {
        for name in &HOP_BY_HOP {
            assert_eq!(
                field_use(name.as_str().as_bytes()),
                FieldUse::Drop,
                "{name}"
            );
        }
        assert_eq!(field_use(b"upgrade"), FieldUse::Drop);
        assert_eq!(field_use(b"content-length"), FieldUse::Drop);
        assert_eq!(field_use(b"date"), FieldUse::Date);
        for keep in ["content-type", "set-cookie", "x-connection", "tee", "etag"] {
            assert_eq!(field_use(keep.as_bytes()), FieldUse::Keep, "{keep}");
        }
    }

    #[test]
    fn the_fields_a_proxy_adds_miss_the_common_response_names() {
        let common = [
            "content-type",
            "date",
            "server",
            "cache-control",
            "etag",
            "vary",
            "x-upstream",
            "set-cookie",
        ];
        let bits = common.iter().fold(0, |b, n| b | name_bit(n.as_bytes()));
        assert_eq!(bits & name_bit(b"x-request-id"), 0);
    }

    #[test]
    fn the_map_overrides_lines_of_its_names() {
        let r = raw(
            "content-type: text/plain\r\nx-request-id: up\r\nset-cookie: a=1\r\nset-cookie: b=2\r\ndate: Mon\r\n",
        );
        let mut out = Vec::new();
        assert!(r.write_to(&mut out, &HeaderMap::new()));
        assert_eq!(out, r.lines);

        let mut map = HeaderMap::new();
        map.insert("x-request-id", HeaderValue::from_static("ours"));
        map.insert("date", HeaderValue::from_static("Tue"));
        out.clear();
        assert!(!r.write_to(&mut out, &map), "the date line is overridden");
        assert_eq!(
            out,
            b"content-type: text/plain\r\nset-cookie: a=1\r\nset-cookie: b=2\r\n"
        );
    }

    #[test]
    fn merging_keeps_every_value_and_lets_the_map_win() {
        let r = raw(
            "content-type: text/plain\r\nx-request-id: up\r\nset-cookie: a=1\r\nset-cookie: b=2\r\n",
        );
        let mut map = HeaderMap::new();
        map.insert("x-request-id", HeaderValue::from_static("ours"));
        let mut parts = http::Response::new(()).into_parts().0;
        parts.headers = map;
        parts.extensions.insert(r);
        materialize(&mut parts);
        assert!(parts.extensions.get::<RawHeaders>().is_none());
        let h = &parts.headers;
        assert_eq!(h["content-type"], "text/plain");
        assert_eq!(h["x-request-id"], "ours");
        assert_eq!(h.get_all("x-request-id").iter().count(), 1);
        let cookies: Vec<_> = h.get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        let names: Vec<_> = h.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["content-type", "set-cookie", "x-request-id"]);
    }

    #[test]
    fn pushed_lines_refuse_control_characters_and_merge_like_upstream_lines() {
        let mut lines = RawHeaders::with_capacity(64);
        assert!(lines.push(
            &HeaderName::from_static("x-forwarded-for"),
            &[b"1.2.3.4", b", ", b"::1"]
        ));
        assert!(!lines.push(&HeaderName::from_static("x-bad"), &[b"a\r\nx-injected: 1"]));
        assert!(lines.push(&header::FORWARDED, &[b"for=1.2.3.4"]));
        let raw = lines;
        assert_eq!(
            raw.iter().collect::<Vec<_>>(),
            [
                (&b"x-forwarded-for"[..], &b"1.2.3.4, ::1"[..]),
                (&b"forwarded"[..], &b"for=1.2.3.4"[..])
            ]
        );
        let mut map = HeaderMap::new();
        map.insert("x-client", HeaderValue::from_static("c"));
        raw.merge_into(&mut map);
        assert_eq!(map["x-forwarded-for"], "1.2.3.4, ::1");
        assert_eq!(map["x-client"], "c");
        assert!(map.get("x-bad").is_none() && map.get("x-injected").is_none());
    }

    #[test]
    fn set_replaces_every_line_of_its_name() {
        let mut r =
            raw("x-request-id: up\r\ndate: Mon\r\nset-cookie: a=1\r\nx-request-id: up2\r\n");
        assert!(r.set(&HeaderName::from_static("x-request-id"), &[b"ours"]));
        assert_eq!(
            String::from_utf8(r.lines.clone()).unwrap(),
            "date: Mon\r\nset-cookie: a=1\r\nx-request-id: ours\r\n"
        );
        assert!(r.set(&header::DATE, &[b"Tue"]));
        let mut out = Vec::new();
        assert!(r.write_to(&mut out, &HeaderMap::new()));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "set-cookie: a=1\r\nx-request-id: ours\r\ndate: Tue\r\n"
        );
        // A name that only starts with it stays.
        let mut r = raw("x-request-id-from: a\r\nx-request-id: b\r\n");
        assert!(r.set(&HeaderName::from_static("x-request-id"), &[b"c"]));
        assert_eq!(r.lines, b"x-request-id-from: a\r\nx-request-id: c\r\n");
        assert!(r.contains(b"x-request-id-from") && !r.contains(b"x-request"));
        // The name inside another name or inside a value is not its line.
        let mut r = raw("a-x-request-id: 1\r\nb: x-request-id: 2\r\nx-request-id: 3\r\n");
        assert!(r.set(&HeaderName::from_static("x-request-id"), &[b"4"]));
        assert_eq!(
            r.lines,
            b"a-x-request-id: 1\r\nb: x-request-id: 2\r\nx-request-id: 4\r\n"
        );
        let r = raw("a-x-request-id: 1\r\nb: x-request-id: 2\r\n");
        assert!(!r.contains(b"x-request-id"));
        // A name not there is only added.
        let mut r = raw("a: 1\r\n");
        assert!(r.set(&HeaderName::from_static("x-request-id"), &[b"ours"]));
        assert_eq!(r.lines, b"a: 1\r\nx-request-id: ours\r\n");
    }

    #[test]
    fn values_are_checked_as_byte_by_byte() {
        // Every byte value at every offset of a word and of the tail.
        for len in [1, 2, 7, 8, 9, 15, 16, 23] {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut v = vec![b'a'; len];
                    v[at] = b;
                    assert_eq!(value_ok(&v), byte_ok(&b), "byte {b:#x} at {at} of {len}");
                }
            }
        }
        assert!(value_ok(b""));
        assert!(value_ok(b"\tobs-text \x80\xff tab\t and ~ !"));
    }

    #[test]
    fn iterates_names_and_values() {
        let r = raw("a: 1\r\nb: \r\nc: x: y\r\n");
        let got: Vec<_> = r.iter().collect();
        assert_eq!(
            got,
            [
                (&b"a"[..], &b"1"[..]),
                (&b"b"[..], &b""[..]),
                (&b"c"[..], &b"x: y"[..])
            ]
        );
    }
}
