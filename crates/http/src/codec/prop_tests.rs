//! Property tests of the HTTP/1.1 framing: generated heads and bodies instead
//! of hand-picked ones, so the parsers meet shapes no example list thought
//! of. Every case is bounded (a few hundred bytes) and the run count is
//! fixed, so the suite stays quick; a failure prints the minimal input.

use bytes::BytesMut;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Version};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

use super::request::{BodyFraming, HeadError, ResFraming, encode_response_head, parse_both};
use super::{
    CHUNK_END, ChunkedDecoder, Decoded, Framing, LAST_CHUNK, ReqFraming, chunk_size_line,
    encode_head, parse_head, response_framing,
};

const MAX_HEAD: usize = 64 * 1024;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        // CI runs on a clean clone; a failure is reported, not stored.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Names the request parser reads for framing and connection handling;
/// the round-trip cases add these themselves.
const SPECIAL: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "expect",
    "upgrade",
];

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::GET),
        Just(Method::POST),
        Just(Method::PUT),
        Just(Method::DELETE),
        Just(Method::PATCH),
        Just(Method::OPTIONS),
        "[A-Z]{3,12}".prop_map(|m| Method::from_bytes(m.as_bytes()).unwrap_or(Method::GET)),
    ]
}

/// An origin-form target: `/`-separated segments and an optional query.
fn target() -> impl Strategy<Value = String> {
    (
        vec("[A-Za-z0-9._~!$&'()*+,;=:@%-]{0,12}", 1..6),
        proptest::option::of("[A-Za-z0-9=&._~%/?-]{0,24}"),
    )
        .prop_map(|(segments, query)| {
            let mut t = String::new();
            for s in segments {
                t.push('/');
                t.push_str(&s);
            }
            if let Some(q) = query {
                t.push('?');
                t.push_str(&q);
            }
            t
        })
}

/// A field name (a token, any case) the parser does not treat specially.
fn name() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,15}".prop_filter("special field", |n| {
        !SPECIAL.contains(&n.to_ascii_lowercase().as_str())
    })
}

/// A field value: visible ASCII, inner spaces and tabs, and obs-text bytes,
/// without the leading and trailing whitespace the parser trims.
fn value() -> impl Strategy<Value = Vec<u8>> {
    vec(
        prop_oneof![
            12 => 0x21u8..=0x7e,
            2 => Just(b' '),
            1 => Just(b'\t'),
            1 => 0x80u8..=0xff,
        ],
        0..40,
    )
    .prop_map(|mut v| {
        while v.last().is_some_and(|b| b.is_ascii_whitespace()) {
            v.pop();
        }
        let lead = v.iter().take_while(|b| b.is_ascii_whitespace()).count();
        v.drain(..lead);
        v
    })
}

fn fields() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    vec((name(), value()), 0..12)
}

fn push_field(wire: &mut Vec<u8>, name: &str, value: &[u8]) {
    wire.extend_from_slice(name.as_bytes());
    wire.extend_from_slice(b": ");
    wire.extend_from_slice(value);
    wire.extend_from_slice(b"\r\n");
}

/// `fields` as a header map, in order.
fn header_map(fields: &[(String, Vec<u8>)]) -> Result<HeaderMap, TestCaseError> {
    let mut headers = HeaderMap::new();
    for (n, v) in fields {
        let name =
            HeaderName::from_bytes(n.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let value = HeaderValue::from_bytes(v).map_err(|e| TestCaseError::fail(e.to_string()))?;
        headers.append(name, value);
    }
    Ok(headers)
}

/// The values `headers` holds for `name`, in order.
fn values_of<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a [u8]> {
    headers
        .get_all(name)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect()
}

/// The generated fields, grouped by lower-cased name in order of appearance.
fn expected(fields: &[(String, Vec<u8>)]) -> Vec<(String, Vec<&[u8]>)> {
    let mut out: Vec<(String, Vec<&[u8]>)> = Vec::new();
    for (n, v) in fields {
        let n = n.to_ascii_lowercase();
        match out.iter_mut().find(|(k, _)| *k == n) {
            Some((_, vs)) => vs.push(v),
            None => out.push((n, vec![v.as_slice()])),
        }
    }
    out
}

proptest! {
    #![proptest_config(config())]

    /// A valid head parses to exactly what was written, whatever prefix of
    /// it arrived first; the body is left in the buffer.
    #[test]
    fn request_heads_round_trip_at_every_split(
        method in method(),
        target in target(),
        host in "[a-z0-9.-]{1,20}(:[0-9]{1,5})?",
        fields in fields(),
        body in vec(any::<u8>(), 0..64),
        split in any::<Index>(),
    ) {
        let mut wire = format!("{method} {target} HTTP/1.1\r\n").into_bytes();
        push_field(&mut wire, "Host", host.as_bytes());
        for (n, v) in &fields {
            push_field(&mut wire, n, v);
        }
        if !body.is_empty() {
            push_field(&mut wire, "Content-Length", body.len().to_string().as_bytes());
        }
        wire.extend_from_slice(b"\r\n");
        let head_len = wire.len();
        wire.extend_from_slice(&body);

        let k = split.index(head_len);
        let mut partial = BytesMut::from(&wire[..k]);
        prop_assert!(matches!(parse_both(&mut partial, MAX_HEAD), Ok(None)), "prefix {k}");
        prop_assert_eq!(partial.len(), k, "an incomplete head is left in place");

        let mut buf = BytesMut::from(&wire[..]);
        let parsed = parse_both(&mut buf, MAX_HEAD);
        let h = match parsed {
            Ok(Some(h)) => h,
            other => return Err(TestCaseError::fail(format!("{other:?}"))),
        };
        prop_assert_eq!(&h.method, &method);
        prop_assert_eq!(h.uri.to_string(), target);
        prop_assert_eq!(h.version, Version::HTTP_11);
        prop_assert_eq!(values_of(&h.headers, "host"), vec![host.as_bytes()]);
        for (n, vs) in expected(&fields) {
            prop_assert_eq!(values_of(&h.headers, &n), vs, "field {}", n);
        }
        let framing_fields = usize::from(!body.is_empty());
        prop_assert_eq!(h.headers.len(), fields.len() + 1 + framing_fields);
        let framing = if body.is_empty() {
            BodyFraming::Empty
        } else {
            BodyFraming::Length(body.len() as u64)
        };
        prop_assert_eq!(h.framing, framing);
        prop_assert!(h.keep_alive && !h.expect_continue && !h.upgrade);
        prop_assert_eq!(&buf[..], &body[..]);
    }

    /// The client's request encoder and the server's parser agree: what one
    /// writes, the other reads back unchanged, framing included.
    #[test]
    fn encoded_requests_parse_back(
        method in method(),
        target in target(),
        fields in fields(),
        framing in prop_oneof![
            Just(ReqFraming::None),
            (1u64..u64::MAX / 2).prop_map(ReqFraming::Length),
            Just(ReqFraming::Chunked),
        ],
    ) {
        let mut headers = header_map(&fields)?;
        // A stale length the encoder must not copy.
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("3"));
        let mut wire = Vec::new();
        encode_head(
            &mut wire,
            &method,
            &target,
            "up.example:8080",
            &headers,
            None,
            framing,
        );
        let mut buf = BytesMut::from(&wire[..]);
        let h = match parse_both(&mut buf, MAX_HEAD) {
            Ok(Some(h)) => h,
            other => return Err(TestCaseError::fail(format!("{other:?}"))),
        };
        prop_assert!(buf.is_empty());
        prop_assert_eq!(&h.method, &method);
        prop_assert_eq!(h.uri.to_string(), target);
        prop_assert_eq!(values_of(&h.headers, "host"), vec![&b"up.example:8080"[..]]);
        for (n, vs) in expected(&fields) {
            prop_assert_eq!(values_of(&h.headers, &n), vs, "field {}", n);
        }
        let want = match framing {
            ReqFraming::None => BodyFraming::Empty,
            ReqFraming::Length(n) => BodyFraming::Length(n),
            ReqFraming::Chunked => BodyFraming::Chunked,
        };
        prop_assert_eq!(h.framing, want);
    }

    /// A request carrying both `Content-Length` and `Transfer-Encoding`, or
    /// two different lengths — the ambiguities request smuggling relies on —
    /// is refused however the fields are spelled and ordered.
    #[test]
    fn ambiguous_framing_is_always_refused(
        cl_name in "(?i)content-length",
        te_name in "(?i)transfer-encoding",
        te_value in "(gzip, )?(?i)chunked",
        length in 0u64..100_000,
        other in 1u64..100_000,
        te_first in any::<bool>(),
        two_lengths in any::<bool>(),
        filler in fields(),
    ) {
        let mut wire = b"POST /x HTTP/1.1\r\nHost: h\r\n".to_vec();
        let cl = |wire: &mut Vec<u8>, n: u64| push_field(wire, &cl_name, n.to_string().as_bytes());
        if two_lengths {
            cl(&mut wire, length);
            for (n, v) in &filler {
                push_field(&mut wire, n, v);
            }
            cl(&mut wire, length + other);
        } else {
            if te_first {
                push_field(&mut wire, &te_name, te_value.as_bytes());
            }
            cl(&mut wire, length);
            for (n, v) in &filler {
                push_field(&mut wire, n, v);
            }
            if !te_first {
                push_field(&mut wire, &te_name, te_value.as_bytes());
            }
        }
        wire.extend_from_slice(b"\r\n");
        let parsed = parse_both(&mut BytesMut::from(&wire[..]), MAX_HEAD);
        prop_assert!(matches!(parsed, Err(HeadError::Bad(_))), "{:?}", parsed);
    }

    /// Arbitrary bytes, alone or after a valid request line, never panic the
    /// parser; whatever it accepts is unambiguous and within the size limit.
    #[test]
    fn arbitrary_request_bytes_are_parsed_or_refused(
        prefix in prop_oneof![Just(&b""[..]), Just(&b"GET / HTTP/1.1\r\n"[..]), Just(&b"POST /a HTTP/1.1\r\nHost: h\r\n"[..])],
        noise in vec(prop_oneof![
            4 => any::<u8>(),
            2 => Just(b'\r'),
            2 => Just(b'\n'),
            2 => Just(b':'),
            1 => Just(b' '),
        ], 0..300),
    ) {
        let mut wire = prefix.to_vec();
        wire.extend_from_slice(&noise);
        let mut buf = BytesMut::from(&wire[..]);
        if let Ok(Some(h)) = parse_both(&mut buf, 256) {
            prop_assert!(wire.len() - buf.len() <= 256);
            let cl = h.headers.get_all(header::CONTENT_LENGTH).iter().count();
            let te = h.headers.get_all(header::TRANSFER_ENCODING).iter().count();
            prop_assert!(cl == 0 || te == 0, "both framings accepted");
            if h.version == Version::HTTP_11 && h.uri.authority().is_none() {
                prop_assert_eq!(h.headers.get_all(header::HOST).iter().count(), 1);
            }
        }
    }

    /// Arbitrary bytes never panic the response-head parser.
    #[test]
    fn arbitrary_response_bytes_are_parsed_or_refused(
        prefix in prop_oneof![Just(&b""[..]), Just(&b"HTTP/1.1 200 OK\r\n"[..])],
        noise in vec(any::<u8>(), 0..300),
    ) {
        let mut wire = prefix.to_vec();
        wire.extend_from_slice(&noise);
        let mut buf = BytesMut::from(&wire[..]);
        if let Ok(Some(head)) = parse_head(&mut buf) {
            // Framing of what was accepted is decided, never a panic.
            let _ = response_framing(&Method::GET, head.status, &head.headers);
        }
    }

    /// The server's response encoder and the client's parser agree.
    #[test]
    fn encoded_responses_parse_back(
        status in 200u16..600,
        fields in fields(),
        length in 1u64..1_000_000,
    ) {
        let status = StatusCode::from_u16(status).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let headers = header_map(&fields)?;
        let mut wire = Vec::new();
        let date = b"Sun, 06 Nov 1994 08:49:37 GMT";
        encode_response_head(
            &mut wire,
            status,
            &headers,
            None,
            ResFraming::Length(length),
            None,
            date,
        );
        let mut buf = BytesMut::from(&wire[..]);
        let head = match parse_head(&mut buf) {
            Ok(Some(h)) => h,
            other => return Err(TestCaseError::fail(format!("{other:?}"))),
        };
        prop_assert!(buf.is_empty());
        prop_assert_eq!(head.status, status);
        for (n, vs) in expected(&fields) {
            prop_assert_eq!(values_of(&head.headers, &n), vs, "field {}", n);
        }
        prop_assert_eq!(values_of(&head.headers, "date"), vec![&date[..]]);
        let want = if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
            Framing::Empty
        } else {
            Framing::Length(length)
        };
        prop_assert_eq!(response_framing(&Method::GET, status, &head.headers), Ok(want));
    }

    /// Any body, cut into chunks of any sizes (with extensions and
    /// upper-case sizes now and then) and delivered in pieces of any size,
    /// decodes to itself.
    #[test]
    fn chunked_bodies_decode_at_any_split(
        body in vec(any::<u8>(), 0..600),
        sizes in vec(1usize..80, 1..20),
        upper in any::<bool>(),
        ext in any::<bool>(),
        step in 1usize..50,
    ) {
        let mut wire = Vec::new();
        let mut rest = &body[..];
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes[i % sizes.len()].min(rest.len());
            let mut line = Vec::new();
            chunk_size_line(&mut line, n);
            if upper {
                line.make_ascii_uppercase();
            }
            if ext {
                line.truncate(line.len() - 2);
                line.extend_from_slice(b";name=\"v\"\r\n");
            }
            wire.extend_from_slice(&line);
            wire.extend_from_slice(&rest[..n]);
            wire.extend_from_slice(CHUNK_END);
            rest = &rest[n..];
            i += 1;
        }
        wire.extend_from_slice(LAST_CHUNK);

        let mut dec = ChunkedDecoder::default();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        let mut fed = 0;
        loop {
            match dec.decode(&mut buf) {
                Ok(Decoded::Data(d)) => out.extend_from_slice(&d),
                Ok(Decoded::End(trailers)) => {
                    prop_assert!(trailers.is_none());
                    prop_assert!(buf.is_empty(), "bytes left after the last chunk");
                    break;
                }
                Ok(Decoded::NeedMore) => {
                    prop_assert!(fed < wire.len(), "the decoder wants more than the body holds");
                    let end = (fed + step).min(wire.len());
                    buf.extend_from_slice(&wire[fed..end]);
                    fed = end;
                }
                Err(e) => return Err(TestCaseError::fail(format!("{e}"))),
            }
        }
        prop_assert_eq!(out, body);
    }

    /// Arbitrary bytes never panic the chunked decoder, and it never yields
    /// more data than it was given.
    #[test]
    fn arbitrary_chunked_bytes_are_decoded_or_refused(
        noise in vec(prop_oneof![
            3 => any::<u8>(),
            2 => prop::sample::select(&b"0123456789abcdefABCDEF;=\r\n"[..]),
        ], 0..300),
    ) {
        let mut dec = ChunkedDecoder::default();
        let mut buf = BytesMut::from(&noise[..]);
        let mut data = 0;
        for _ in 0..=noise.len() {
            match dec.decode(&mut buf) {
                Ok(Decoded::Data(d)) => data += d.len(),
                Ok(Decoded::NeedMore | Decoded::End(_)) | Err(_) => break,
            }
        }
        prop_assert!(data <= noise.len());
    }
}
