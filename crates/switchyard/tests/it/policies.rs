//! Route policies seen from a client: key auth, rate limits and their
//! headers, CORS preflights and actual requests, IP rules behind trusted
//! proxies, header transforms and body limits.

use sy_testkit::{MockHandle, MockOptions, MockUpstream};

use crate::harness::{TestGateway, client, error_json};

async fn mock() -> MockHandle {
    MockUpstream::start(MockOptions::named("up")).await.unwrap()
}

fn assert_error(json: &serde_json::Value, code: &str, message: &str) {
    assert_eq!(json["error"]["code"], code, "{json}");
    assert_eq!(json["error"]["message"], message, "{json}");
}

async fn echo(res: reqwest::Response) -> serde_json::Value {
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn key_auth() {
    let m = mock().await;
    let gw = TestGateway::start(&format!(
        r#"
consumers:
  - name: alice
    keys: [{{ key: sk-alice-0123456789 }}]
  - name: bob
    keys: [{{ key: sk-bob-0123456789ab }}]
upstreams:
  - name: up
    targets: [{{ url: "{url}" }}]
routes:
  - name: open-to-all
    match: {{ path: {{ prefix: /any }} }}
    rewrite: {{ path: /echo }}
    policies:
      key_auth: {{ query_param: api_key }}
    target: {{ upstream: up }}
  - name: alice-only
    match: {{ path: {{ prefix: /alice }} }}
    rewrite: {{ path: /echo }}
    policies:
      key_auth: {{ consumers: [alice] }}
    target: {{ upstream: up }}
"#,
        url = m.url()
    ))
    .await;
    let c = client();

    let res = c.get(gw.url("/any")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    let json = error_json(res).await;
    assert_error(
        &json,
        "unauthorized",
        "missing API key: send `Authorization: Bearer <key>` or `x-api-key`",
    );
    assert_eq!(json["error"]["type"], "authentication_error");

    let res = c
        .get(gw.url("/any"))
        .bearer_auth("sk-nobody-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_error(&error_json(res).await, "unauthorized", "invalid API key");

    // Each way of sending the key works, and none reaches the upstream.
    let e = echo(
        c.get(gw.url("/any"))
            .bearer_auth("sk-alice-0123456789")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(e["headers"].get("authorization").is_none(), "{e}");
    let e = echo(
        c.get(gw.url("/any"))
            .header("x-api-key", "sk-bob-0123456789ab")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(e["headers"].get("x-api-key").is_none(), "{e}");
    let e = echo(
        c.get(gw.url("/any?a=1&api_key=sk-bob-0123456789ab&b=2"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(e["query"], "a=1&b=2");
    // Basic credentials meant for the upstream are not the gateway's business.
    let res = c
        .get(gw.url("/any"))
        .basic_auth("u", Some("p"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    let res = c
        .get(gw.url("/alice"))
        .bearer_auth("sk-bob-0123456789ab")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let json = error_json(res).await;
    assert_error(
        &json,
        "forbidden",
        "consumer `bob` may not call route `alice-only`",
    );
    assert_eq!(json["error"]["type"], "permission_error");
    echo(
        c.get(gw.url("/alice"))
            .bearer_auth("sk-alice-0123456789")
            .send()
            .await
            .unwrap(),
    )
    .await;

    assert_eq!(m.requests(), 4);
    let lines = gw.log_lines(9).await;
    let consumers: Vec<_> = lines
        .iter()
        .map(|l| l["consumer"].as_str().unwrap_or("-").to_string())
        .collect();
    assert_eq!(
        consumers,
        ["-", "-", "alice", "bob", "bob", "-", "-", "alice"]
    );
    gw.shutdown().await;
}

fn header(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn rate_limits_answer_429_with_headers() {
    let m = mock().await;
    let gw = TestGateway::start(&format!(
        r#"
upstreams:
  - name: up
    targets: [{{ url: "{url}" }}]
routes:
  - name: per-route
    match: {{ path: {{ prefix: /r }} }}
    rewrite: {{ path: / }}
    policies:
      rate_limits:
        - {{ requests: 2, per: 1m }}
    target: {{ upstream: up }}
  - name: per-user
    match: {{ path: {{ prefix: /u }} }}
    rewrite: {{ path: / }}
    policies:
      rate_limits:
        - {{ requests: 1, per: 1h, key: {{ header: x-user }} }}
    target: {{ upstream: up }}
"#,
        url = m.url()
    ))
    .await;
    let c = client();
    let res = c.get(gw.url("/r")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "ratelimit-limit"), "2");
    assert_eq!(header(&res, "ratelimit-remaining"), "1");
    let res = c.get(gw.url("/r")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "ratelimit-remaining"), "0");
    let reset: u64 = header(&res, "ratelimit-reset").parse().unwrap();
    assert!((1..=60).contains(&reset), "{reset}");

    let res = c.get(gw.url("/r")).send().await.unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(header(&res, "ratelimit-limit"), "2");
    assert_eq!(header(&res, "ratelimit-remaining"), "0");
    let retry: u64 = header(&res, "retry-after").parse().unwrap();
    assert!(
        (1..=30).contains(&retry),
        "one token comes back every 30 s, got {retry}"
    );
    let json = error_json(res).await;
    assert_error(
        &json,
        "rate_limited",
        &format!("rate limit exceeded: 2 requests per 60s by route; retry after {retry}s"),
    );
    assert_eq!(json["error"]["type"], "rate_limit_error");

    // Separate buckets per header value.
    assert_eq!(
        c.get(gw.url("/u"))
            .header("x-user", "a")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        c.get(gw.url("/u"))
            .header("x-user", "b")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let res = c
        .get(gw.url("/u"))
        .header("x-user", "a")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(header(&res, "retry-after"), "3600");
    assert_error(
        &error_json(res).await,
        "rate_limited",
        "rate limit exceeded: 1 requests per 3600s by header x-user; retry after 3600s",
    );
    assert_eq!(m.requests(), 4);
    let lines = gw.log_lines(6).await;
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["error"] == "rate_limited" && l["status"] == 429)
            .count(),
        2
    );
    gw.shutdown().await;
}

fn cors_config(url: &str) -> String {
    format!(
        r#"
consumers:
  - name: app
    keys: [{{ key: sk-app-0123456789ab }}]
upstreams:
  - name: up
    targets: [{{ url: "{url}" }}]
routes:
  - name: api
    policies:
      cors:
        allow_origins: ["https://app.example.com", "http://localhost:3000"]
        allow_methods: [GET, PUT]
        allow_headers: [authorization, x-trace]
        expose_headers: [x-upstream]
        allow_credentials: true
        max_age: 10m
      key_auth: {{}}
    target: {{ upstream: up }}
"#
    )
}

#[tokio::test]
async fn cors_preflight_and_actual_requests() {
    let m = mock().await;
    let gw = TestGateway::start(&cors_config(&m.url())).await;
    let c = client();
    let preflight = |origin: &str, method: &str, headers: &str| {
        c.request(reqwest::Method::OPTIONS, gw.url("/echo"))
            .header("origin", origin)
            .header("access-control-request-method", method)
            .header("access-control-request-headers", headers)
            .send()
    };
    // Answered by the gateway, before key auth (browsers send no credentials).
    let res = preflight(
        "https://APP.example.com:443",
        "PUT",
        "Authorization, x-trace",
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(
        header(&res, "access-control-allow-origin"),
        "https://APP.example.com:443"
    );
    assert_eq!(header(&res, "access-control-allow-methods"), "GET, PUT");
    assert_eq!(
        header(&res, "access-control-allow-headers"),
        "authorization, x-trace"
    );
    assert_eq!(header(&res, "access-control-allow-credentials"), "true");
    assert_eq!(header(&res, "access-control-max-age"), "600");
    assert!(header(&res, "vary").contains("Origin"));

    let res = preflight("https://evil.example.com", "PUT", "")
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers().get("access-control-allow-origin").is_none());
    assert_error(
        &error_json(res).await,
        "forbidden",
        "CORS preflight: origin is not allowed",
    );
    let res = preflight("http://localhost:3000", "DELETE", "")
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_error(
        &error_json(res).await,
        "forbidden",
        "CORS preflight: method DELETE is not allowed",
    );
    let res = preflight("http://localhost:3000", "GET", "x-other")
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_error(
        &error_json(res).await,
        "forbidden",
        "CORS preflight: header `x-other` is not allowed",
    );
    assert_eq!(m.requests(), 0, "preflights never reach the upstream");

    // Actual request from an allowed origin.
    let res = c
        .get(gw.url("/echo"))
        .header("origin", "http://localhost:3000")
        .bearer_auth("sk-app-0123456789ab")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        header(&res, "access-control-allow-origin"),
        "http://localhost:3000"
    );
    assert_eq!(header(&res, "access-control-allow-credentials"), "true");
    assert_eq!(header(&res, "access-control-expose-headers"), "x-upstream");
    assert_eq!(header(&res, "vary"), "Origin");
    // An error is still readable by the script.
    let res = c
        .get(gw.url("/echo"))
        .header("origin", "http://localhost:3000")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        header(&res, "access-control-allow-origin"),
        "http://localhost:3000"
    );
    // A foreign origin is proxied but gets no CORS grant.
    let res = c
        .get(gw.url("/echo"))
        .header("origin", "https://evil.example.com")
        .bearer_auth("sk-app-0123456789ab")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("access-control-allow-origin").is_none());
    assert_eq!(header(&res, "vary"), "Origin");
    assert_eq!(m.requests(), 2);
    gw.shutdown().await;
}

fn ip_config(url: &str, trusted: &str, rules: &str) -> String {
    format!(
        r#"
trusted_proxies: {trusted}
upstreams:
  - name: up
    targets: [{{ url: "{url}" }}]
routes:
  - name: guarded
    policies:
      ip: {rules}
    target: {{ upstream: up }}
"#
    )
}

#[tokio::test]
async fn ip_rules_use_x_forwarded_for_only_from_trusted_proxies() {
    let m = mock().await;
    let c = client();
    // The test client (127.0.0.1) is a trusted proxy.
    let gw = TestGateway::start(&ip_config(
        &m.url(),
        "[127.0.0.1/32]",
        "{ deny: [203.0.113.0/24] }",
    ))
    .await;
    let res = c
        .get(gw.url("/echo"))
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let json = error_json(res).await;
    assert_error(&json, "forbidden", "client IP 203.0.113.7 is not allowed");
    assert_eq!(json["error"]["type"], "permission_error");
    // The left end of the header is the client's own claim: only the
    // nearest untrusted hop counts.
    let res = c
        .get(gw.url("/echo"))
        .header("x-forwarded-for", "203.0.113.7, 198.51.100.1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = c
        .get(gw.url("/echo"))
        .header("x-forwarded-for", "198.51.100.1, 203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_error(
        &error_json(res).await,
        "forbidden",
        "client IP 203.0.113.9 is not allowed",
    );
    // Without the header, the proxy itself is the client.
    assert_eq!(c.get(gw.url("/echo")).send().await.unwrap().status(), 200);
    let lines = gw.log_lines(4).await;
    let ips: Vec<&str> = lines
        .iter()
        .map(|l| l["client_ip"].as_str().unwrap())
        .collect();
    assert_eq!(
        ips,
        ["203.0.113.7", "198.51.100.1", "203.0.113.9", "127.0.0.1"]
    );
    gw.shutdown().await;

    // No trusted proxies: the header is ignored for rules and replaced upstream.
    let gw = TestGateway::start(&ip_config(&m.url(), "[]", "{ deny: [203.0.113.0/24] }")).await;
    let e = echo(
        c.get(gw.url("/echo"))
            .header("x-forwarded-for", "203.0.113.7")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(e["headers"]["x-forwarded-for"], "127.0.0.1");
    gw.shutdown().await;

    // An allow list the peer is outside of.
    let gw = TestGateway::start(&ip_config(&m.url(), "[]", "{ allow: [10.0.0.0/8] }")).await;
    let res = c
        .get(gw.url("/echo"))
        .header("x-forwarded-for", "10.1.1.1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_error(
        &error_json(res).await,
        "forbidden",
        "client IP 127.0.0.1 is not allowed",
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn trusted_proxy_hop_is_appended_to_x_forwarded_for() {
    let m = mock().await;
    let gw = TestGateway::start(&ip_config(&m.url(), "[127.0.0.1/32]", "{}")).await;
    let e = echo(
        client()
            .get(gw.url("/echo"))
            .header("x-forwarded-for", "198.51.100.1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    // Each hop appends the address it received the request from: here the
    // trusted proxy at 127.0.0.1.
    assert_eq!(e["headers"]["x-forwarded-for"], "198.51.100.1, 127.0.0.1");
    assert!(
        e["headers"]["forwarded"]
            .as_str()
            .unwrap()
            .starts_with("for=127.0.0.1;"),
        "{e}"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn header_transforms() {
    let m = mock().await;
    let yaml = |extra: &str| {
        format!(
            r#"
upstreams:
  - name: up
    targets: [{{ url: "{url}" }}]
routes:
  - name: t
    policies:
      request_headers:
        remove: [x-secret]
        rename: {{ x-old: x-new }}
        set: {{ x-set: fixed, x-tenant: gateway }}
        add: {{ x-add: added }}{extra}
      response_headers:
        remove: [x-upstream]
        set: {{ x-served-by: switchyard }}
        add: {{ cache-control: private }}
    target: {{ upstream: up }}
"#,
            url = m.url()
        )
    };
    let gw = TestGateway::start(&yaml("")).await;
    let res = client()
        .get(gw.url("/echo"))
        .header("x-secret", "s3cret")
        .header("x-old", "1")
        .header("x-new", "stale")
        .header("x-tenant", "spoofed")
        .header("x-add", "client")
        .header("x-keep", "k")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("x-upstream").is_none());
    assert_eq!(header(&res, "x-served-by"), "switchyard");
    assert_eq!(header(&res, "cache-control"), "private");
    let e: serde_json::Value = res.json().await.unwrap();
    let h = &e["headers"];
    assert!(h.get("x-secret").is_none(), "{h}");
    assert!(h.get("x-old").is_none(), "{h}");
    assert_eq!(h["x-new"], "1");
    assert_eq!(h["x-set"], "fixed");
    assert_eq!(h["x-tenant"], "gateway");
    assert_eq!(h["x-add"], "client, added");
    assert_eq!(h["x-keep"], "k");
    // Framing headers cannot be transformed: the reload is refused and the
    // running config keeps serving.
    let err = gw
        .rewrite(
            &yaml("\n        remove: [content-length]").replace("        remove: [x-secret]\n", ""),
        )
        .unwrap_err();
    assert!(
        err.contains("`content-length` cannot be changed by a header transform"),
        "{err}"
    );
    assert_eq!(
        client()
            .get(gw.url("/echo"))
            .send()
            .await
            .unwrap()
            .headers()["x-served-by"],
        "switchyard"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn route_body_limit() {
    let m = mock().await;
    let gw = TestGateway::start(&format!(
        r#"
upstreams:
  - name: up
    targets: [{{ url: "{url}" }}]
routes:
  - name: small
    match: {{ path: {{ prefix: /small }} }}
    rewrite: {{ path: /echo }}
    policies:
      body_limit: 16
    target: {{ upstream: up }}
  - name: big
    target: {{ upstream: up }}
"#,
        url = m.url()
    ))
    .await;
    let c = client();
    let res = c
        .post(gw.url("/small"))
        .body("x".repeat(17))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let json = error_json(res).await;
    assert_error(
        &json,
        "payload_too_large",
        "request body exceeds the limit of 16 bytes",
    );
    assert_eq!(json["error"]["type"], "invalid_request_error");
    let e = echo(
        c.post(gw.url("/small"))
            .body("x".repeat(16))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(e["body"], "x".repeat(16));
    // Other routes keep the listener's limit.
    let e = echo(
        c.post(gw.url("/echo"))
            .body("x".repeat(4096))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(e["body"].as_str().unwrap().len(), 4096);
    assert_eq!(m.requests(), 2);
    gw.shutdown().await;
}
