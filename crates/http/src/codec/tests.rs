use bytes::BytesMut;
use http::header::{HeaderMap, HeaderValue};
use http::{Method, StatusCode, Version};

use super::*;

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(*k, HeaderValue::from_static(v));
    }
    h
}

#[test]
fn head_writes_host_framing_and_drops_caller_lengths() {
    let mut out = Vec::new();
    let h = headers(&[
        ("content-length", "999"),
        ("transfer-encoding", "gzip"),
        ("x-a", "1"),
    ]);
    encode_head(
        &mut out,
        &Method::POST,
        "/v1/x?q=1",
        "up:8080",
        &h,
        None,
        ReqFraming::Length(5),
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "POST /v1/x?q=1 HTTP/1.1\r\nhost: up:8080\r\nx-a: 1\r\ncontent-length: 5\r\n\r\n"
    );

    let mut out = Vec::new();
    let h = headers(&[("host", "given")]);
    encode_head(
        &mut out,
        &Method::PUT,
        "/",
        "up",
        &h,
        None,
        ReqFraming::Chunked,
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "PUT / HTTP/1.1\r\nhost: given\r\ntransfer-encoding: chunked\r\n\r\n"
    );

    let mut out = Vec::new();
    encode_head(
        &mut out,
        &Method::GET,
        "/",
        "up",
        &HeaderMap::new(),
        None,
        ReqFraming::None,
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "GET / HTTP/1.1\r\nhost: up\r\n\r\n"
    );

    // Added fields follow the caller's, unless the map holds their name.
    let mut added = crate::RawHeaders::default();
    added.push(&HeaderName::from_static("x-request-id"), &[b"r1"]);
    added.push(&HeaderName::from_static("x-added"), &[b"a"]);
    let mut out = Vec::new();
    let h = headers(&[("x-a", "1"), ("x-added", "caller")]);
    encode_head(
        &mut out,
        &Method::GET,
        "/",
        "up",
        &h,
        Some(crate::PassOn {
            client: None,
            added: &added,
        }),
        ReqFraming::None,
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "GET / HTTP/1.1\r\nhost: up\r\nx-a: 1\r\nx-added: caller\r\nx-request-id: r1\r\n\r\n"
    );
}

#[test]
fn head_parses_incrementally_and_leaves_the_body() {
    let full = b"HTTP/1.1 201 Created\r\nContent-Length: 3\r\nX-Multi: a\r\nx-multi: b\r\n\r\nabc";
    let mut buf = BytesMut::new();
    // Every prefix short of the blank line is incomplete.
    let end = full.len() - 3;
    for i in 0..end {
        buf.clear();
        buf.extend_from_slice(&full[..i]);
        assert!(parse_head(&mut buf).unwrap().is_none(), "prefix {i}");
    }
    buf.clear();
    buf.extend_from_slice(full);
    let head = parse_head(&mut buf).unwrap().unwrap();
    assert_eq!(head.status, StatusCode::CREATED);
    assert_eq!(head.version, Version::HTTP_11);
    assert_eq!(head.headers["content-length"], "3");
    let multi: Vec<_> = head.headers.get_all("x-multi").iter().collect();
    assert_eq!(multi, ["a", "b"]);
    assert_eq!(&buf[..], b"abc");
}

#[test]
fn head_errors() {
    let mut buf = BytesMut::from(&b"HTTP/1.1 2000 Nope\r\n\r\n"[..]);
    assert!(parse_head(&mut buf).is_err());
    let mut buf = BytesMut::from(&b"garbage\r\n\r\n"[..]);
    assert!(parse_head(&mut buf).is_err());
    let mut big = BytesMut::from(&b"HTTP/1.1 200 OK\r\nx: "[..]);
    big.extend_from_slice(&vec![b'a'; MAX_HEAD]);
    assert_eq!(parse_head(&mut big).unwrap_err(), CodecError::HeadTooLarge);
    let mut many = BytesMut::from(&b"HTTP/1.1 200 OK\r\n"[..]);
    for i in 0..200 {
        many.extend_from_slice(format!("h{i}: v\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    assert!(parse_head(&mut many).is_err());
}

#[test]
fn framing_rules() {
    let ok = StatusCode::OK;
    let none = HeaderMap::new();
    assert_eq!(
        response_framing(&Method::HEAD, ok, &headers(&[("content-length", "10")])),
        Ok(Framing::Empty)
    );
    for s in [204, 304, 100] {
        let s = StatusCode::from_u16(s).unwrap();
        assert_eq!(
            response_framing(&Method::GET, s, &headers(&[("content-length", "10")])),
            Ok(Framing::Empty)
        );
    }
    assert_eq!(
        response_framing(&Method::GET, ok, &headers(&[("content-length", "10")])),
        Ok(Framing::Length(10))
    );
    assert_eq!(
        response_framing(&Method::GET, ok, &headers(&[("content-length", "0")])),
        Ok(Framing::Empty)
    );
    assert_eq!(
        response_framing(&Method::GET, ok, &headers(&[("content-length", "7, 7")])),
        Ok(Framing::Length(7))
    );
    for bad in ["7, 8", "-1", "+5", "", "0x10", "99999999999999999999999"] {
        assert_eq!(
            response_framing(&Method::GET, ok, &headers(&[("content-length", bad)])),
            Err(CodecError::ContentLength),
            "{bad}"
        );
    }
    let two = headers(&[("content-length", "7"), ("content-length", "8")]);
    assert!(response_framing(&Method::GET, ok, &two).is_err());
    // Transfer-Encoding wins over Content-Length; chunked must come last.
    let te = headers(&[
        ("transfer-encoding", "gzip, Chunked"),
        ("content-length", "3"),
    ]);
    assert_eq!(
        response_framing(&Method::GET, ok, &te),
        Ok(Framing::Chunked)
    );
    let te = headers(&[("transfer-encoding", "chunked, gzip")]);
    assert_eq!(response_framing(&Method::GET, ok, &te), Ok(Framing::Close));
    assert_eq!(
        response_framing(&Method::GET, ok, &none),
        Ok(Framing::Close)
    );
}

#[test]
fn keep_alive_rules() {
    assert!(keep_alive(Version::HTTP_11, &HeaderMap::new()));
    assert!(!keep_alive(
        Version::HTTP_11,
        &headers(&[("connection", "Close")])
    ));
    assert!(!keep_alive(
        Version::HTTP_11,
        &headers(&[("connection", "upgrade, close")])
    ));
    assert!(!keep_alive(Version::HTTP_10, &HeaderMap::new()));
    assert!(keep_alive(
        Version::HTTP_10,
        &headers(&[("connection", "keep-alive")])
    ));
}

/// Feed `wire` to a decoder `step` bytes at a time; collect data and trailers.
fn decode_all(wire: &[u8], step: usize) -> Result<(Vec<u8>, Option<HeaderMap>), CodecError> {
    let mut dec = ChunkedDecoder::default();
    let mut buf = BytesMut::new();
    let mut data = Vec::new();
    let mut fed = 0;
    loop {
        match dec.decode(&mut buf)? {
            Decoded::Data(d) => data.extend_from_slice(&d),
            Decoded::End(t) => {
                assert!(buf.is_empty(), "bytes left after the last chunk");
                return Ok((data, t));
            }
            Decoded::NeedMore => {
                assert!(fed < wire.len(), "decoder wants more than the wire holds");
                let end = (fed + step).min(wire.len());
                buf.extend_from_slice(&wire[fed..end]);
                fed = end;
            }
        }
    }
}

#[test]
fn chunked_decodes_at_any_split() {
    let wire = b"5\r\nhello\r\n1;ext=1\r\n \r\nA \r\n0123456789\r\n0\r\n\r\n";
    for step in 1..wire.len() {
        let (data, trailers) = decode_all(wire, step).unwrap();
        assert_eq!(data, b"hello 0123456789", "step {step}");
        assert!(trailers.is_none());
    }
}

#[test]
fn chunked_trailers() {
    let wire = b"3\r\nabc\r\n0\r\nx-checksum: 42\r\n\r\n";
    for step in [1, 3, wire.len()] {
        let (data, trailers) = decode_all(wire, step).unwrap();
        assert_eq!(data, b"abc");
        assert_eq!(trailers.unwrap()["x-checksum"], "42");
    }
}

#[test]
fn chunked_errors() {
    for bad in [
        &b"zz\r\n"[..],
        b"5\nhello\r\n",
        b"3\r\nabcX\r\n",
        b"1234567890abcdef0\r\n",
        b"5 garbage\r\n",
    ] {
        assert!(decode_all(bad, bad.len()).is_err(), "{bad:?}");
    }
    let mut long = vec![b'1'; 1];
    long.extend_from_slice(&[b';'; MAX_CHUNK_LINE + 10]);
    let mut dec = ChunkedDecoder::default();
    let mut buf = BytesMut::from(&long[..]);
    assert!(dec.decode(&mut buf).is_err());
}

#[test]
fn numbers_in_heads_and_chunk_lines_are_written_as_format_writes_them() {
    let mut samples: Vec<u64> = (0..300).collect();
    samples.extend([
        4095,
        4096,
        65_535,
        1 << 32,
        999_999_999_999,
        u64::MAX - 1,
        u64::MAX,
    ]);
    for n in samples {
        let mut out = Vec::new();
        content_length_line(&mut out, n);
        assert_eq!(out, format!("content-length: {n}\r\n").into_bytes());
        if let Ok(len) = usize::try_from(n) {
            let mut out = b"x".to_vec();
            chunk_size_line(&mut out, len);
            assert_eq!(out, format!("x{len:x}\r\n").into_bytes());
        }
    }
}

fn forwarded_head(wire: &[u8], method: &Method) -> Head {
    let mut buf = BytesMut::from(wire);
    parse_head_as(&mut buf, Some(method)).unwrap().unwrap()
}

#[test]
fn a_forwarded_head_keeps_end_to_end_lines_and_its_framing() {
    let head = forwarded_head(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: keep-alive\r\n\
          Keep-Alive: timeout=5\r\nSet-Cookie: a=1\r\nContent-Length: 5\r\n\
          Proxy-Authenticate: Basic\r\nDATE: Mon\r\nset-cookie: b=2\r\nX-Empty:\r\n\r\nhello",
        &Method::GET,
    );
    assert!(head.headers.is_empty(), "nothing read into the map");
    let f = head.forwarded.expect("passed on as bytes");
    assert_eq!(f.framing, Framing::Length(5));
    assert!(f.keep_alive);
    let mut out = Vec::new();
    f.fields.write_to(&mut out, &HeaderMap::new());
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "content-type: text/plain\r\nset-cookie: a=1\r\ndate: Mon\r\nset-cookie: b=2\r\nx-empty: \r\n"
    );

    let chunked = forwarded_head(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        &Method::POST,
    )
    .forwarded
    .unwrap();
    assert_eq!(chunked.framing, Framing::Chunked);
    assert!(!chunked.keep_alive);
    let mut out = Vec::new();
    assert!(
        !chunked.fields.write_to(&mut out, &HeaderMap::new()),
        "no date"
    );
    assert!(out.is_empty());
}

#[test]
fn heads_that_cannot_be_passed_on_as_bytes_are_read_into_a_map() {
    // No body to frame from its size: the declared length must survive.
    for (wire, method) in [
        (
            &b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"[..],
            Method::HEAD,
        ),
        (
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
            Method::GET,
        ),
        (b"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n", Method::GET),
        // `Connection` names another hop-by-hop field to strip.
        (
            b"HTTP/1.1 200 OK\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\nContent-Length: 0\r\n\r\n",
            Method::GET,
        ),
    ] {
        let head = forwarded_head(wire, &method);
        assert!(
            head.forwarded.is_none(),
            "{}",
            String::from_utf8_lossy(wire)
        );
        assert!(!head.headers.is_empty());
    }
    // Framing errors are errors either way.
    let mut buf =
        BytesMut::from(&b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"[..]);
    assert_eq!(
        parse_head_as(&mut buf, Some(&Method::GET)).unwrap_err(),
        CodecError::ContentLength
    );
}
