use bytes::BytesMut;
use http::header::{self, HeaderName};

use super::*;
use crate::HOP_BY_HOP;
use crate::codec::request::{RequestHead, parse_request};

fn head(wire: &[u8]) -> RequestHead {
    parse_request(&mut BytesMut::from(wire), 64 * 1024, true)
        .unwrap()
        .unwrap()
}

fn lines(wire: &[u8]) -> RequestFields {
    head(wire).lines.expect("kept as lines")
}

fn written(f: &RequestFields) -> String {
    let mut out = Vec::new();
    f.write_to(&mut out);
    String::from_utf8(out).unwrap()
}

const WIRE: &[u8] = b"POST /v1/chat HTTP/1.1\r\nHost: gw.example\r\nContent-Type: application/json\r\nConnection: keep-alive\r\nX-Forwarded-For: 1.1.1.1\r\nContent-Length: 2\r\nx-forwarded-for: 2.2.2.2\r\nAccept:*/*  \r\n\r\n{}";

#[test]
fn fields_are_found_by_name_in_any_case() {
    let f = lines(WIRE);
    let xff = HeaderName::from_static("x-forwarded-for");
    assert_eq!(f.get(&header::HOST), Some(&b"gw.example"[..]));
    assert_eq!(f.get(&header::ACCEPT), Some(&b"*/*"[..]));
    assert_eq!(
        f.get_all(&xff).collect::<Vec<_>>(),
        [&b"1.1.1.1"[..], b"2.2.2.2"]
    );
    assert!(f.contains(&header::CONTENT_TYPE));
    assert!(!f.contains(&header::AUTHORIZATION));
    assert_eq!(f.get(&header::COOKIE), None);
    assert_eq!(f.value(&header::HOST).unwrap(), "gw.example");
}

#[test]
fn removed_fields_are_gone_for_every_reader() {
    let mut f = lines(WIRE);
    let xff = HeaderName::from_static("x-forwarded-for");
    f.remove(&xff);
    assert!(!f.contains(&xff));
    assert_eq!(f.get_all(&xff).count(), 0);
    assert!(
        f.iter()
            .all(|(n, _)| !n.eq_ignore_ascii_case(b"x-forwarded-for"))
    );
    assert!(!written(&f).to_ascii_lowercase().contains("x-forwarded-for"));
    assert!(!f.clone().into_map().contains_key(&xff));
    // Others stay.
    assert!(f.contains(&header::HOST));
}

#[test]
fn written_lines_leave_out_hop_by_hop_and_framing_fields_and_keep_the_rest_as_sent() {
    let f = lines(WIRE);
    assert_eq!(
        written(&f),
        "Host: gw.example\r\nContent-Type: application/json\r\nX-Forwarded-For: 1.1.1.1\r\n\
         x-forwarded-for: 2.2.2.2\r\nAccept:*/*  \r\n"
    );
    // The map keeps everything, in order, for code that reads it.
    let map = f.into_map();
    let names: Vec<_> = map.keys().map(HeaderName::as_str).collect();
    assert_eq!(
        names,
        [
            "host",
            "content-type",
            "connection",
            "x-forwarded-for",
            "content-length",
            "accept"
        ]
    );
    assert_eq!(map.get_all("x-forwarded-for").iter().count(), 2);
    assert_eq!(map["accept"], "*/*");
}

#[test]
fn a_line_ended_by_a_bare_newline_is_written_with_crlf() {
    let f = lines(b"GET / HTTP/1.1\nHost: a\nX-A: 1\r\nX-B: 2\n\n");
    assert_eq!(written(&f), "Host: a\r\nX-A: 1\r\nX-B: 2\r\n");
}

#[test]
fn every_hop_by_hop_name_is_left_out_in_any_case() {
    for name in HOP_BY_HOP
        .iter()
        .map(HeaderName::as_str)
        .chain(["upgrade", "content-length"])
    {
        assert!(is_hop(name.as_bytes()), "{name}");
        assert!(is_hop(name.to_ascii_uppercase().as_bytes()), "{name}");
    }
    for name in ["host", "tee", "x-connection", "content-type", "t"] {
        assert!(!is_hop(name.as_bytes()), "{name}");
    }
}

#[test]
fn heads_that_need_a_map_get_one() {
    // Connection naming a field: that field is removed by name.
    let h = head(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: x-secret\r\nX-Secret: 1\r\n\r\n");
    assert!(h.lines.is_none());
    assert_eq!(h.headers["x-secret"], "1");
    // An upgrade keeps its Upgrade field.
    let h = head(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n");
    assert!(h.lines.is_none() && h.upgrade);
    assert_eq!(h.headers["upgrade"], "websocket");
    // close, keep-alive: still lines.
    let h = head(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close, Keep-Alive\r\n\r\n");
    assert!(h.lines.is_some() && !h.keep_alive);
}

#[test]
fn the_view_reads_a_map_and_lines_alike() {
    let f = lines(WIRE);
    let map = f.clone().into_map();
    let xff = HeaderName::from_static("x-forwarded-for");
    for view in [FieldsRef::new(&map, None), FieldsRef::new(&map, Some(&f))] {
        assert_eq!(view.get(&header::HOST), Some(&b"gw.example"[..]));
        assert_eq!(view.value(&header::HOST).unwrap(), "gw.example");
        assert_eq!(view.get_all(&xff).count(), 2);
        assert!(view.contains(&header::CONTENT_LENGTH));
        assert!(!view.contains(&header::COOKIE));
    }
}

#[test]
fn requests_and_responses_leave_out_the_same_names() {
    use crate::raw_head::{FieldUse, field_use};
    let hop = HOP_BY_HOP;
    let names = hop.iter().map(HeaderName::as_str).chain([
        "upgrade",
        "content-length",
        "date",
        "host",
        "tee",
        "x-connection",
        "te2",
    ]);
    for name in names {
        assert_eq!(
            is_hop(name.as_bytes()),
            field_use(name.as_bytes()) == FieldUse::Drop,
            "{name}"
        );
    }
}
