//! The AI endpoint through the whole gateway: key auth in front, the call's
//! model, tokens and cost in the access log, for whole and streamed answers.

use crate::harness::{TestGateway, client};

const CONFIG: &str = r#"
consumers:
  - name: app
    keys: [{ key: "sk-test-0123456789abcdef" }]
providers:
  - { name: mock, kind: mock }
models:
  - name: cheap
    deployments:
      - provider: mock
        model: mock-1
        input_price_per_million: "2.50"
        output_price_per_million: "10"
routes:
  - name: ai
    match: { path: { prefix: /v1 } }
    policies: { key_auth: {} }
    target: { ai: {} }
"#;

#[tokio::test]
async fn ai_calls_are_authenticated_and_logged_with_tokens_and_cost() {
    let gw = TestGateway::start(CONFIG).await;
    let c = client();
    let body = serde_json::json!({"model": "cheap", "messages": [{"role": "user", "content": "hello there"}]});

    let res = c
        .post(gw.url("/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "no key, no call");

    let res = c
        .post(gw.url("/v1/chat/completions"))
        .bearer_auth("sk-test-0123456789abcdef")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cost_header = res.headers()["x-switchyard-cost-usd"]
        .to_str()
        .unwrap()
        .to_string();
    let v: serde_json::Value = res.json().await.unwrap();
    let prompt = v["usage"]["prompt_tokens"].as_u64().unwrap();
    let completion = v["usage"]["completion_tokens"].as_u64().unwrap();

    let mut stream_body = body.clone();
    stream_body["stream"] = true.into();
    let res = c
        .post(gw.url("/v1/chat/completions"))
        .header("x-api-key", "sk-test-0123456789abcdef")
        .json(&stream_body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");

    let lines = gw.log_lines(3).await;
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["status"], 401);
    assert!(lines[0].get("ai").is_none());
    for (i, line) in lines[1..].iter().enumerate() {
        let ai = &line["ai"];
        assert_eq!(line["consumer"], "app", "line {i}: {line}");
        assert_eq!(ai["model"], "cheap", "line {i}: {line}");
        assert_eq!(ai["deployment"], "mock/mock-1");
        assert_eq!(ai["prompt_tokens"], prompt, "line {i}: {line}");
        assert_eq!(ai["completion_tokens"], completion, "line {i}: {line}");
        assert_eq!(
            (&ai["cached_tokens"], &ai["cache_write_tokens"]),
            (&serde_json::json!(0), &serde_json::json!(0)),
            "line {i}: {line}"
        );
        assert_eq!(ai["estimated"], false);
        assert_eq!(ai["cost_usd"], cost_header.as_str(), "line {i}: {line}");
    }
    // Cost = prompt × $2.50/M + completion × $10/M, rounded up to the micro-dollar.
    let micros =
        (prompt * 2_500_000).div_ceil(1_000_000) + (completion * 10_000_000).div_ceil(1_000_000);
    assert_eq!(cost_header, format!("0.{micros:06}"));
    gw.shutdown().await;
}
