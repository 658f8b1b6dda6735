//! Usage limits through the whole gateway over sockets: a spend budget
//! under 200 concurrent calls, concurrency held by open streams, route and
//! model limits for everyone, config-file consumers' limits, and counts
//! that survive a reload.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::harness::{TestGateway, client};

const APP: &str = "sk-app-0123456789abcdef";
const BUDGETED: &str = "sk-bud-0123456789abcdef";

const CONFIG: &str = r#"
consumers:
  - name: app
    keys: [{ key: "sk-app-0123456789abcdef" }]
    limits: { concurrent_requests: 2 }
  - name: budgeted
    keys: [{ key: "sk-bud-0123456789abcdef" }]
    limits: { spend_per_day: "0.01" }
providers:
  - { name: mock, kind: mock }
  - { name: slow, kind: mock, mock: { chunk_delay: 400ms } }
models:
  - name: cheap
    deployments:
      - provider: mock
        model: mock-1
        input_price_per_million: "2.50"
        output_price_per_million: "10"
  - name: slow
    deployments: [{ provider: slow, model: slow-1 }]
  - name: capped
    limits: { requests_per_minute: 3 }
    deployments: [{ provider: mock, model: mock-1 }]
routes:
  - name: ai
    match: { path: { prefix: /v1 } }
    policies: { key_auth: {} }
    target: { ai: {} }
  - name: plain
    match: { path: { prefix: /plain } }
    limits: { requests_per_minute: 2 }
    target: { respond: { body: "ok" } }
"#;

fn chat(model: &str) -> Value {
    json!({"model": model, "max_tokens": 20,
           "messages": [{"role": "user", "content": "hello there"}]})
}

fn micros(usd: &str) -> u64 {
    let (whole, frac) = usd.split_once('.').unwrap();
    whole.parse::<u64>().unwrap() * 1_000_000 + frac.parse::<u64>().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_spend_budget_holds_under_200_concurrent_calls() {
    let gw = TestGateway::start(CONFIG).await;
    let c = client();
    let calls = (0..200).map(|_| {
        c.post(gw.url("/v1/chat/completions"))
            .bearer_auth(BUDGETED)
            .json(&chat("cheap"))
            .send()
    });
    let mut spent = 0u64;
    let mut served = 0;
    let mut refused = Vec::new();
    let mut one_call_max = 0u64;
    for res in join_all(calls).await {
        let res = res.unwrap();
        match res.status().as_u16() {
            200 => {
                let cost = micros(res.headers()["x-switchyard-cost-usd"].to_str().unwrap());
                one_call_max = one_call_max.max(cost);
                spent += cost;
                served += 1;
            }
            429 => refused.push(res.json::<Value>().await.unwrap()),
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(served > 0 && !refused.is_empty(), "{served} served");
    // Never past the budget by more than one call's cost (here: not at all,
    // as every call cost less than its estimate).
    assert!(spent <= 10_000 + one_call_max, "spent {spent} µ$");
    assert!(spent <= 10_000, "spent {spent} µ$");
    let error = &refused[0]["error"];
    assert_eq!(error["type"], "insufficient_quota");
    assert_eq!(error["code"], "insufficient_quota");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with("consumer \"budgeted\" spend per day limit of $0.01 "),
        "{message}"
    );
    assert!(message.contains("; resets at "), "{message}");
    gw.shutdown().await;
}

#[tokio::test]
async fn concurrency_is_held_while_streams_are_open() {
    let gw = TestGateway::start(CONFIG).await;
    let c = client();
    let mut stream = chat("slow");
    stream["stream"] = true.into();
    let mut open = Vec::new();
    for _ in 0..2 {
        let res = c
            .post(gw.url("/v1/chat/completions"))
            .bearer_auth(APP)
            .json(&stream)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        open.push(res);
    }
    let res = c
        .post(gw.url("/v1/chat/completions"))
        .bearer_auth(APP)
        .json(&chat("cheap"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "1");
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["error"]["type"], "requests");
    assert_eq!(v["error"]["code"], "rate_limit_exceeded");
    assert_eq!(
        v["error"]["message"],
        "consumer \"app\" concurrent requests limit of 2 reached: 2 in flight; a slot \
         frees when one of them ends"
    );
    // Anthropic's clients get Anthropic's error shape.
    let messages = json!({"model": "cheap", "max_tokens": 20,
                          "messages": [{"role": "user", "content": "hi"}]});
    let res = c
        .post(gw.url("/v1/messages"))
        .header("x-api-key", APP)
        .json(&messages)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "rate_limit_error");
    // The streams end; their slots free when the server's bodies end.
    for res in open {
        let text = res.text().await.unwrap();
        assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    }
    let freed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let res = c
                .post(gw.url("/v1/chat/completions"))
                .bearer_auth(APP)
                .json(&chat("cheap"))
                .send()
                .await
                .unwrap();
            if res.status() == 200 {
                return;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(freed.is_ok(), "the slots never freed");
    gw.shutdown().await;
}

#[tokio::test]
async fn route_and_model_limits_apply_to_everyone_and_survive_reloads() {
    let gw = TestGateway::start(CONFIG).await;
    let c = client();
    // The route: two requests per minute, whoever sends them.
    let first = c.get(gw.url("/plain")).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["x-ratelimit-limit-requests"], "2");
    assert_eq!(first.headers()["x-ratelimit-remaining-requests"], "1");
    let reset = first.headers()["x-ratelimit-reset-requests"]
        .to_str()
        .unwrap();
    assert!(reset.ends_with('s'), "{reset}");
    assert_eq!(c.get(gw.url("/plain")).send().await.unwrap().status(), 200);
    let res = c.get(gw.url("/plain")).send().await.unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(res.headers()["x-ratelimit-remaining-requests"], "0");
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["error"]["code"], "rate_limit_exceeded");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("route \"plain\" requests per minute limit of 2 reached: 2 used"),
        "{v}"
    );
    // The model: three calls per minute across both consumers.
    for key in [APP, BUDGETED, APP] {
        let res = c
            .post(gw.url("/v1/chat/completions"))
            .bearer_auth(key)
            .json(&chat("capped"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let res = c
        .post(gw.url("/v1/chat/completions"))
        .bearer_auth(BUDGETED)
        .json(&chat("capped"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["x-ratelimit-remaining-requests"], "0");
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["error"]["type"], "requests");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("model \"capped\" requests per minute limit of 3 reached"),
        "{v}"
    );
    // A reload keeps the counts.
    gw.rewrite(&format!("{CONFIG}\n# reloaded\n")).unwrap();
    assert_eq!(c.get(gw.url("/plain")).send().await.unwrap().status(), 429);
    gw.shutdown().await;
}

/// Day usage survives a restart: what one process spent, the next one on
/// the same store still counts (saved at shutdown, restored at start).
#[tokio::test]
async fn day_usage_survives_a_restart() {
    const DAY: &str = r#"
consumers:
  - name: daily
    keys: [{ key: "sk-day-0123456789abcdef" }]
    limits: { tokens_per_day: 100000 }
providers:
  - { name: mock, kind: mock }
models:
  - name: cheap
    deployments: [{ provider: mock, model: mock-1 }]
routes:
  - name: ai
    match: { path: { prefix: /v1 } }
    policies: { key_auth: {} }
    target: { ai: {} }
"#;
    let dir = tempfile::tempdir().unwrap();
    let config = format!("store: sqlite://{}/store.db\n{DAY}", dir.path().display());
    let remaining = |gw: &TestGateway| {
        let url = gw.url("/v1/chat/completions");
        async move {
            let res = client()
                .post(url)
                .bearer_auth("sk-day-0123456789abcdef")
                .json(&chat("cheap"))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            res.headers()["x-ratelimit-remaining-tokens"]
                .to_str()
                .unwrap()
                .parse::<u64>()
                .unwrap()
        }
    };
    let first = TestGateway::start(&config).await;
    let after_one = remaining(&first).await;
    let after_two = remaining(&first).await;
    let per_call = after_one - after_two;
    assert!(per_call > 0);
    first.shutdown().await;

    let second = TestGateway::start(&config).await;
    let after_three = remaining(&second).await;
    // Continues from the first process' count (an empty ledger would be
    // back at `after_one`).
    assert!(
        after_three < after_two,
        "restarted at {after_three}, expected below {after_two}"
    );
    second.shutdown().await;
}
