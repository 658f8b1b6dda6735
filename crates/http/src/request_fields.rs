//! A client's request fields passed on as the bytes they came in.
//!
//! Building a `HeaderMap` from every request head costs a name lookup, a
//! hash, a shared value and an insert per field, the map's allocations and
//! their drop, and then a walk of the map to write the same fields to the
//! upstream: about a tenth of a proxied request's instructions. A proxy
//! route with no policy reads only a few fields (the host, a request id, a
//! routing condition's), so a handler that says so
//! ([`Handler::fields_as_lines`](crate::Handler::fields_as_lines)) gets
//! the fields as [`RequestFields`] beside an empty header map
//! ([`Handler::call_lines`](crate::Handler::call_lines)). It reads them in place, removes the ones it replaces,
//! and the upstream client writes the rest as they came, in runs of whole
//! lines; whoever needs the map calls [`RequestFields::into_map`].
//!
//! Heads this does not fit stay maps: upgrades, and a `Connection` field
//! naming other fields (which must then be removed by name).

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};

use crate::raw_head::{RawHeaders, name_bit};

/// One field line of the head, as offsets into it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    /// Where the line, and its name, begin.
    pub line: u32,
    pub name_end: u32,
    pub value: u32,
    pub value_end: u32,
    /// Just past the line's end (its `\n`).
    pub end: u32,
    /// Hop-by-hop or framing: never written to the upstream.
    pub hop: bool,
    /// Ends in `\r\n`, so it can be copied as it is (a bare `\n` is
    /// rewritten: an upstream may not read it as the end of a line).
    pub crlf: bool,
    /// Removed by the handler.
    pub removed: bool,
}

/// The fields of a request head, kept as the head's bytes with the offsets
/// of each line (see the module documentation).
#[derive(Debug, Clone)]
pub struct RequestFields {
    head: Bytes,
    spans: Vec<Span>,
    /// [`name_bit`] of every name (in any case): a name whose bit is clear is
    /// certainly absent, so most lookups of a missing field scan nothing.
    names: u64,
}

impl RequestFields {
    pub(crate) fn new(head: Bytes, spans: Vec<Span>) -> Self {
        let mut fields = RequestFields {
            head,
            spans,
            names: 0,
        };
        fields.names = fields.spans.iter().fold(0, |bits, s| {
            bits | name_bit(fields.bytes(s.line, s.name_end))
        });
        fields
    }

    fn bytes(&self, from: u32, to: u32) -> &[u8] {
        self.head
            .get(from as usize..to as usize)
            .unwrap_or_default()
    }

    fn name_of(&self, s: &Span) -> &[u8] {
        self.bytes(s.line, s.name_end)
    }

    fn value_of(&self, s: &Span) -> &[u8] {
        self.bytes(s.value, s.value_end)
    }

    /// The fields not removed, as `(name as sent, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.spans
            .iter()
            .filter(|s| !s.removed)
            .map(|s| (self.name_of(s), self.value_of(s)))
    }

    /// The lines named `name` (lower-case), none at all when its name bit
    /// is clear.
    fn matching<'a>(&'a self, lower: &'a [u8]) -> impl Iterator<Item = &'a Span> + 'a {
        let maybe = self.names & name_bit(lower) != 0;
        self.spans
            .iter()
            .take(if maybe { usize::MAX } else { 0 })
            .filter(move |s| named(&self.head, s, lower))
    }

    /// The first line named `name`, by a plain scan (an iterator chain
    /// here cost twice the instructions, on every request).
    fn first(&self, name: &HeaderName) -> Option<&Span> {
        let lower = name.as_str().as_bytes();
        if self.names & name_bit(lower) == 0 {
            return None;
        }
        self.spans.iter().find(|s| named(&self.head, s, lower))
    }

    /// Whether a field whose [`name_bit`] is among `bits` may be here:
    /// `false` is certain. For a set of names looked for on every request,
    /// its bits one constant.
    pub fn may_contain(&self, bits: u64) -> bool {
        self.names & bits != 0
    }

    /// The first value of `name`.
    pub fn get(&self, name: &HeaderName) -> Option<&[u8]> {
        self.first(name).map(|s| self.value_of(s))
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a HeaderName) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.matching(name.as_str().as_bytes())
            .map(|s| self.value_of(s))
    }

    /// Whether a field is named `name`.
    pub fn contains(&self, name: &HeaderName) -> bool {
        self.first(name).is_some()
    }

    /// The first value of `name` as a header value sharing the head's bytes.
    pub fn value(&self, name: &HeaderName) -> Option<HeaderValue> {
        let s = self.first(name)?;
        HeaderValue::from_maybe_shared(self.head.slice(s.value as usize..s.value_end as usize)).ok()
    }

    /// Remove every field named `name`.
    pub fn remove(&mut self, name: &HeaderName) {
        let lower = name.as_str().as_bytes();
        if self.names & name_bit(lower) == 0 {
            return;
        }
        let head = &self.head;
        for s in &mut self.spans {
            if named(head, s, lower) {
                s.removed = true;
            }
        }
    }

    /// The fields not removed, hop-by-hop ones included, as a header map in
    /// their order (for code that reads or edits fields). Every field was
    /// checked by the head's parser; one a map cannot hold, which that
    /// grammar does not let through, would be left out rather than trusted.
    pub fn into_map(self) -> HeaderMap {
        let mut map = HeaderMap::with_capacity(self.spans.len() + 8);
        self.append_to(&mut map, false);
        map
    }

    /// Append the fields not removed to `map` (without the hop-by-hop and
    /// framing ones when `end_to_end`).
    pub(crate) fn append_to(&self, map: &mut HeaderMap, end_to_end: bool) {
        for s in self
            .spans
            .iter()
            .filter(|s| !(s.removed || end_to_end && s.hop))
        {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(self.name_of(s)),
                HeaderValue::from_maybe_shared(
                    self.head.slice(s.value as usize..s.value_end as usize),
                ),
            ) {
                map.append(name, value);
            }
        }
    }

    /// Write the end-to-end fields not removed, as the client sent them:
    /// runs of adjacent lines in one copy each.
    pub(crate) fn write_to(&self, out: &mut Vec<u8>) {
        let mut run: Option<(u32, u32)> = None;
        for s in &self.spans {
            if s.hop || s.removed || !s.crlf {
                if let Some((from, to)) = run.take() {
                    out.extend_from_slice(self.bytes(from, to));
                }
                if !s.hop && !s.removed {
                    out.extend_from_slice(self.name_of(s));
                    out.extend_from_slice(b": ");
                    out.extend_from_slice(self.value_of(s));
                    out.extend_from_slice(b"\r\n");
                }
                continue;
            }
            run = match run {
                Some((from, to)) if to == s.line => Some((from, s.end)),
                Some((from, to)) => {
                    out.extend_from_slice(self.bytes(from, to));
                    Some((s.line, s.end))
                }
                None => Some((s.line, s.end)),
            };
        }
        if let Some((from, to)) = run {
            out.extend_from_slice(self.bytes(from, to));
        }
    }
}

/// Whether the line `s` of `head` is named `lower` (in any case) and not
/// removed: the one name test of every lookup.
fn named(head: &[u8], s: &Span, lower: &[u8]) -> bool {
    !s.removed
        && head
            .get(s.line as usize..s.name_end as usize)
            .is_some_and(|n| n.eq_ignore_ascii_case(lower))
}

/// The fields of a request a proxy passes on that are not in its header
/// map: the client's, when kept as lines, and the ones the proxy adds
/// ([`RawHeaders::push`]), written after the map's.
#[derive(Debug, Clone, Copy)]
pub struct PassOn<'a> {
    /// The client's fields as they came.
    pub client: Option<&'a RequestFields>,
    /// The proxy's own.
    pub added: &'a RawHeaders,
}

/// Whether a field named `name` (any case) is never passed on as it came:
/// the names [`field_use`](crate::raw_head::field_use) drops, compared in
/// any case. Two lists, not one: the response side matches lower-case
/// names exactly, which compiles to a dispatch on length, and sharing a
/// case-insensitive list cost both heads ~400 instructions per request
/// (measured). A test holds the two to the same names.
pub(crate) fn is_hop(name: &[u8]) -> bool {
    const HOP: [&[u8]; 10] = [
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"content-length",
    ];
    HOP.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// Read access to a request's fields, wherever they are: a header map, or
/// lines. Routing conditions and the proxy's own fields read through it,
/// so the lines need no map for them.
#[derive(Debug, Clone, Copy)]
pub enum FieldsRef<'a> {
    /// A header map.
    Map(&'a HeaderMap),
    /// Lines.
    Lines(&'a RequestFields),
}

impl<'a> FieldsRef<'a> {
    /// The lines when there are any, else the map.
    pub fn new(map: &'a HeaderMap, lines: Option<&'a RequestFields>) -> Self {
        match lines {
            Some(l) => FieldsRef::Lines(l),
            None => FieldsRef::Map(map),
        }
    }

    /// The first value of `name`.
    pub fn get(self, name: &HeaderName) -> Option<&'a [u8]> {
        match self {
            FieldsRef::Map(m) => m.get(name).map(HeaderValue::as_bytes),
            FieldsRef::Lines(l) => l.get(name),
        }
    }

    /// The first value of `name` as a header value (sharing bytes).
    pub fn value(self, name: &HeaderName) -> Option<HeaderValue> {
        match self {
            FieldsRef::Map(m) => m.get(name).cloned(),
            FieldsRef::Lines(l) => l.value(name),
        }
    }

    /// Whether a field is named `name`.
    pub fn contains(self, name: &HeaderName) -> bool {
        match self {
            FieldsRef::Map(m) => m.contains_key(name),
            FieldsRef::Lines(l) => l.contains(name),
        }
    }

    /// Every value of `name`, in order.
    pub fn get_all(self, name: &'a HeaderName) -> impl Iterator<Item = &'a [u8]> + 'a {
        let (map, lines) = match self {
            FieldsRef::Map(m) => (
                Some(m.get_all(name).iter().map(HeaderValue::as_bytes)),
                None,
            ),
            FieldsRef::Lines(l) => (None, Some(l.get_all(name))),
        };
        map.into_iter().flatten().chain(lines.into_iter().flatten())
    }
}

impl<'a> From<&'a HeaderMap> for FieldsRef<'a> {
    fn from(map: &'a HeaderMap) -> Self {
        FieldsRef::Map(map)
    }
}

#[cfg(test)]
#[path = "request_fields_tests.rs"]
mod tests;
