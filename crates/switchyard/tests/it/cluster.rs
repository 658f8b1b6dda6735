//! Two gateways with the same `cluster` section share their limits through
//! the real Redis (127.0.0.1:6379, or `SY_TEST_REDIS_URL`; the test fails
//! when it is unreachable unless `SY_SKIP_REDIS=1`): requests spread over
//! both are refused once the shared limit is reached.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{TestGateway, client};

fn redis_url() -> String {
    std::env::var("SY_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".to_owned())
}

/// A connection to the test Redis; `None` when `SY_SKIP_REDIS=1`.
fn redis() -> Option<redis::Client> {
    if std::env::var("SY_SKIP_REDIS").is_ok_and(|v| v == "1") {
        return None;
    }
    let url = redis_url();
    let client = redis::Client::open(url.as_str()).unwrap();
    if let Err(e) = client
        .get_connection_with_timeout(Duration::from_secs(2))
        .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
    {
        panic!(
            "Redis is not reachable at {url} ({e}): scripts/test starts one; \
             SY_TEST_REDIS_URL names another, SY_SKIP_REDIS=1 skips this test"
        );
    }
    Some(client)
}

fn config(prefix: &str) -> String {
    format!(
        r#"
store: null
cluster:
  redis: "{url}"
  prefix: "{prefix}"
  timeout: 2s
providers:
  - {{ name: mock, kind: mock }}
models:
  - name: cheap
    limits: {{ spend_per_day: "0.001" }}
    deployments:
      - provider: mock
        model: mock-1
        input_price_per_million: "2.50"
        output_price_per_million: "10"
routes:
  - name: ai
    match: {{ path: {{ prefix: /v1 }} }}
    target: {{ ai: {{}} }}
  - name: plain
    match: {{ path: {{ prefix: /plain }} }}
    limits: {{ requests_per_minute: 5 }}
    target: {{ respond: {{ body: "ok" }} }}
  - name: bucket
    match: {{ path: {{ prefix: /bucket }} }}
    policies: {{ rate_limits: [{{ requests: 3, per: 1h }}] }}
    target: {{ respond: {{ body: "ok" }} }}
"#,
        url = redis_url()
    )
}

fn micros(usd: &str) -> u64 {
    let (whole, frac) = usd.split_once('.').unwrap();
    let frac = format!("{frac:0<6}");
    whole.parse::<u64>().unwrap() * 1_000_000 + frac[..6].parse::<u64>().unwrap()
}

#[tokio::test]
async fn two_gateways_share_rate_limits_request_limits_and_budgets() {
    let Some(redis) = redis() else {
        return;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let prefix = format!("sytest:e2e:{nanos:x}");
    let gateways = [
        TestGateway::start(&config(&prefix)).await,
        TestGateway::start(&config(&prefix)).await,
    ];
    let c = client();
    let mut conn = redis.get_multiplexed_async_connection().await.unwrap();

    // The token bucket (`rate_limits`, RedisLimiter): three in all.
    for i in 0..3 {
        let res = c.get(gateways[i % 2].url("/bucket")).send().await.unwrap();
        assert_eq!(res.status(), 200, "request {i}");
    }
    for gw in &gateways {
        let res = c.get(gw.url("/bucket")).send().await.unwrap();
        assert_eq!(res.status(), 429, "the bucket is shared");
        assert!(res.headers().contains_key("retry-after"));
    }

    // The route's requests per minute (RedisLedger): five in all. Started
    // at least 3 s before the minute ends on Redis's clock, so the window
    // cannot roll over in between.
    let waited = tokio::time::Instant::now();
    loop {
        let (s, _): (u64, u64) = redis::cmd("TIME").query_async(&mut conn).await.unwrap();
        if s % 60 < 57 {
            break;
        }
        assert!(waited.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for i in 0..5 {
        let res = c.get(gateways[i % 2].url("/plain")).send().await.unwrap();
        assert_eq!(res.status(), 200, "request {i}");
        let remaining = res.headers()["x-ratelimit-remaining-requests"]
            .to_str()
            .unwrap();
        assert_eq!(
            remaining,
            (4 - i).to_string(),
            "counted across both gateways"
        );
    }
    for gw in &gateways {
        let res = c.get(gw.url("/plain")).send().await.unwrap();
        assert_eq!(res.status(), 429);
        let v: Value = res.json().await.unwrap();
        let message = v["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("route \"plain\" requests per minute limit of 5 reached: 5 used"),
            "{message}"
        );
    }

    // The model's spend per day: calls alternate between the gateways until
    // the shared budget refuses them, on both.
    let chat = json!({"model": "cheap", "max_tokens": 20,
                      "messages": [{"role": "user", "content": "hello there"}]});
    let (mut spent, mut served) = (0u64, 0usize);
    loop {
        assert!(served < 100, "the budget never ran out");
        let res = c
            .post(gateways[served % 2].url("/v1/chat/completions"))
            .json(&chat)
            .send()
            .await
            .unwrap();
        match res.status().as_u16() {
            200 => {
                spent += micros(res.headers()["x-switchyard-cost-usd"].to_str().unwrap());
                served += 1;
            }
            429 => break,
            other => panic!("unexpected status {other}: {}", res.text().await.unwrap()),
        }
    }
    assert!(
        served >= 2,
        "both gateways served from the budget: {served}"
    );
    assert!(spent <= 1000, "spent {spent} µ$ of a 1000 µ$ budget");
    for gw in &gateways {
        let res = c
            .post(gw.url("/v1/chat/completions"))
            .json(&chat)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 429);
        let v: Value = res.json().await.unwrap();
        let message = v["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("model \"cheap\" spend per day limit of $0.001 "),
            "{message}"
        );
    }

    // Everything reached Redis: no failed call, nothing waiting to be resent.
    let metrics = gateways[0].metrics().await;
    assert!(
        metrics.contains("switchyard_cluster_redis_errors_total 0\n")
            && metrics.contains("switchyard_cluster_unsent_settlements 0\n"),
        "{metrics}"
    );

    for gw in gateways {
        gw.shutdown().await;
    }
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(!keys.is_empty(), "the limits lived in Redis");
    let _: u64 = redis::cmd("DEL")
        .arg(&keys)
        .query_async(&mut conn)
        .await
        .unwrap();
}

/// The value of an unlabelled metric.
fn metric(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn redis_failures_are_refused_with_deny_and_counted_in_metrics() {
    // Needs no Redis: the cluster points at a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let yaml = format!(
        r#"
store: null
cluster: {{ redis: "redis://127.0.0.1:{port}/0", timeout: 200ms, on_error: deny }}
routes:
  - name: bucket
    match: {{ path: {{ prefix: /bucket }} }}
    policies: {{ rate_limits: [{{ requests: 3, per: 1h }}] }}
    target: {{ respond: {{ body: "ok" }} }}
"#
    );
    let gw = TestGateway::start(&yaml).await;
    let res = client().get(gw.url("/bucket")).send().await.unwrap();
    assert_eq!(res.status(), 429, "deny: refused when Redis cannot decide");
    let text = gw.metrics().await;
    let errors = metric(&text, "switchyard_cluster_redis_errors_total");
    assert!(errors.is_some_and(|n| n >= 1), "{text}");
    assert_eq!(
        metric(&text, "switchyard_cluster_unsent_settlements"),
        Some(0),
        "{text}"
    );
    gw.shutdown().await;

    // A single node has no cluster metrics.
    let local = TestGateway::start("store: null\n").await;
    let text = local.metrics().await;
    assert!(!text.contains("switchyard_cluster_"), "{text}");
    local.shutdown().await;
}
