//! HTTP/1.1 framing (RFC 9112) as pure functions over buffers, so each rule
//! is tested without a socket. This module: the upstream client's side
//! (request heads out, response heads and body framing in) and the chunked
//! decoder both sides share; [`request`]: the server's side.

pub(crate) mod request;

use std::mem::MaybeUninit;

use bytes::{Buf, Bytes, BytesMut};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Version};

use crate::raw_head::{FieldUse, RawHeaders, field_use, name_bit};
use crate::request_fields::PassOn;

/// A response head larger than this is refused (hyper's default is 400 KiB;
/// an upstream that needs more than 64 KiB of headers is broken).
pub(crate) const MAX_HEAD: usize = 64 * 1024;
/// Headers in one response head (or trailer section).
pub(crate) const MAX_HEADERS: usize = 128;
/// A chunk-size line, extensions included.
const MAX_CHUNK_LINE: usize = 4096;

/// Why a response could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum CodecError {
    #[error("invalid response head: {0}")]
    Head(&'static str),
    #[error("response head larger than {MAX_HEAD} bytes")]
    HeadTooLarge,
    #[error("invalid Content-Length")]
    ContentLength,
    #[error("invalid chunked encoding: {0}")]
    Chunked(&'static str),
}

/// How the request body is framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReqFraming {
    /// No body and no length header (GET and friends with nothing to send).
    None,
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// Append the request line and headers to `out`. `Content-Length` and
/// `Transfer-Encoding` come from `framing`, never from `headers` (a caller's
/// stale length must not frame the body); `host` is written when `headers`
/// has none. `pass_on`: for a request a proxy passes on, the client's
/// fields kept as they came (see [`crate::request_fields`]), written
/// first, and the fields the proxy adds, written after `headers` except
/// where `headers` overrides them (see [`crate::raw_head`]).
pub(crate) fn encode_head(
    out: &mut Vec<u8>,
    method: &Method,
    path_and_query: &str,
    host: &str,
    headers: &HeaderMap,
    pass_on: Option<PassOn<'_>>,
    framing: ReqFraming,
) {
    let client = pass_on.and_then(|p| p.client);
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(path_and_query.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    if !headers.contains_key(header::HOST) && !client.is_some_and(|c| c.contains(&header::HOST)) {
        out.extend_from_slice(b"host: ");
        out.extend_from_slice(host.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(client) = client {
        client.write_to(out);
    }
    for (name, value) in headers {
        if name == header::CONTENT_LENGTH || name == header::TRANSFER_ENCODING {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(p) = pass_on {
        p.added.write_to(out, headers);
    }
    match framing {
        ReqFraming::None => {}
        ReqFraming::Length(n) => content_length_line(out, n),
        ReqFraming::Chunked => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
    }
    out.extend_from_slice(b"\r\n");
}

/// A parsed response head.
#[derive(Debug)]
pub(crate) struct Head {
    pub status: StatusCode,
    pub version: Version,
    /// Empty when the head is [`Forwarded`].
    pub headers: HeaderMap,
    pub forwarded: Option<Forwarded>,
}

/// A response head kept as the lines to pass on (see [`crate::raw_head`]),
/// with what the client needs to read its body.
#[derive(Debug)]
pub(crate) struct Forwarded {
    pub fields: RawHeaders,
    pub framing: Framing,
    pub keep_alive: bool,
}

/// Parse a response head from the front of `buf`, removing it. `Ok(None)`:
/// not complete yet. Header values share one copy of the head.
#[cfg(test)]
pub(crate) fn parse_head(buf: &mut BytesMut) -> Result<Option<Head>, CodecError> {
    parse_head_as(buf, None)
}

/// [`parse_head`]; with `forward_for` (the request's method), a head that
/// can be passed on as bytes comes back [`Forwarded`]: one with a body,
/// whose `Connection` names no other fields.
pub(crate) fn parse_head_as(
    buf: &mut BytesMut,
    forward_for: Option<&Method>,
) -> Result<Option<Head>, CodecError> {
    // Uninitialised slots, as for request heads (see `parse_request`).
    let mut slots = [const { MaybeUninit::uninit() }; MAX_HEADERS];
    let mut res = httparse::Response::new(&mut []);
    let len = match httparse::ParserConfig::default()
        .parse_response_with_uninit_headers(&mut res, buf, &mut slots)
    {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => {
            return if buf.len() >= MAX_HEAD {
                Err(CodecError::HeadTooLarge)
            } else {
                Ok(None)
            };
        }
        Err(httparse::Error::TooManyHeaders) => return Err(CodecError::Head("too many headers")),
        Err(_) => return Err(CodecError::Head("malformed status line or header")),
    };
    let status = res
        .code
        .and_then(|c| StatusCode::from_u16(c).ok())
        .ok_or(CodecError::Head("bad status code"))?;
    let version = match res.version {
        Some(0) => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    if let Some(method) = forward_for
        && let Some(forwarded) = forwarded(method, status, version, res.headers, len)?
    {
        buf.advance(len);
        return Ok(Some(Head {
            status,
            version,
            headers: HeaderMap::new(),
            forwarded: Some(forwarded),
        }));
    }
    // Copied out rather than split off, as request heads are: the values
    // then hold no reference to the connection's read buffer, which stays
    // unshared and is reused in place for the next response. Each value is
    // sliced from the copy as its field is read, with no list of offsets in
    // between (the fields borrow `buf`, which only moves on after).
    let base = buf.as_ptr() as usize;
    let head = Bytes::copy_from_slice(buf.get(..len).unwrap_or_default());
    let mut headers = HeaderMap::with_capacity(res.headers.len() + ADDED_HEADERS);
    for h in res.headers.iter() {
        let (name, value) = field(&head, base, h).map_err(CodecError::Head)?;
        headers.append(name, value);
    }
    buf.advance(len);
    Ok(Some(Head {
        status,
        version,
        headers,
        forwarded: None,
    }))
}

/// The head's fields as lines to pass on, or `None` when it must be read
/// into a map: no body to frame from its size (HEAD, 1xx, 204, 304), or a
/// `Connection` naming further hop-by-hop fields.
///
/// One pass over the fields: each name is copied and lower-cased in place,
/// and a field that is not passed on is taken back out and remembered (by
/// its index) for the framing and keep-alive rules.
fn forwarded(
    method: &Method,
    status: StatusCode,
    version: Version,
    fields: &[httparse::Header<'_>],
    head_len: usize,
) -> Result<Option<Forwarded>, CodecError> {
    if request::bodiless(method, status) {
        return Ok(None);
    }
    // Room for the request id the proxy sets on the answer.
    let mut lines = Vec::with_capacity(head_len + 64);
    let mut has_date = false;
    let mut names = 0u64;
    // Fields by index (at most MAX_HEADERS = 128 of them).
    let (mut te, mut cl, mut conn) = (0u128, 0u128, 0u128);
    for (i, h) in fields.iter().enumerate() {
        let start = lines.len();
        lines.extend_from_slice(h.name.as_bytes());
        let name = lines.get_mut(start..).unwrap_or_default();
        name.make_ascii_lowercase();
        match field_use(name) {
            FieldUse::Drop => {
                let bit = 1u128 << (i % 128);
                match &*name {
                    b"transfer-encoding" => te |= bit,
                    b"content-length" => cl |= bit,
                    b"connection" => conn |= bit,
                    _ => {}
                }
                lines.truncate(start);
                continue;
            }
            FieldUse::Date => has_date = true,
            FieldUse::Keep => {}
        }
        names |= name_bit(name);
        lines.extend_from_slice(b": ");
        lines.extend_from_slice(h.value);
        lines.extend_from_slice(b"\r\n");
    }
    // Up to the highest index in `set` only: most sets are empty.
    let values = |set: u128| {
        fields
            .iter()
            .take(128 - set.leading_zeros() as usize)
            .enumerate()
            .filter(move |(i, _)| set & (1u128 << (i % 128)) != 0)
            .map(|(_, h)| h.value)
    };
    let names_others = values(conn)
        .flat_map(|v| v.split(|&b| b == b','))
        .map(<[u8]>::trim_ascii)
        .any(|t| {
            !t.is_empty()
                && !t.eq_ignore_ascii_case(b"close")
                && !t.eq_ignore_ascii_case(b"keep-alive")
        });
    if names_others {
        return Ok(None);
    }
    Ok(Some(Forwarded {
        framing: framing_of(method, status, values(te), values(cl))?,
        keep_alive: keep_alive_of(version, values(conn)),
        fields: RawHeaders::new(lines, has_date, names),
    }))
}

/// The name and value of `h`, a field httparse found in a buffer starting at
/// `base`, with the value sliced from `head`, a copy of that buffer (no
/// further copy). The error says which part is invalid.
pub(crate) fn field(
    head: &Bytes,
    base: usize,
    h: &httparse::Header<'_>,
) -> Result<(HeaderName, HeaderValue), &'static str> {
    let name = HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| "invalid header name")?;
    let start = h.value.as_ptr() as usize - base;
    let value = HeaderValue::from_maybe_shared(head.slice(start..start + h.value.len()))
        .map_err(|_| "invalid header value")?;
    Ok((name, value))
}

/// Room for the headers a parsed head often gains: a policy's (header
/// transforms, the rate-limit fields of an answer) and, on a response read
/// into a map, the request id. A map sized to the parsed fields reallocated
/// and rehashed on the first of them. (The fields the proxy adds to every
/// request it forwards are written as lines, not into the map.)
pub(crate) const ADDED_HEADERS: usize = 8;

/// Append the size line of a chunk of `len` bytes (chunked coding, RFC 9112
/// §7.1); the data and [`CHUNK_END`] follow it.
pub(crate) fn chunk_size_line(out: &mut Vec<u8>, len: usize) {
    push_digits(out, len as u64, 16);
    out.extend_from_slice(b"\r\n");
}

/// Append `content-length: n`.
pub(crate) fn content_length_line(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(b"content-length: ");
    push_digits(out, n, 10);
    out.extend_from_slice(b"\r\n");
}

/// Append `n` in `radix` (10 or 16, lower-case hex digits). Written by
/// hand: `write!` goes through the formatting machinery, ~700 instructions
/// for a number on every response head and every chunk.
fn push_digits(out: &mut Vec<u8>, mut n: u64, radix: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 20];
    let mut start = buf.len();
    for slot in buf.iter_mut().rev() {
        *slot = DIGITS[(n % radix) as usize];
        start -= 1;
        n /= radix;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[start..]);
}

/// What ends each chunk's data.
pub(crate) const CHUNK_END: &[u8] = b"\r\n";
/// The last chunk with an empty trailer section.
pub(crate) const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// How a response body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body: a HEAD request, 1xx, 204 or 304.
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Until the upstream closes the connection.
    Close,
}

/// The body framing of a response to `method`.
pub(crate) fn response_framing(
    method: &Method,
    status: StatusCode,
    headers: &HeaderMap,
) -> Result<Framing, CodecError> {
    framing_of(
        method,
        status,
        headers
            .get_all(header::TRANSFER_ENCODING)
            .iter()
            .map(HeaderValue::as_bytes),
        headers
            .get_all(header::CONTENT_LENGTH)
            .iter()
            .map(HeaderValue::as_bytes),
    )
}

/// Whether a header value is visible ASCII (tabs allowed), the values
/// `HeaderValue::to_str` reads as text.
fn visible(v: &[u8]) -> bool {
    v.iter().all(|&b| b == b'\t' || (0x20..0x7f).contains(&b))
}

/// The comma-separated elements of a list-valued field, trimmed.
fn elements(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|&b| b == b',').map(<[u8]>::trim_ascii)
}

/// [`response_framing`] from the values of `Transfer-Encoding` and
/// `Content-Length`, wherever they were read from.
fn framing_of<'a>(
    method: &Method,
    status: StatusCode,
    transfer_encoding: impl Iterator<Item = &'a [u8]>,
    content_length: impl Iterator<Item = &'a [u8]>,
) -> Result<Framing, CodecError> {
    if request::bodiless(method, status) {
        return Ok(Framing::Empty);
    }
    // Transfer-Encoding overrides Content-Length; chunked must be last,
    // otherwise the body runs to the close.
    let mut te = transfer_encoding.peekable();
    if te.peek().is_some() {
        let last = te
            .filter(|v| visible(v))
            .flat_map(elements)
            .filter(|c| !c.is_empty())
            .last();
        return Ok(match last {
            Some(c) if c.eq_ignore_ascii_case(b"chunked") => Framing::Chunked,
            _ => Framing::Close,
        });
    }
    let mut length: Option<u64> = None;
    for value in content_length {
        if !visible(value) {
            return Err(CodecError::ContentLength);
        }
        for part in elements(value) {
            let n = request::parse_length(part).map_err(|_| CodecError::ContentLength)?;
            match length {
                Some(prev) if prev != n => return Err(CodecError::ContentLength),
                _ => length = Some(n),
            }
        }
    }
    Ok(match length {
        Some(0) => Framing::Empty,
        Some(n) => Framing::Length(n),
        None => Framing::Close,
    })
}

/// Whether the connection may carry another request after this response.
pub(crate) fn keep_alive(version: Version, headers: &HeaderMap) -> bool {
    keep_alive_of(
        version,
        headers
            .get_all(header::CONNECTION)
            .iter()
            .map(HeaderValue::as_bytes),
    )
}

/// [`keep_alive`] from the values of `Connection`.
fn keep_alive_of<'a>(version: Version, connection: impl Iterator<Item = &'a [u8]>) -> bool {
    let mut close = false;
    let mut keep = false;
    for v in connection {
        if !visible(v) {
            close = true;
            continue;
        }
        for token in elements(v) {
            close |= token.eq_ignore_ascii_case(b"close");
            keep |= token.eq_ignore_ascii_case(b"keep-alive");
        }
    }
    !close && (version == Version::HTTP_11 || keep)
}

/// What the chunked decoder produced.
#[derive(Debug, PartialEq)]
pub(crate) enum Decoded {
    /// Body bytes.
    Data(Bytes),
    /// The buffer holds no complete next item: read more.
    NeedMore,
    /// The last chunk and its trailer section (empty if none).
    End(Option<HeaderMap>),
}

/// Incremental decoder of the chunked transfer coding.
#[derive(Debug, Default)]
pub(crate) struct ChunkedDecoder {
    state: ChunkState,
}

#[derive(Debug, Default, Clone, Copy)]
enum ChunkState {
    /// Expecting a chunk-size line.
    #[default]
    Size,
    /// Inside chunk data, this many bytes left.
    Data(u64),
    /// After chunk data, expecting CRLF.
    DataEnd,
    /// After the last chunk, expecting the trailer section.
    Trailers,
    /// Finished.
    Done,
}

impl ChunkedDecoder {
    /// Decode the next item from the front of `buf`.
    pub(crate) fn decode(&mut self, buf: &mut BytesMut) -> Result<Decoded, CodecError> {
        loop {
            match self.state {
                ChunkState::Size => {
                    let Some(nl) = buf.iter().position(|&b| b == b'\n') else {
                        return if buf.len() > MAX_CHUNK_LINE {
                            Err(CodecError::Chunked("chunk-size line too long"))
                        } else {
                            Ok(Decoded::NeedMore)
                        };
                    };
                    if nl == 0 || buf[nl - 1] != b'\r' {
                        return Err(CodecError::Chunked("chunk-size line not ended by CRLF"));
                    }
                    let size = chunk_size(&buf[..nl - 1])?;
                    buf.advance(nl + 1);
                    self.state = if size == 0 {
                        ChunkState::Trailers
                    } else {
                        ChunkState::Data(size)
                    };
                }
                ChunkState::Data(left) => {
                    if buf.is_empty() {
                        return Ok(Decoded::NeedMore);
                    }
                    let take = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
                    let data = buf.split_to(take).freeze();
                    let left = left - take as u64;
                    self.state = if left == 0 {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(left)
                    };
                    return Ok(Decoded::Data(data));
                }
                ChunkState::DataEnd => {
                    if buf.len() < 2 {
                        return Ok(Decoded::NeedMore);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(CodecError::Chunked("chunk data not followed by CRLF"));
                    }
                    buf.advance(2);
                    self.state = ChunkState::Size;
                }
                ChunkState::Trailers => {
                    if buf.starts_with(b"\r\n") {
                        buf.advance(2);
                        self.state = ChunkState::Done;
                        return Ok(Decoded::End(None));
                    }
                    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
                    match httparse::parse_headers(buf, &mut slots) {
                        Ok(httparse::Status::Complete((len, parsed))) => {
                            let base = buf.as_ptr() as usize;
                            let section =
                                Bytes::copy_from_slice(buf.get(..len).unwrap_or_default());
                            let mut trailers = HeaderMap::with_capacity(parsed.len());
                            for h in parsed.iter() {
                                let (name, value) =
                                    field(&section, base, h).map_err(CodecError::Chunked)?;
                                trailers.append(name, value);
                            }
                            buf.advance(len);
                            self.state = ChunkState::Done;
                            return Ok(Decoded::End(Some(trailers)));
                        }
                        Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => {
                            return Ok(Decoded::NeedMore);
                        }
                        _ => return Err(CodecError::Chunked("invalid trailer section")),
                    }
                }
                ChunkState::Done => return Ok(Decoded::End(None)),
            }
        }
    }
}

/// The size of a chunk-size line (hex digits, then optional `;extensions`).
fn chunk_size(line: &[u8]) -> Result<u64, CodecError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(CodecError::Chunked("missing chunk size"));
    }
    if digits > 15 {
        return Err(CodecError::Chunked("chunk size too large"));
    }
    let rest = &line[digits..];
    let rest_ok = rest.is_empty()
        || rest
            .iter()
            .position(|&b| b != b' ' && b != b'\t')
            .is_none_or(|i| rest[i] == b';');
    if !rest_ok {
        return Err(CodecError::Chunked("invalid chunk-size line"));
    }
    let hex = std::str::from_utf8(&line[..digits]).map_err(|_| CodecError::Chunked("size"))?;
    u64::from_str_radix(hex, 16).map_err(|_| CodecError::Chunked("invalid chunk size"))
}

#[cfg(test)]
mod prop_tests;
#[cfg(test)]
mod tests;
