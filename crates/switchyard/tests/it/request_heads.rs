//! What of a client's request head reaches the upstream: its end-to-end
//! fields with every value and in order, never its hop-by-hop ones, and
//! the gateway's own fields (forwarding, request id, trace context) in
//! place of the client's — the same whether the head is passed on as the
//! lines it came in (a route with no policy) or read into a map for
//! policies.

use std::net::SocketAddr;

use crate::harness::TestGateway;
use crate::raw::Conn;

/// An upstream that answers each request with the request head it read,
/// byte for byte, as the body.
async fn upstream() -> SocketAddr {
    crate::raw::upstream(|head| {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{head}",
            head.len()
        )
    })
    .await
}

async fn gateway(up: SocketAddr) -> TestGateway {
    TestGateway::start(&format!(
        r#"
upstreams: [{{ name: up, targets: [{{ url: "http://{up}" }}] }}]
routes:
  - name: policed
    match: {{ path: {{ prefix: /policed }} }}
    policies:
      request_headers:
        add: {{ x-policy: "1" }}
    target: {{ upstream: up }}
  - name: host
    match: {{ path: {{ prefix: /host }} }}
    rewrite: {{ host: rewritten.example }}
    target: {{ upstream: up }}
  - name: plain
    match: {{ path: {{ prefix: / }} }}
    target: {{ upstream: up }}
"#
    ))
    .await
}

/// A head with fields in mixed case, repeated, hop-by-hop, and the ones
/// this hop writes itself.
fn request(path: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: gw.test\r\nX-Mixed-Case: Value One\r\n\
         Connection: keep-alive\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n\
         Proxy-Authorization: Basic eA==\r\nX-Forwarded-For: 6.6.6.6\r\nX-Dup: 1\r\n\
         X-Request-Id: client-id-1\r\nContent-Length: 2\r\nx-dup: 2\r\n\
         Traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n{{}}"
    )
}

/// The head the upstream got, and its fields as (lower-case name, value).
async fn seen(conn: &mut Conn, path: &str) -> (String, Vec<(String, String)>) {
    conn.send(request(path).as_bytes()).await;
    let res = conn.response().await;
    assert_eq!(res.status, 200, "{res:?}");
    let head = String::from_utf8(res.body).unwrap();
    assert!(head.ends_with("\r\n\r\n"), "{head:?}");
    let fields = head
        .split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    (head, fields)
}

fn all<'a>(fields: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    fields
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[tokio::test]
async fn a_request_head_reaches_the_upstream_alike_as_lines_or_as_a_map() {
    let gw = gateway(upstream().await).await;
    let mut conn = Conn::open(gw.addr).await;
    let (raw, lines) = seen(&mut conn, "/plain").await;
    let (_, map) = seen(&mut conn, "/policed").await;
    for fields in [&lines, &map] {
        assert_eq!(all(fields, "host"), ["gw.test"], "{fields:?}");
        assert_eq!(all(fields, "x-mixed-case"), ["Value One"]);
        assert_eq!(all(fields, "x-dup"), ["1", "2"]);
        assert_eq!(all(fields, "content-length"), ["2"]);
        for hop in ["connection", "keep-alive", "te", "proxy-authorization"] {
            assert!(all(fields, hop).is_empty(), "{hop} passed on: {fields:?}");
        }
        // The peer is not trusted: the client's forwarding fields are replaced.
        assert_eq!(all(fields, "x-forwarded-for"), ["127.0.0.1"]);
        assert_eq!(all(fields, "x-forwarded-proto"), ["http"]);
        assert_eq!(all(fields, "x-forwarded-host"), ["gw.test"]);
        assert_eq!(
            all(fields, "forwarded"),
            ["for=127.0.0.1;proto=http;host=\"gw.test\""]
        );
        assert_eq!(all(fields, "x-request-id"), ["client-id-1"]);
        let tp = all(fields, "traceparent");
        assert_eq!(tp.len(), 1, "{fields:?}");
        assert!(
            tp[0].starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-")
                && !tp[0].contains("00f067aa0ba902b7"),
            "{tp:?}"
        );
    }
    // Passed on as lines, the client's own fields keep the case they came in.
    assert!(raw.contains("\r\nX-Mixed-Case: Value One\r\n"), "{raw:?}");
    // The same fields either way, but for the policy's and the new span id.
    let comparable = |f: &[(String, String)]| -> Vec<(String, String)> {
        let mut f: Vec<_> = f
            .iter()
            .filter(|(n, _)| n != "x-policy" && n != "traceparent")
            .cloned()
            .collect();
        f.sort();
        f
    };
    assert_eq!(comparable(&lines), comparable(&map));
    assert_eq!(all(&map, "x-policy"), ["1"]);

    // A rewritten host replaces the client's, once.
    let (_, fields) = seen(&mut conn, "/host").await;
    assert_eq!(all(&fields, "host"), ["rewritten.example"], "{fields:?}");
    assert_eq!(all(&fields, "x-forwarded-host"), ["gw.test"]);
    gw.shutdown().await;
}

/// Each field this hop writes, sent alone by the client, reaches the
/// upstream once: the client's is found and replaced even when it is the
/// only one of them (lines answer from their name bits).
#[tokio::test]
async fn each_field_this_hop_writes_is_replaced_when_sent_alone() {
    let gw = gateway(upstream().await).await;
    let mut conn = Conn::open(gw.addr).await;
    for (name, value) in [
        ("X-Forwarded-For", "6.6.6.6"),
        ("X-Forwarded-Proto", "gopher"),
        ("X-Forwarded-Host", "spoofed.example"),
        ("Forwarded", "for=6.6.6.6"),
        ("X-Request-Id", "client-id-2"),
        (
            "Traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ),
    ] {
        let wire = format!("GET /plain HTTP/1.1\r\nHost: gw.test\r\n{name}: {value}\r\n\r\n");
        conn.send(wire.as_bytes()).await;
        let res = conn.response().await;
        let head = String::from_utf8(res.body).unwrap();
        let lower = name.to_ascii_lowercase();
        let seen: Vec<&str> = head
            .split("\r\n")
            .filter_map(|l| l.split_once(':'))
            .filter(|(n, _)| n.eq_ignore_ascii_case(&lower))
            .map(|(_, v)| v.trim())
            .collect();
        assert_eq!(seen.len(), 1, "{name}: {head:?}");
        if name != "X-Request-Id" {
            assert_ne!(seen[0], value, "{name} passed on as the client sent it");
        }
    }
    gw.shutdown().await;
}

/// Every route has a policy, so no route could pass lines on and the
/// server parses heads straight into a map: the upstream still sees the
/// client's fields, the policy's and this hop's, and no hop-by-hop ones.
#[tokio::test]
async fn heads_are_parsed_into_a_map_when_no_route_passes_lines() {
    let up = upstream().await;
    let gw = TestGateway::start(&format!(
        r#"
upstreams: [{{ name: up, targets: [{{ url: "http://{up}" }}] }}]
routes:
  - name: policed
    match: {{ path: {{ prefix: / }} }}
    policies:
      request_headers:
        add: {{ x-policy: "1" }}
    target: {{ upstream: up }}
"#
    ))
    .await;
    let mut conn = Conn::open(gw.addr).await;
    let (raw, fields) = seen(&mut conn, "/plain").await;
    // Written from a map: names in lower case.
    assert!(raw.contains("\r\nx-mixed-case: Value One\r\n"), "{raw:?}");
    assert_eq!(all(&fields, "x-dup"), ["1", "2"]);
    assert_eq!(all(&fields, "x-forwarded-for"), ["127.0.0.1"]);
    assert_eq!(all(&fields, "x-policy"), ["1"]);
    assert!(all(&fields, "connection").is_empty(), "{fields:?}");
    gw.shutdown().await;
}
