use super::*;
use http::HeaderValue;

fn parse(raw: &str) -> Result<Option<RequestHead>, HeadError> {
    parse_both(&mut BytesMut::from(raw), 64 * 1024)
}

fn head(raw: &str) -> RequestHead {
    parse(raw).unwrap().unwrap()
}

#[test]
fn request_head_parses_incrementally_and_leaves_the_body() {
    let wire = b"POST /v1/chat?x=1 HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\n\r\nhello";
    for split in 1..wire.len() - 5 {
        let mut buf = BytesMut::from(&wire[..split]);
        assert!(
            parse_both(&mut buf, 1024).unwrap().is_none(),
            "split {split}"
        );
        assert_eq!(buf.len(), split, "an incomplete head is left in place");
    }
    let mut buf = BytesMut::from(&wire[..]);
    let h = parse_both(&mut buf, 1024).unwrap().unwrap();
    assert_eq!(h.method, Method::POST);
    assert_eq!(h.uri.path(), "/v1/chat");
    assert_eq!(h.uri.query(), Some("x=1"));
    assert_eq!(h.version, Version::HTTP_11);
    assert_eq!(h.headers["host"], "gw");
    let xa: Vec<_> = h.headers.get_all("x-a").iter().collect();
    assert_eq!(xa, ["1", "2"], "repeated fields kept in order");
    assert_eq!(h.framing, BodyFraming::Length(5));
    assert!(h.keep_alive && !h.expect_continue && !h.upgrade);
    assert_eq!(&buf[..], b"hello");
}

#[test]
fn framing_of_requests() {
    let f = |extra: &str| {
        parse(&format!("POST / HTTP/1.1\r\nHost: h\r\n{extra}\r\n")).map(|h| h.unwrap().framing)
    };
    assert_eq!(f(""), Ok(BodyFraming::Empty));
    assert_eq!(f("Content-Length: 0\r\n"), Ok(BodyFraming::Empty));
    assert_eq!(f("Content-Length: 12\r\n"), Ok(BodyFraming::Length(12)));
    assert_eq!(f("Content-Length: 7, 7\r\n"), Ok(BodyFraming::Length(7)));
    assert_eq!(
        f("Content-Length: 7\r\nContent-Length: 7\r\n"),
        Ok(BodyFraming::Length(7))
    );
    assert_eq!(
        f("Transfer-Encoding: chunked\r\n"),
        Ok(BodyFraming::Chunked)
    );
    assert_eq!(
        f("Transfer-Encoding: gzip, Chunked\r\n"),
        Ok(BodyFraming::Chunked)
    );
    assert_eq!(
        f("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"),
        Ok(BodyFraming::Chunked)
    );
    // Every ambiguity a smuggling attempt relies on is refused.
    for bad in [
        "Content-Length: 7\r\nContent-Length: 8\r\n",
        "Content-Length: 7, 8\r\n",
        "Content-Length: -1\r\n",
        "Content-Length: 0x10\r\n",
        "Content-Length: \r\n",
        "Content-Length: 99999999999999999999\r\n",
        "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
        "Transfer-Encoding: chunked, gzip\r\n",
        "Transfer-Encoding: identity\r\n",
    ] {
        assert!(
            matches!(f(bad), Err(HeadError::Bad(_))),
            "{bad:?} gave {:?}",
            f(bad)
        );
    }
    let old = parse("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert!(matches!(old, Err(HeadError::Bad(_))), "{old:?}");
}

#[test]
fn connection_rules() {
    assert!(head("GET / HTTP/1.1\r\nHost: h\r\n\r\n").keep_alive);
    assert!(!head("GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n").keep_alive);
    assert!(!head("GET / HTTP/1.1\r\nHost: h\r\nConnection: x, close\r\n\r\n").keep_alive);
    assert!(!head("GET / HTTP/1.0\r\n\r\n").keep_alive);
    assert!(head("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive);
    assert!(
        head("GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n")
            .expect_continue
    );
    let ws = "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n";
    assert!(head(ws).upgrade);
    assert!(!head("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n").upgrade);
    assert!(head("CONNECT up:443 HTTP/1.1\r\nHost: up:443\r\n\r\n").upgrade);
}

#[test]
fn request_head_errors() {
    assert_eq!(
        parse("GET / HTTP/1.1\r\n\r\n").err(),
        Some(HeadError::Bad("missing Host header"))
    );
    assert_eq!(
        parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").err(),
        Some(HeadError::Bad("more than one Host header"))
    );
    // The absolute form carries its own authority.
    assert!(parse("GET http://h/x HTTP/1.1\r\n\r\n").unwrap().is_some());
    assert!(matches!(
        parse("GET / HTTP/2.0\r\nHost: h\r\n\r\n"),
        Err(HeadError::Bad(_))
    ));
    assert!(matches!(
        parse("G\x01T / HTTP/1.1\r\nHost: h\r\n\r\n"),
        Err(HeadError::Bad(_))
    ));
    assert!(matches!(
        parse("GET / HTTP/1.1\r\nHost: h\r\nBad Name: v\r\n\r\n"),
        Err(HeadError::Bad(_))
    ));
    assert!(matches!(
        parse("GET /a\x7fb HTTP/1.1\r\nHost: h\r\n\r\n"),
        Err(HeadError::Bad(_))
    ));
    // Too large: complete or not, and too many fields.
    let big = format!(
        "GET / HTTP/1.1\r\nHost: h\r\nX: {}\r\n\r\n",
        "a".repeat(200)
    );
    assert_eq!(
        parse_both(&mut BytesMut::from(big.as_str()), 100).err(),
        Some(HeadError::TooLarge)
    );
    assert_eq!(
        parse_both(&mut BytesMut::from(&big[..150]), 100).err(),
        Some(HeadError::TooLarge)
    );
    let many: String = (0..200).map(|i| format!("X-{i}: v\r\n")).collect();
    assert_eq!(
        parse(&format!("GET / HTTP/1.1\r\nHost: h\r\n{many}\r\n")).err(),
        Some(HeadError::TooLarge)
    );
    assert_eq!(HeadError::TooLarge.status().as_u16(), 431);
    assert_eq!(HeadError::Bad("x").status().as_u16(), 400);
}

#[test]
fn response_heads() {
    let mut h = HeaderMap::new();
    h.insert("content-type", HeaderValue::from_static("text/plain"));
    h.insert("content-length", HeaderValue::from_static("999"));
    h.insert("transfer-encoding", HeaderValue::from_static("chunked"));
    let date = b"Tue, 24 Nov 2026 10:00:00 GMT";
    let mut out = Vec::new();
    encode_response_head(
        &mut out,
        StatusCode::OK,
        &h,
        None,
        ResFraming::Length(5),
        None,
        date,
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ndate: Tue, 24 Nov 2026 10:00:00 GMT\r\ncontent-length: 5\r\n\r\n"
    );

    let mut h = HeaderMap::new();
    h.insert("connection", HeaderValue::from_static("keep-alive"));
    h.insert("date", HeaderValue::from_static("theirs"));
    let mut out = Vec::new();
    encode_response_head(
        &mut out,
        StatusCode::from_u16(599).unwrap(),
        &h,
        None,
        ResFraming::Chunked,
        Some("close"),
        date,
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "HTTP/1.1 599 \r\ndate: theirs\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n"
    );

    let mut out = Vec::new();
    encode_response_head(
        &mut out,
        StatusCode::NOT_MODIFIED,
        &HeaderMap::new(),
        None,
        ResFraming::NoBody(None),
        Some("keep-alive"),
        date,
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "HTTP/1.1 304 Not Modified\r\nconnection: keep-alive\r\ndate: Tue, 24 Nov 2026 10:00:00 GMT\r\n\r\n"
    );
}

#[test]
fn bodiless_and_declared_lengths() {
    assert!(bodiless(&Method::HEAD, StatusCode::OK));
    assert!(bodiless(&Method::GET, StatusCode::NO_CONTENT));
    assert!(bodiless(&Method::GET, StatusCode::NOT_MODIFIED));
    assert!(bodiless(&Method::GET, StatusCode::SWITCHING_PROTOCOLS));
    assert!(!bodiless(&Method::GET, StatusCode::OK));
    let mut h = HeaderMap::new();
    assert_eq!(declared_length(&h), None);
    h.insert("content-length", HeaderValue::from_static(" 42 "));
    assert_eq!(declared_length(&h), Some(42));
    h.append("content-length", HeaderValue::from_static("42"));
    assert_eq!(declared_length(&h), None);
}

#[test]
fn the_head_does_not_hold_the_read_buffer() {
    // A streamed response keeps the request's header values alive for its
    // whole length; they must not pin the connection's read buffer.
    let mut buf = BytesMut::with_capacity(4096);
    buf.extend_from_slice(b"GET /x HTTP/1.1\r\nHost: gw\r\n\r\nnext");
    let start = buf.as_ptr() as usize;
    let inside = start..start + buf.capacity();
    let h = parse_both(&mut buf, 1024).unwrap().unwrap();
    let value = h.headers["host"].as_bytes().as_ptr() as usize;
    let target = h.uri.path().as_ptr() as usize;
    assert!(!inside.contains(&value) && !inside.contains(&target));
    assert_eq!(&buf[..], b"next");
}

/// Mutated and truncated requests (a fixed-seed xorshift, so a failure
/// reproduces): the parser never panics, never takes bytes it did not
/// parse, and every head it accepts has framing its own headers agree with.
#[test]
fn mutated_requests_never_panic_or_misframe() {
    let seeds: [&[u8]; 4] = [
        b"POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: gw\r\nContent-Length: 12\r\nContent-Type: application/json\r\n\r\n{\"a\":\"b\"}xyz",
        b"PUT /up HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"GET /ws HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        b"GET http://gw/a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet = b" :\r\n,;0123456789aAzZ-\t\x00\x7f\xff";
    for round in 0..20_000 {
        let seed = seeds[round % seeds.len()];
        let mut wire = seed.to_vec();
        for _ in 0..(next() % 4) {
            let at = (next() as usize) % wire.len();
            match next() % 3 {
                0 => wire[at] = alphabet[(next() as usize) % alphabet.len()],
                1 => {
                    wire.remove(at);
                }
                _ => wire.insert(at, alphabet[(next() as usize) % alphabet.len()]),
            }
        }
        wire.truncate(wire.len() - (next() as usize) % 8);
        let mut buf = BytesMut::from(&wire[..]);
        match parse_both(&mut buf, 1024) {
            Ok(Some(head)) => {
                assert!(buf.len() < wire.len(), "{wire:?}");
                let lengths = head.headers.get_all(header::CONTENT_LENGTH).iter().count();
                let te = head.headers.contains_key(header::TRANSFER_ENCODING);
                match head.framing {
                    BodyFraming::Chunked => assert!(te && lengths == 0, "{wire:?}"),
                    BodyFraming::Length(n) => assert!(n > 0 && !te && lengths > 0, "{wire:?}"),
                    BodyFraming::Empty => assert!(!te, "{wire:?}"),
                }
            }
            Ok(None) => assert_eq!(buf.len(), wire.len(), "{wire:?}"),
            Err(_) => {}
        }
    }
}
