//! Route matching, rewriting, forwarding headers and the 404 shape.

use sy_testkit::{MockOptions, MockUpstream};

use crate::harness::{TestGateway, client, error_json};

async fn echo_json(res: reqwest::Response) -> serde_json::Value {
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn match_kinds_priority_and_rewrite() {
    let a = MockUpstream::start(MockOptions::named("a")).await.unwrap();
    let b = MockUpstream::start(MockOptions::named("b")).await.unwrap();
    let gw = TestGateway::start(&format!(
        r#"
upstreams:
  - name: a
    targets: [{{ url: "{a}" }}]
  - name: b
    targets: [{{ url: "{b}" }}]
routes:
  - name: users-template
    match: {{ path: {{ template: "/users/{{id}}/orders/{{*rest}}" }}, methods: [GET] }}
    rewrite: {{ path: "/echo" }}
    target: {{ upstream: a }}
  - name: api-prefix
    match: {{ path: {{ prefix: /api }} }}
    rewrite: {{ strip_prefix: /api }}
    target: {{ upstream: a }}
  - name: exact-echo
    match: {{ path: {{ exact: /echo }} }}
    target: {{ upstream: a }}
  - name: canary-by-header
    priority: 10
    match: {{ path: {{ prefix: /api }}, headers: [{{ name: x-canary, exact: "yes" }}] }}
    rewrite: {{ strip_prefix: /api }}
    target: {{ upstream: b }}
  - name: v2-by-query
    match: {{ path: {{ prefix: /svc }}, query: [{{ name: version, exact: "2" }}] }}
    rewrite: {{ path: "/echo" }}
    target: {{ upstream: b }}
  - name: v1-default
    match: {{ path: {{ prefix: /svc }} }}
    rewrite: {{ path: "/echo" }}
    target: {{ upstream: a }}
  - name: host-wild
    match: {{ hosts: ["*.example.test"], path: {{ prefix: /h }} }}
    rewrite: {{ path: "/echo" }}
    target: {{ upstream: b }}
  - name: host-exact
    match: {{ hosts: ["api.example.test"], path: {{ prefix: /h }} }}
    rewrite: {{ path: "/echo" }}
    target: {{ upstream: a }}
"#,
        a = a.url(),
        b = b.url()
    ))
    .await;
    let c = client();

    // Prefix with strip: /api/echo → /echo on a.
    let v = echo_json(c.get(gw.url("/api/echo?x=1")).send().await.unwrap()).await;
    assert_eq!(v["path"], "/echo");
    assert_eq!(v["query"], "x=1");
    assert_eq!(v["upstream"], "a");
    // Priority: the canary header beats the plain prefix.
    let v = echo_json(
        c.get(gw.url("/api/echo"))
            .header("x-canary", "yes")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["upstream"], "b");
    // Template with catch-all, rewritten.
    let v = echo_json(
        c.get(gw.url("/users/42/orders/7/items"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["upstream"], "a");
    // Template requires GET.
    let res = c.post(gw.url("/users/42/orders/7")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    // Versioning by query parameter.
    let v = echo_json(c.get(gw.url("/svc/thing?version=2")).send().await.unwrap()).await;
    assert_eq!(v["upstream"], "b");
    let v = echo_json(c.get(gw.url("/svc/thing")).send().await.unwrap()).await;
    assert_eq!(v["upstream"], "a");
    // Exact host beats wildcard; wildcard matches other subdomains; host port ignored.
    let v = echo_json(
        c.get(gw.url("/h"))
            .header("host", "api.example.test:8080")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["upstream"], "a");
    let v = echo_json(
        c.get(gw.url("/h"))
            .header("host", "Web.Example.Test")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["upstream"], "b");
    let res = c
        .get(gw.url("/h"))
        .header("host", "example.test")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    // No route: 404 in the shared error shape, with the request id.
    let res = c
        .get(gw.url("/nothing/here"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["x-request-id"], "abc-123");
    let v = error_json(res).await;
    assert_eq!(v["error"]["code"], "route_not_found");
    assert_eq!(v["error"]["message"], "no route matches GET /nothing/here");
    assert_eq!(v["error"]["request_id"], "abc-123");
    gw.shutdown().await;
}

#[tokio::test]
async fn forwarding_headers_request_id_and_hop_by_hop() {
    let a = MockUpstream::start(MockOptions::named("a")).await.unwrap();
    let gw = TestGateway::start(&format!(
        r#"
upstreams: [{{ name: a, targets: [{{ url: "{}" }}] }}]
routes:
  - name: all
    match: {{ path: {{ prefix: / }} }}
    target: {{ upstream: a }}
"#,
        a.url()
    ))
    .await;
    let res = client()
        .get(gw.url("/echo"))
        .header("x-forwarded-for", "6.6.6.6")
        .header("x-forwarded-proto", "gopher")
        .header("forwarded", "for=6.6.6.6")
        // Not a usable id (spaces): replaced by a generated one.
        .header("x-request-id", "not an id")
        .header("connection", "x-drop-me")
        .header("x-drop-me", "secret")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .send()
        .await
        .unwrap();
    let rid = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(rid.len(), 36, "a generated UUID v7");
    let v = echo_json(res).await;
    let h = &v["headers"];
    // The peer is not a trusted proxy: its X-Forwarded-For is replaced.
    assert_eq!(h["x-forwarded-for"], "127.0.0.1");
    // Each of these once, as this hop wrote it (values sent twice would
    // be joined by the echo).
    assert_eq!(h["x-forwarded-proto"], "http");
    assert_eq!(
        h["forwarded"],
        format!("for=127.0.0.1;proto=http;host=\"{}\"", gw.addr)
    );
    assert_eq!(h["x-forwarded-host"], gw.addr.to_string());
    assert_eq!(h["x-request-id"], rid.as_str());
    assert!(
        h.get("x-drop-me").is_none(),
        "headers named in Connection are hop-by-hop: {h}"
    );
    let tp = h["traceparent"].as_str().unwrap();
    assert!(
        tp.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-") && !tp.contains("00f067aa0ba902b7"),
        "{tp}"
    );
    // The client's Host is preserved by default.
    assert_eq!(h["host"], gw.addr.to_string());
    let lines = gw.log_lines(1).await;
    assert_eq!(lines[0]["request_id"], rid.as_str());
    assert_eq!(lines[0]["route"], "all");
    assert_eq!(lines[0]["upstream"], "a");
    assert_eq!(lines[0]["target"], a.addr().to_string());
    assert_eq!(lines[0]["status"], 200);
    assert_eq!(lines[0]["attempts"], 1);
    gw.shutdown().await;
}

#[tokio::test]
async fn weighted_split_divides_traffic() {
    let a = MockUpstream::start(MockOptions::named("stable"))
        .await
        .unwrap();
    let b = MockUpstream::start(MockOptions::named("canary"))
        .await
        .unwrap();
    let gw = TestGateway::start(&format!(
        r#"
upstreams:
  - {{ name: stable, targets: [{{ url: "{}" }}] }}
  - {{ name: canary, targets: [{{ url: "{}" }}] }}
routes:
  - name: split
    match: {{ path: {{ prefix: / }} }}
    target: {{ split: [{{ upstream: stable, weight: 80 }}, {{ upstream: canary, weight: 20 }}] }}
"#,
        a.url(),
        b.url()
    ))
    .await;
    let c = client();
    let n = 1000;
    let mut canary = 0;
    for _ in 0..n {
        let res = c.get(gw.url("/")).send().await.unwrap();
        if res.headers()["x-upstream"] == "canary" {
            canary += 1;
        }
    }
    // 20 % ± 5 points: binomial sd is ~1.3 points at n=1000.
    assert!((150..=250).contains(&canary), "canary got {canary} of {n}");
    assert_eq!(a.requests() + b.requests(), n);
    gw.shutdown().await;
}

#[tokio::test]
async fn respond_target_and_metrics() {
    let gw = TestGateway::start(
        r#"
routes:
  - name: maintenance
    match: { path: { exact: /down } }
    target: { respond: { status: 503, body: "back soon", headers: { retry-after: "60" } } }
"#,
    )
    .await;
    let c = client();
    let res = c.get(gw.url("/down")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "60");
    assert_eq!(res.text().await.unwrap(), "back soon");
    let metrics = gw.metrics().await;
    assert!(
        metrics.contains(r#"switchyard_requests_total{route="maintenance",status="5xx"} 1"#),
        "{metrics}"
    );
    let ready = c.get(format!("{}/readyz", gw.admin)).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    gw.shutdown().await;
}
