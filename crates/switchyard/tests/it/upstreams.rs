//! Upstream pools through the whole gateway: balancing, health checks,
//! circuit breaking, timeouts, retries and their budget, hot reload.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sy_testkit::{MockHandle, MockOptions, MockUpstream};

use crate::harness::{TestGateway, client, error_json};

async fn mocks(names: &[&str]) -> Vec<MockHandle> {
    let mut out = Vec::new();
    for n in names {
        out.push(MockUpstream::start(MockOptions::named(*n)).await.unwrap());
    }
    out
}

fn targets(ms: &[MockHandle], weights: &[u32]) -> String {
    ms.iter()
        .zip(weights)
        .map(|(m, w)| format!("{{ url: \"{}\", weight: {w} }}", m.url()))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn who(c: &reqwest::Client, url: &str) -> String {
    let res = c.get(url).send().await.unwrap();
    assert_eq!(res.status(), 200, "{url}");
    res.headers()["x-upstream"].to_str().unwrap().to_string()
}

async fn tally(c: &reqwest::Client, url: &str, n: usize) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for _ in 0..n {
        *m.entry(who(c, url).await).or_default() += 1;
    }
    m
}

#[tokio::test]
async fn balancing_algorithms_distribute_as_specified() {
    let ms = mocks(&["a", "b", "c"]).await;
    let yaml = |balance: &str, extra: &str| {
        format!(
            r#"
upstreams:
  - name: p
    balance: {balance}
    {extra}
    targets: [{}]
routes:
  - {{ name: r, match: {{ path: {{ prefix: / }} }}, target: {{ upstream: p }} }}
"#,
            targets(&ms, &[3, 1, 0])
        )
    };
    let c = client();

    // Round robin ignores weights but skips drained (weight 0) targets.
    let gw = TestGateway::start(&yaml("round_robin", "")).await;
    let seq: Vec<String> = futures_seq(&c, &gw.url("/"), 6).await;
    assert_eq!(seq.iter().filter(|s| *s == "a").count(), 3);
    assert_eq!(seq.iter().filter(|s| *s == "b").count(), 3);
    assert!(
        seq.windows(2).all(|w| w[0] != w[1]),
        "strict alternation: {seq:?}"
    );
    gw.shutdown().await;

    // Weighted: exactly 3:1 over whole cycles.
    let gw = TestGateway::start(&yaml("weighted", "")).await;
    let t = tally(&c, &gw.url("/"), 400).await;
    assert_eq!(t.get("a"), Some(&300), "{t:?}");
    assert_eq!(t.get("b"), Some(&100), "{t:?}");
    assert_eq!(t.get("c"), None);
    gw.shutdown().await;

    // Consistent hash on a header: each key sticks to one target.
    let gw = TestGateway::start(&yaml("consistent_hash", "hash_on: { header: x-user }")).await;
    let mut seen = HashMap::new();
    for round in 0..3 {
        for user in 0..40 {
            let res = c
                .get(gw.url("/"))
                .header("x-user", format!("user-{user}"))
                .send()
                .await
                .unwrap();
            let t = res.headers()["x-upstream"].to_str().unwrap().to_string();
            let prev = seen.entry(user).or_insert_with(|| t.clone());
            assert_eq!(*prev, t, "user-{user} moved in round {round}");
        }
    }
    let used: std::collections::HashSet<_> = seen.values().collect();
    assert_eq!(
        used.len(),
        2,
        "keys spread over both weighted targets: {used:?}"
    );
    gw.shutdown().await;
}

async fn futures_seq(c: &reqwest::Client, url: &str, n: usize) -> Vec<String> {
    let mut v = Vec::new();
    for _ in 0..n {
        v.push(who(c, url).await);
    }
    v
}

#[tokio::test]
async fn least_connections_avoids_busy_target() {
    let ms = mocks(&["a", "b"]).await;
    let gw = TestGateway::start(&format!(
        r#"
upstreams:
  - {{ name: p, balance: least_connections, targets: [{}] }}
routes:
  - {{ name: r, match: {{ path: {{ prefix: / }} }}, target: {{ upstream: p }} }}
"#,
        targets(&ms, &[1, 1])
    ))
    .await;
    let c = client();
    // Hold four slow requests; least-connections spreads them 2/2.
    let mut slow = Vec::new();
    for _ in 0..4 {
        let c = c.clone();
        let url = gw.url("/delay/1500");
        slow.push(tokio::spawn(async move {
            c.get(url).send().await.unwrap().headers()["x-upstream"]
                .to_str()
                .unwrap()
                .to_string()
        }));
        // Let each one reach its target before the next is balanced.
        wait_until(|| ms[0].requests() + ms[1].requests() >= slow.len() as u64).await;
    }
    assert_eq!(ms[0].requests(), 2);
    assert_eq!(ms[1].requests(), 2);
    for s in slow {
        s.await.unwrap();
    }
    gw.shutdown().await;
}

async fn wait_until(mut cond: impl FnMut() -> bool) {
    for _ in 0..500 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not met in 5 s");
}

#[tokio::test]
async fn active_health_checks_eject_and_restore() {
    let ms = mocks(&["a", "b"]).await;
    let gw = TestGateway::start(&format!(
        r#"
upstreams:
  - name: p
    balance: round_robin
    targets: [{}]
    health_check:
      active: {{ path: /health, interval: 50ms, timeout: 1s, healthy_threshold: 2, unhealthy_threshold: 2 }}
routes:
  - {{ name: r, match: {{ path: {{ prefix: / }} }}, target: {{ upstream: p }} }}
"#,
        targets(&ms, &[1, 1])
    ))
    .await;
    let c = client();
    ms[1].set_healthy(false);
    let metrics_url = format!("{}/metrics", gw.admin);
    // Within a few intervals b is out: every request lands on a.
    let mut ok = false;
    for _ in 0..100 {
        let t = tally(&c, &gw.url("/"), 4).await;
        if t.get("a") == Some(&4) {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "b was never ejected");
    let m = c
        .get(&metrics_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = format!(
        r#"switchyard_upstream_healthy{{upstream="p",target="{}"}} 0"#,
        ms[1].url()
    );
    assert!(m.contains(&line), "expected {line} in\n{m}");
    ms[1].set_healthy(true);
    let mut back = false;
    for _ in 0..100 {
        if tally(&c, &gw.url("/"), 4).await.contains_key("b") {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(back, "b never came back");
    gw.shutdown().await;
}

#[tokio::test]
async fn passive_ejection_and_retry_on_connect_error() {
    let ms = mocks(&["a", "b"]).await;
    let mut ms = ms.into_iter();
    let a = ms.next().unwrap();
    let b = ms.next().unwrap();
    let b_url = b.url();
    let gw = TestGateway::start(&format!(
        r#"
upstreams:
  - name: p
    balance: round_robin
    targets: [{{ url: "{}" }}, {{ url: "{}" }}]
    health_check:
      passive: {{ consecutive_failures: 2, ejection_time: 30s }}
    retries: {{ attempts: 1, backoff_base: 1ms, backoff_max: 2ms }}
routes:
  - {{ name: r, match: {{ path: {{ prefix: / }} }}, target: {{ upstream: p }} }}
"#,
        a.url(),
        b_url
    ))
    .await;
    b.shutdown().await;
    let c = client();
    // Connection refused on b is retried on a: every request succeeds.
    for _ in 0..10 {
        assert_eq!(who(&c, &gw.url("/")).await, "a");
    }
    let lines = gw.log_lines(10).await;
    let retried = lines.iter().filter(|l| l["attempts"] == 2).count();
    // b failed twice, then was ejected: at most two requests needed a retry.
    assert!(
        (1..=2).contains(&retried),
        "retried {retried} times: {lines:?}"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn circuit_breaker_opens_then_503_names_the_state() {
    let ms = mocks(&["a"]).await;
    let gw = TestGateway::start(&format!(
        r#"
upstreams:
  - name: p
    targets: [{}]
    circuit_breaker: {{ failure_threshold: 3, open_for: 60s, half_open_requests: 1 }}
routes:
  - {{ name: r, match: {{ path: {{ prefix: / }} }}, target: {{ upstream: p }} }}
"#,
        targets(&ms, &[1])
    ))
    .await;
    let c = client();
    for _ in 0..3 {
        let res = c.get(gw.url("/status/500")).send().await.unwrap();
        assert_eq!(res.status(), 500, "the upstream's own 500 passes through");
    }
    let res = c.get(gw.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    let v = error_json(res).await;
    assert_eq!(v["error"]["code"], "circuit_open");
    assert_eq!(
        v["error"]["message"],
        "circuit open for every target in upstream p"
    );
    assert_eq!(
        ms[0].requests(),
        3,
        "an open circuit sends nothing upstream"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn timeouts_and_upstream_errors_say_what_failed() {
    let ms = mocks(&["a"]).await;
    // A port with nothing listening: bind, read the port, drop.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let gw = TestGateway::start(&format!(
        r#"
upstreams:
  - name: slow
    targets: [{}]
    timeouts: {{ response_header: 300ms, idle: 300ms }}
  - name: dead
    targets: [{{ url: "http://{dead}" }}]
routes:
  - {{ name: slow, match: {{ path: {{ prefix: / }} }}, target: {{ upstream: slow }} }}
  - {{ name: dead, match: {{ path: {{ prefix: /dead }} }}, target: {{ upstream: dead }} }}
"#,
        targets(&ms, &[1])
    ))
    .await;
    let c = client();
    let res = c.get(gw.url("/hang")).send().await.unwrap();
    assert_eq!(res.status(), 504);
    let v = error_json(res).await;
    assert_eq!(v["error"]["code"], "upstream_response_timeout");
    assert_eq!(v["error"]["type"], "timeout_error");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("upstream slow") && msg.contains("response_header timeout after 300 ms"),
        "{msg}"
    );

    let res = c.get(gw.url("/dead")).send().await.unwrap();
    assert_eq!(res.status(), 502);
    let v = error_json(res).await;
    assert_eq!(v["error"]["code"], "upstream_error");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!("upstream dead target {dead}")) && msg.contains("connect failed"),
        "{msg}"
    );

    // Idle timeout between body chunks cuts the stream (headers already sent).
    let res = c
        .get(gw.url("/stream?chunks=3&interval_ms=2000"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let err = res.bytes().await;
    assert!(err.is_err(), "the body must be cut by the idle timeout");
    gw.shutdown().await;
}

#[tokio::test]
async fn retries_respect_status_idempotency_and_budget() {
    let ms = mocks(&["bad", "good"]).await;
    ms[0].set_fail(Some(503));
    let gw = TestGateway::start(&format!(
        r#"
upstreams:
  - name: p
    balance: round_robin
    targets: [{}]
    retries: {{ attempts: 1, on_statuses: [503], backoff_base: 1ms, backoff_max: 2ms, budget_ratio: 0.0, budget_min_per_sec: 1000 }}
  - name: stingy
    balance: round_robin
    targets: [{}]
    retries: {{ attempts: 1, on_statuses: [503], backoff_base: 1ms, backoff_max: 2ms, budget_ratio: 0.0, budget_min_per_sec: 1 }}
routes:
  - {{ name: r, match: {{ path: {{ prefix: / }} }}, target: {{ upstream: p }} }}
  - {{ name: s, match: {{ path: {{ prefix: /stingy }} }}, rewrite: {{ strip_prefix: /stingy }}, target: {{ upstream: stingy }} }}
"#,
        targets(&ms, &[1, 1]),
        targets(&ms, &[1, 1])
    ))
    .await;
    let c = client();
    // GET: a 503 from `bad` is retried on `good`.
    for _ in 0..6 {
        assert_eq!(who(&c, &gw.url("/")).await, "good");
    }
    // POST is not idempotent: the 503 reaches the client as is.
    let mut saw_503 = false;
    for _ in 0..4 {
        let res = c.post(gw.url("/")).body("x").send().await.unwrap();
        if res.status() == 503 {
            assert_eq!(res.headers()["x-upstream"], "bad");
            saw_503 = true;
        }
    }
    assert!(saw_503, "round robin must have sent a POST to bad");
    // A budget of one retry per second (a reserve of ten over its 10 s
    // window): a burst of 60 requests, half of them to `bad`, gets at most
    // about ten retries, so most of the 30 failures reach the client.
    let mut failures = 0;
    for _ in 0..60 {
        let res = c.get(gw.url("/stingy/")).send().await.unwrap();
        if res.status() == 503 {
            failures += 1;
        }
    }
    assert!(
        failures >= 15,
        "budget should stop most retries, got {failures} failures of 60"
    );
    let m = gw.metrics().await;
    assert!(
        m.contains(r#"switchyard_retry_budget_exhausted_total{upstream="stingy"}"#),
        "{m}"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn streaming_passes_chunks_as_they_arrive() {
    let ms = mocks(&["a"]).await;
    let gw = TestGateway::start(&format!(
        r#"
upstreams: [{{ name: p, targets: [{}] }}]
routes:
  - {{ name: r, match: {{ path: {{ prefix: / }} }}, target: {{ upstream: p }} }}
"#,
        targets(&ms, &[1])
    ))
    .await;
    let mut res = client()
        .get(gw.url("/stream?chunks=4&interval_ms=200"))
        .send()
        .await
        .unwrap();
    let start = tokio::time::Instant::now();
    let mut arrivals = Vec::new();
    let mut body = String::new();
    while let Some(chunk) = res.chunk().await.unwrap() {
        arrivals.push(start.elapsed());
        body.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert_eq!(body, "chunk 0\nchunk 1\nchunk 2\nchunk 3\n");
    // The first chunk must not wait for the rest (which take 600 ms upstream).
    assert!(arrivals.len() >= 3, "chunks were coalesced: {arrivals:?}");
    assert!(
        arrivals[0] < Duration::from_millis(400),
        "first chunk held back: {arrivals:?}"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn hot_reload_under_load_fails_no_request() {
    let ms = mocks(&["one", "two"]).await;
    let cfg = |name: &str, url: &str| {
        format!(
            r#"
upstreams: [{{ name: p, targets: [{{ url: "{url}" }}] }}]
routes:
  - {{ name: {name}, match: {{ path: {{ prefix: / }} }}, target: {{ upstream: p }} }}
"#
        )
    };
    let gw = Arc::new(TestGateway::start(&cfg("r1", &ms[0].url())).await);
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..8 {
        let (gw, ok, failed, stop) = (gw.clone(), ok.clone(), failed.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let c = client();
            while !stop.load(Ordering::Relaxed) {
                match c.get(gw.url("/")).send().await {
                    Ok(r) if r.status() == 200 => ok.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    for i in 0..10 {
        let (name, url) = if i % 2 == 0 {
            ("r2", ms[1].url())
        } else {
            ("r1", ms[0].url())
        };
        let generation = gw.rewrite(&cfg(name, &url)).unwrap();
        assert_eq!(generation, 2 + i);
        // A broken config is rejected and the current one keeps serving.
        assert!(
            gw.rewrite("routes: [{ name: x, target: { upstream: missing } }]")
                .is_err()
        );
        std::fs::write(
            &gw.config_path,
            crate::harness::with_defaults(&cfg(name, &url)),
        )
        .unwrap();
        // Let traffic flow on this generation before the next swap.
        let seen = ok.load(Ordering::Relaxed);
        wait_until(|| ok.load(Ordering::Relaxed) >= seen + 20).await;
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "requests failed during reloads"
    );
    assert!(ok.load(Ordering::Relaxed) > 50);
    assert!(
        ms[0].requests() > 0 && ms[1].requests() > 0,
        "both generations served"
    );
    let gw = Arc::into_inner(gw).unwrap();
    gw.shutdown().await;
}
