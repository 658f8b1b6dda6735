//! The mock's latency and chunk delay, under paused time.

use http::Method;
use http_body_util::BodyExt;
use serde_json::json;
use tokio::time::{Duration, Instant};

use crate::support::*;

/// "hi" → 7 words: role + 7 + finish + usage = 10 chunks.
const CHUNKS: u32 = 10;

#[tokio::test(start_paused = true)]
async fn non_stream_takes_latency_plus_generation() {
    let gw = gateway();
    let start = Instant::now();
    let (status, _, _) = chat(&gw, json!({"model": "slow-1", "messages": user("hi")})).await;
    assert!(status.is_success());
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(2) + Duration::from_millis(100) * (CHUNKS - 1)
    );
}

#[tokio::test(start_paused = true)]
async fn stream_waits_latency_then_paces_chunks() {
    let gw = gateway();
    let body = json!({"model": "slow-1", "messages": user("hi"), "stream": true,
                      "stream_options": {"include_usage": true}});
    let start = Instant::now();
    let response = gw
        .handle(
            sy_ai::Caller::new(&[], None),
            &parts(Method::POST, "/v1/chat/completions"),
            body.to_string().into(),
            REQUEST_ID,
        )
        .await;
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(2),
        "headers after the latency"
    );
    let mut body = response.into_body();
    let mut arrivals = Vec::new();
    while let Some(frame) = body.frame().await {
        frame.unwrap();
        arrivals.push(start.elapsed());
    }
    let mut expected: Vec<Duration> = (0..CHUNKS)
        .map(|i| Duration::from_secs(2) + Duration::from_millis(100) * i)
        .collect();
    // [DONE] follows the last chunk at once.
    expected.push(*expected.last().unwrap());
    assert_eq!(arrivals, expected);
}

#[tokio::test(start_paused = true)]
async fn default_mock_answers_at_once() {
    let gw = gateway();
    let start = Instant::now();
    chat(&gw, json!({"model": "mock-1", "messages": user("hi")})).await;
    assert_eq!(start.elapsed(), Duration::ZERO);
}
