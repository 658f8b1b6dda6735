//! The fields of an AI answer as a client receives them. The gateway writes
//! its own (content type, routing, tokens, cost, rate limits) as lines
//! rather than into a header map; whichever way the answer leaves — HTTP/1.1
//! with no policy reading it, HTTP/1.1 through a response policy that
//! removes and adds fields, HTTP/2 — each field arrives once, with the
//! value it had when the gateway built the map.

use serde_json::json;

use crate::harness::{TestGateway, client};
use crate::raw::{Conn, values};

const KEY: &str = "sk-heads-0123456789abcdef";

const CONFIG: &str = r#"
consumers:
  - name: app
    keys: [{ key: "sk-heads-0123456789abcdef" }]
    limits: { requests_per_minute: 100, tokens_per_minute: 100000 }
providers:
  - { name: mock, kind: mock }
models:
  - name: priced
    deployments:
      - provider: mock
        model: mock-1
        input_price_per_million: "2.50"
        output_price_per_million: "10"
routes:
  - name: policed
    match: { path: { prefix: /policed/v1 } }
    policies:
      key_auth: {}
      response_headers:
        remove: [x-switchyard-attempts]
        add: { x-extra: "1" }
    target: { ai: {} }
  - name: ai
    match: { path: { prefix: /v1 } }
    policies: { key_auth: {} }
    target: { ai: {} }
"#;

fn body() -> String {
    json!({"model": "priced", "max_tokens": 20,
           "messages": [{"role": "user", "content": "hello there"}]})
    .to_string()
}

/// Exactly one `name`, returned.
fn one<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    match values(headers, name)[..] {
        [v] => v,
        ref other => panic!("{name}: {other:?} in {headers:?}"),
    }
}

/// The fields every answer of `priced` to the first caller carries, `n`
/// requests into the minute.
fn check_answer(h: &[(String, String)], n: u64) {
    assert_eq!(one(h, "content-type"), "application/json");
    assert_eq!(one(h, "x-switchyard-deployment"), "mock/mock-1");
    let prompt: u64 = one(h, "x-switchyard-prompt-tokens").parse().unwrap();
    let completion: u64 = one(h, "x-switchyard-completion-tokens").parse().unwrap();
    assert!(prompt > 0 && completion > 0, "{h:?}");
    assert!(one(h, "x-switchyard-cost-usd").starts_with("0.0"), "{h:?}");
    assert_eq!(one(h, "x-ratelimit-limit-requests"), "100");
    assert_eq!(
        one(h, "x-ratelimit-remaining-requests"),
        (100 - n).to_string()
    );
    assert!(one(h, "x-ratelimit-reset-requests").ends_with('s'), "{h:?}");
    assert_eq!(one(h, "x-ratelimit-limit-tokens"), "100000");
    let left: u64 = one(h, "x-ratelimit-remaining-tokens").parse().unwrap();
    assert!(left < 100_000, "{h:?}");
    assert!(one(h, "x-ratelimit-reset-tokens").ends_with('s'), "{h:?}");
    assert!(!one(h, "x-request-id").is_empty());
}

#[tokio::test]
async fn answers_over_http1_carry_each_field_once_with_and_without_a_response_policy() {
    let gw = TestGateway::start(CONFIG).await;
    let mut conn = Conn::open(gw.addr).await;
    let body = body();
    for (n, path) in [
        "/v1/chat/completions",
        "/policed/v1/chat/completions",
        "/v1/chat/completions",
    ]
    .into_iter()
    .enumerate()
    {
        conn.send(
            format!(
                "POST {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEY}\r\n\
                 content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .await;
        let res = conn.response().await;
        assert_eq!(res.status, 200, "{path}: {res:?}");
        let h = &res.headers;
        check_answer(h, n as u64 + 1);
        one(h, "content-length");
        if path.starts_with("/policed") {
            assert!(values(h, "x-switchyard-attempts").is_empty(), "removed");
            assert_eq!(one(h, "x-extra"), "1");
        } else {
            assert_eq!(one(h, "x-switchyard-attempts"), "1");
            assert!(values(h, "x-extra").is_empty());
        }
        assert_eq!(res.json()["model"], "priced", "{path}");
    }
    gw.shutdown().await;
}

#[tokio::test]
async fn answers_over_http2_carry_the_same_fields() {
    let gw = TestGateway::start(CONFIG).await;
    let h2 = reqwest::Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let res = h2
        .post(gw.url("/v1/chat/completions"))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body(body())
        .send()
        .await
        .unwrap();
    assert_eq!(res.version(), http::Version::HTTP_2);
    assert_eq!(res.status(), 200);
    let h: Vec<(String, String)> = res
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
        .collect();
    check_answer(&h, 1);
    assert_eq!(one(&h, "x-switchyard-attempts"), "1");
    // The same over HTTP/1.1 through reqwest, for the streamed form too.
    let res = client()
        .post(gw.url("/v1/chat/completions"))
        .bearer_auth(KEY)
        .json(&json!({"model": "priced", "stream": true,
                      "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers();
    assert_eq!(h["content-type"], "text/event-stream");
    assert_eq!(h["cache-control"], "no-cache");
    assert_eq!(h["x-accel-buffering"], "no");
    assert_eq!(h["x-switchyard-deployment"], "mock/mock-1");
    assert_eq!(h["x-ratelimit-remaining-requests"], "98");
    assert_eq!(h.get_all("x-request-id").iter().count(), 1);
    assert!(res.text().await.unwrap().contains("[DONE]"));
    gw.shutdown().await;
}
