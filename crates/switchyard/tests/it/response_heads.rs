//! What of an upstream's response head reaches the client: its end-to-end
//! fields in order and with every value, never its hop-by-hop ones, and the
//! gateway's own fields in place of the upstream's — whether the head is
//! passed on as bytes (HTTP/1.1, no response policy), read into a map for
//! policies, answered to a HEAD or sent on over HTTP/2.

use std::net::SocketAddr;

use crate::harness::{TestGateway, client};
use crate::raw::{Conn, values};

const UPSTREAM_DATE: &str = "Mon, 01 Jan 2024 00:00:00 GMT";

/// An upstream answering every request on a keep-alive connection with a
/// fixed head full of fields a proxy must and must not pass on.
async fn upstream() -> SocketAddr {
    crate::raw::upstream(|head| {
        let mut answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: keep-alive\r\n\
             Keep-Alive: timeout=5\r\nProxy-Authenticate: Basic\r\nSet-Cookie: a=1\r\n\
             X-Request-Id: from-upstream\r\nDate: {UPSTREAM_DATE}\r\nSet-Cookie: b=2\r\n\
             X-Upstream: raw\r\nContent-Length: 5\r\n\r\n"
        );
        if !head.starts_with("HEAD ") {
            answer.push_str("hello");
        }
        answer
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
      response_headers:
        remove: [x-upstream]
        add: {{ set-cookie: c=3 }}
    target: {{ upstream: up }}
  - name: plain
    match: {{ path: {{ prefix: / }} }}
    target: {{ upstream: up }}
"#
    ))
    .await
}

#[tokio::test]
async fn end_to_end_fields_pass_and_hop_by_hop_ones_do_not() {
    let up = upstream().await;
    let gw = gateway(up).await;
    let mut conn = Conn::open(gw.addr).await;
    for path in ["/plain", "/policed", "/plain"] {
        conn.send(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
            .await;
        let res = conn.response().await;
        let h = &res.headers;
        assert_eq!(res.status, 200, "{path}: {res:?}");
        assert_eq!(res.body, b"hello", "{path}");
        assert_eq!(values(h, "content-type"), ["text/plain"], "{path}");
        assert_eq!(values(h, "content-length"), ["5"], "{path}");
        assert_eq!(
            values(h, "date"),
            [UPSTREAM_DATE],
            "{path}: one date, the upstream's"
        );
        for hop in ["keep-alive", "proxy-authenticate", "transfer-encoding"] {
            assert!(values(h, hop).is_empty(), "{path}: {hop} passed on: {h:?}");
        }
        // Ours, not the upstream's, and only once.
        let ids = values(h, "x-request-id");
        assert_eq!(ids.len(), 1, "{path}: {h:?}");
        assert_ne!(ids[0], "from-upstream", "{path}");
        if path == "/plain" {
            assert_eq!(values(h, "set-cookie"), ["a=1", "b=2"]);
            assert_eq!(values(h, "x-upstream"), ["raw"]);
        } else {
            assert_eq!(values(h, "set-cookie"), ["a=1", "b=2", "c=3"]);
            assert!(values(h, "x-upstream").is_empty(), "removed by the policy");
        }
    }
    gw.shutdown().await;
}

#[tokio::test]
async fn head_answers_and_http2_clients_get_the_same_fields() {
    let up = upstream().await;
    let gw = gateway(up).await;
    let res = client().head(gw.url("/plain")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    // A HEAD answer has no body to take its length from: the upstream's
    // declared length is passed on.
    assert_eq!(res.headers()["content-length"], "5");
    assert!(res.headers().get("keep-alive").is_none());
    assert_ne!(res.headers()["x-request-id"], "from-upstream");

    let h2 = reqwest::Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let res = h2.get(gw.url("/plain")).send().await.unwrap();
    assert_eq!(res.version(), http::Version::HTTP_2);
    let h = res.headers();
    let cookies: Vec<_> = h.get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
    assert_eq!(h["content-type"], "text/plain");
    assert_eq!(h["date"], UPSTREAM_DATE);
    assert_eq!(h.get_all("x-request-id").iter().count(), 1);
    assert_ne!(h["x-request-id"], "from-upstream");
    assert!(h.get("keep-alive").is_none() && h.get("proxy-authenticate").is_none());
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"hello");
    gw.shutdown().await;
}
