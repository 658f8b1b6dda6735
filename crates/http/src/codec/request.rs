//! The server side of HTTP/1.1 framing (RFC 9112): request heads in, response
//! heads out. Pure functions over buffers, like the client side in the parent
//! module, so every rule is tested without a socket.

use std::mem::MaybeUninit;

use bytes::{Buf, Bytes, BytesMut};
use http::header::{self, HeaderMap};
use http::{Method, StatusCode, Uri, Version};

use crate::raw_head::RawHeaders;
use crate::request_fields::{RequestFields, Span, is_hop};

use super::{ADDED_HEADERS, MAX_HEADERS, content_length_line, field};

/// Why a request head was refused. Each maps to one status, and the
/// connection is closed after the answer: framing cannot be trusted past a
/// bad head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HeadError {
    /// 431: the head is larger than the listener allows, or has too many fields.
    #[error("request header fields too large")]
    TooLarge,
    /// 400, with the reason.
    #[error("bad request: {0}")]
    Bad(&'static str),
}

impl HeadError {
    /// The status this error is answered with.
    pub(crate) fn status(self) -> StatusCode {
        match self {
            HeadError::TooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            HeadError::Bad(_) => StatusCode::BAD_REQUEST,
        }
    }
}

/// How a request body is delimited (RFC 9112 §6.3; a request with neither
/// header has no body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFraming {
    /// No body.
    Empty,
    /// Exactly this many bytes (never 0: that is `Empty`).
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
}

/// A parsed request head and what the connection needs to know about it.
#[derive(Debug)]
pub(crate) struct RequestHead {
    pub method: Method,
    pub uri: Uri,
    pub version: Version,
    /// Empty when the fields are kept as `lines`.
    pub headers: HeaderMap,
    /// The fields as they came, when asked for and the head allows it (see
    /// [`crate::request_fields`]).
    pub lines: Option<RequestFields>,
    pub framing: BodyFraming,
    /// The client allows another request on this connection afterwards.
    pub keep_alive: bool,
    /// `Expect: 100-continue`: the client waits for a 100 before the body.
    pub expect_continue: bool,
    /// An Upgrade (`Connection: upgrade` with `Upgrade`) or a CONNECT: the
    /// connection may be handed over after the response head.
    pub upgrade: bool,
}

/// Parse a request head from the front of `buf`, removing it. `Ok(None)`: not
/// complete yet. Header values and the target share one copy of the head.
/// With `as_lines`, the fields are kept as [`RequestFields`] where the head
/// allows it.
pub(crate) fn parse_request(
    buf: &mut BytesMut,
    max_head: usize,
    as_lines: bool,
) -> Result<Option<RequestHead>, HeadError> {
    // Uninitialised slots: filling 128 of them (4 KiB) before every parse
    // cost more than parsing a typical head's fields.
    let mut slots = [const { MaybeUninit::uninit() }; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    let len = match req.parse_with_uninit_headers(buf, &mut slots) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => {
            return if buf.len() > max_head {
                Err(HeadError::TooLarge)
            } else {
                Ok(None)
            };
        }
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
        Err(httparse::Error::Version) => return Err(HeadError::Bad("unsupported HTTP version")),
        Err(_) => return Err(HeadError::Bad("malformed request line or header")),
    };
    if len > max_head {
        return Err(HeadError::TooLarge);
    }
    let method = req
        .method
        .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
        .ok_or(HeadError::Bad("invalid method"))?;
    let version = match req.version {
        Some(0) => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    let base = buf.as_ptr() as usize;
    let target = req.path.unwrap_or("");
    let target_span = (target.as_ptr() as usize - base, target.len());

    // Copied out rather than split off: header values and the target outlive
    // the request (a streamed response's access-log record holds them), and
    // a slice would keep the whole read buffer alive with them. Copied
    // before the fields are read (both only read `buf`), so each value is
    // sliced from the copy at once, with no list of offsets in between.
    let head = Bytes::copy_from_slice(buf.get(..len).unwrap_or_default());
    let mut facts = Facts::default();
    let mut headers = HeaderMap::new();
    let mut spans = Vec::new();
    if as_lines {
        spans.reserve_exact(req.headers.len());
        let raw = buf.get(..len).unwrap_or_default();
        for h in req.headers.iter() {
            facts.note(h.name.as_bytes(), h.value)?;
            spans.push(span(raw, base, h).ok_or(HeadError::Bad("malformed header"))?);
        }
    } else {
        headers.reserve(req.headers.len() + ADDED_HEADERS);
        for h in req.headers.iter() {
            let (name, value) = field(&head, base, h).map_err(HeadError::Bad)?;
            facts.note(name.as_str().as_bytes(), h.value)?;
            headers.append(name, value);
        }
    }
    buf.advance(len);
    let uri = Uri::from_maybe_shared(head.slice(target_span.0..target_span.0 + target_span.1))
        .map_err(|_| HeadError::Bad("invalid request target"))?;

    let framing = facts.framing(version)?;
    if version == Version::HTTP_11 && facts.hosts != 1 && uri.authority().is_none() {
        // RFC 9112 §3.2: exactly one Host in an HTTP/1.1 request.
        return Err(HeadError::Bad(if facts.hosts == 0 {
            "missing Host header"
        } else {
            "more than one Host header"
        }));
    }
    let keep_alive = !facts.close && (version == Version::HTTP_11 || facts.keep_alive);
    let upgrade = method == Method::CONNECT
        || (version == Version::HTTP_11 && facts.conn_upgrade && facts.upgrade_header);
    let mut lines = as_lines.then(|| RequestFields::new(head, spans));
    if upgrade || facts.conn_names_fields {
        // An upgrade keeps `Upgrade`, and fields named in `Connection` are
        // removed by name: both are map work.
        if let Some(l) = lines.take() {
            headers = l.into_map();
        }
    }
    Ok(Some(RequestHead {
        method,
        uri,
        version,
        headers,
        lines,
        framing,
        keep_alive,
        expect_continue: facts.expect_continue && version == Version::HTTP_11,
        upgrade,
    }))
}

/// What the head says about framing and the connection, gathered in the one
/// pass over its fields.
#[derive(Default)]
struct Facts {
    length: Option<u64>,
    /// Transfer-Encoding seen; `chunked_last` whether its final coding is chunked.
    te: bool,
    chunked_last: bool,
    close: bool,
    keep_alive: bool,
    conn_upgrade: bool,
    upgrade_header: bool,
    expect_continue: bool,
    /// `Connection` names a field (a token other than close, keep-alive
    /// and upgrade).
    conn_names_fields: bool,
    hosts: u8,
}

/// Offsets of one parsed field line within `raw`, the head starting at
/// address `base`; `None` if httparse's slices are not inside it.
fn span(raw: &[u8], base: usize, h: &httparse::Header<'_>) -> Option<Span> {
    let at = |p: *const u8| (p as usize).checked_sub(base).filter(|&o| o <= raw.len());
    let line = at(h.name.as_ptr())?;
    let value = at(h.value.as_ptr())?;
    let value_end = value + h.value.len();
    let end = value_end + memchr::memchr(b'\n', raw.get(value_end..)?)? + 1;
    let offset = |o: usize| u32::try_from(o).ok();
    Some(Span {
        line: offset(line)?,
        name_end: offset(line + h.name.len())?,
        value: offset(value)?,
        value_end: offset(value_end)?,
        end: offset(end)?,
        hop: is_hop(h.name.as_bytes()),
        crlf: end >= 2 && raw.get(end - 2) == Some(&b'\r'),
        removed: false,
    })
}

impl Facts {
    /// `name` in any case.
    fn note(&mut self, name: &[u8], value: &[u8]) -> Result<(), HeadError> {
        if name.eq_ignore_ascii_case(b"content-length") {
            for part in value.split(|&b| b == b',') {
                let n = parse_length(part.trim_ascii())?;
                // Repeated identical values are one length (RFC 9112 §6.3 ¶5).
                match self.length {
                    Some(prev) if prev != n => {
                        return Err(HeadError::Bad("conflicting Content-Length values"));
                    }
                    _ => self.length = Some(n),
                }
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            self.te = true;
            // A later field's codings come after an earlier one's.
            if let Some(last) = value
                .split(|&b| b == b',')
                .map(<[u8]>::trim_ascii)
                .rfind(|c| !c.is_empty())
            {
                self.chunked_last = last.eq_ignore_ascii_case(b"chunked");
            }
        } else if name.eq_ignore_ascii_case(b"connection") {
            for token in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                let close = token.eq_ignore_ascii_case(b"close");
                let keep_alive = token.eq_ignore_ascii_case(b"keep-alive");
                let upgrade = token.eq_ignore_ascii_case(b"upgrade");
                self.close |= close;
                self.keep_alive |= keep_alive;
                self.conn_upgrade |= upgrade;
                self.conn_names_fields |= !(close || keep_alive || upgrade || token.is_empty());
            }
        } else if name.eq_ignore_ascii_case(b"upgrade") {
            self.upgrade_header = true;
        } else if name.eq_ignore_ascii_case(b"expect") {
            self.expect_continue |= value.trim_ascii().eq_ignore_ascii_case(b"100-continue");
        } else if name.eq_ignore_ascii_case(b"host") {
            self.hosts = self.hosts.saturating_add(1);
        }
        Ok(())
    }

    /// RFC 9112 §6.1–6.3 for requests. A gateway must never frame a body
    /// differently from the server behind it, so every ambiguous case is
    /// refused rather than resolved (request smuggling).
    fn framing(&self, version: Version) -> Result<BodyFraming, HeadError> {
        if self.te {
            if version == Version::HTTP_10 {
                return Err(HeadError::Bad("Transfer-Encoding in an HTTP/1.0 request"));
            }
            if self.length.is_some() {
                return Err(HeadError::Bad(
                    "both Transfer-Encoding and Content-Length in one request",
                ));
            }
            if !self.chunked_last {
                return Err(HeadError::Bad(
                    "request Transfer-Encoding must end in chunked",
                ));
            }
            return Ok(BodyFraming::Chunked);
        }
        Ok(match self.length {
            None | Some(0) => BodyFraming::Empty,
            Some(n) => BodyFraming::Length(n),
        })
    }
}

pub(crate) fn parse_length(digits: &[u8]) -> Result<u64, HeadError> {
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(HeadError::Bad("invalid Content-Length"));
    }
    Ok(digits
        .iter()
        .fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
}

/// How a response body goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResFraming {
    /// No body bytes follow the head (HEAD, 1xx, 204, 304, or an empty body).
    /// `Content-Length` is written only when `Some`.
    NoBody(Option<u64>),
    /// `Content-Length: n`, then exactly n bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the connection closes (an HTTP/1.0 client and a body of
    /// unknown length).
    Close,
}

/// Append a response head to `out`. Framing headers come from `framing`,
/// never from `headers` (a handler's stale length must not frame the body);
/// `connection` is the `Connection` value to send when the handler set none
/// (`close`, or `keep-alive` for an HTTP/1.0 client), `date` the IMF-fixdate
/// to send when the handler set no `Date`. `raw`: an upstream's fields
/// passed on as bytes, written first except where `headers` overrides them
/// (see [`crate::raw_head`]).
pub(crate) fn encode_response_head(
    out: &mut Vec<u8>,
    status: StatusCode,
    headers: &HeaderMap,
    raw: Option<&RawHeaders>,
    framing: ResFraming,
    connection: Option<&'static str>,
    date: &[u8],
) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    let mut has_date = raw.is_some_and(|r| r.write_to(out, headers));
    let mut has_connection = false;
    for (name, value) in headers {
        if name == header::CONTENT_LENGTH || name == header::TRANSFER_ENCODING {
            continue;
        }
        if name == header::CONNECTION {
            has_connection = true;
            if connection == Some("close") {
                // Ours says close; the handler's tokens would contradict it.
                continue;
            }
        }
        has_date |= name == header::DATE;
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(c) = connection
        && (c == "close" || !has_connection)
    {
        out.extend_from_slice(b"connection: ");
        out.extend_from_slice(c.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !has_date {
        out.extend_from_slice(b"date: ");
        out.extend_from_slice(date);
        out.extend_from_slice(b"\r\n");
    }
    match framing {
        ResFraming::NoBody(None) | ResFraming::Close => {}
        ResFraming::NoBody(Some(n)) | ResFraming::Length(n) => content_length_line(out, n),
        ResFraming::Chunked => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
    }
    out.extend_from_slice(b"\r\n");
}

/// Whether a response to `method` with `status` carries no body (RFC 9110
/// §6.4.1).
pub(crate) fn bodiless(method: &Method, status: StatusCode) -> bool {
    method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
}

/// A handler's own `Content-Length`, if it set exactly one valid value.
pub(crate) fn declared_length(headers: &HeaderMap) -> Option<u64> {
    let mut values = headers.get_all(header::CONTENT_LENGTH).iter();
    let first = values.next()?;
    if values.next().is_some() {
        return None;
    }
    parse_length(first.as_bytes().trim_ascii()).ok()
}

/// [`parse_request`] both ways, asserting they agree: the same outcome,
/// and the lines hold the fields the map does, in the same order. Tests
/// parse through this, so every parser test covers both.
#[cfg(test)]
pub(crate) fn parse_both(
    buf: &mut BytesMut,
    max_head: usize,
) -> Result<Option<RequestHead>, HeadError> {
    let mut copy = buf.clone();
    let as_map = parse_request(buf, max_head, false);
    let as_lines = parse_request(&mut copy, max_head, true);
    assert_eq!(buf, &copy, "both take the same bytes");
    match (&as_map, as_lines) {
        (Ok(Some(m)), Ok(Some(l))) => {
            assert_eq!(
                (&m.method, &m.uri, m.version, m.framing, m.keep_alive),
                (&l.method, &l.uri, l.version, l.framing, l.keep_alive)
            );
            assert_eq!(
                (m.expect_continue, m.upgrade),
                (l.expect_continue, l.upgrade)
            );
            assert!(m.lines.is_none());
            let fields = match l.lines {
                Some(lines) => {
                    assert!(l.headers.is_empty());
                    assert!(!l.upgrade, "an upgrade keeps a map");
                    lines.into_map()
                }
                None => l.headers,
            };
            let pairs = |h: &HeaderMap| -> Vec<(String, Vec<u8>)> {
                h.iter()
                    .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                    .collect()
            };
            assert_eq!(pairs(&m.headers), pairs(&fields));
        }
        (Ok(None), Ok(None)) => {}
        (Err(a), Err(b)) => assert_eq!(*a, b),
        (a, b) => panic!("map: {a:?}, lines: {b:?}"),
    }
    as_map
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
