//! Token counts, cost and the context window on the chat endpoint.

use http::StatusCode;
use serde_json::json;
use sy_ai::{AiCallInfo, AiGateway};

use crate::support::*;

/// The defaults plus `priced-1` (mock, $2.50 in / $10 out / $1.25 cached
/// per million) and `small-1` (mock, 20-token context window).
fn priced_gateway() -> AiGateway {
    let mut spec = sy_config::defaults().expect("defaults load");
    let models = json!([
        {"name": "priced-1", "deployments": [{"provider": "mock", "model": "mock-priced",
            "input_price_per_million": "2.50", "output_price_per_million": 10,
            "cached_input_price_per_million": 1.25}]},
        {"name": "small-1", "deployments": [{"provider": "mock", "model": "mock-small",
            "context_window": 20}]}
    ]);
    spec.models
        .extend(serde_json::from_value::<Vec<sy_config::ModelSpec>>(models).unwrap());
    AiGateway::compile(&spec).expect("gateway compiles")
}

#[tokio::test]
async fn cost_header_and_call_info_on_a_priced_deployment() {
    let gw = priced_gateway();
    let response = merged(
        gw.handle(
            sy_ai::Caller::new(&[], None),
            &parts(http::Method::POST, "/v1/chat/completions"),
            json!({"model": "priced-1", "messages": user("Hello there")})
                .to_string()
                .into(),
            REQUEST_ID,
        )
        .await,
    );
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(header(headers, "x-switchyard-prompt-tokens"), Some("9"));
    assert_eq!(header(headers, "x-switchyard-completion-tokens"), Some("9"));
    // 9 × $2.50/M = 22.5 → 23 µ$; 9 × $10/M = 90 µ$.
    assert_eq!(header(headers, "x-switchyard-cost-usd"), Some("0.000113"));
    let info = response.extensions().get::<AiCallInfo>().unwrap();
    assert_eq!(info.cost.get().map(|m| m.micros()), Some(113));
    assert_eq!(info.usage.get().map(|u| u.total()), Some(18));
}

#[tokio::test]
async fn streams_record_cost_in_call_info() {
    let gw = priced_gateway();
    let response = merged(
        gw.handle(
            sy_ai::Caller::new(&[], None),
            &parts(http::Method::POST, "/v1/chat/completions"),
            json!({"model": "priced-1", "messages": user("Hello there"), "stream": true})
                .to_string()
                .into(),
            REQUEST_ID,
        )
        .await,
    );
    assert_eq!(header(response.headers(), "x-switchyard-cost-usd"), None);
    let info = response.extensions().get::<AiCallInfo>().unwrap().clone();
    let _ = http_body_util::BodyExt::collect(response.into_body()).await;
    let usage = info.usage.get().copied().unwrap();
    assert!(!usage.estimated, "the mock's usage chunk passed");
    assert_eq!(info.cost.get().map(|m| m.micros()), Some(113));
}

#[tokio::test]
async fn cut_stream_settles_an_estimate() {
    let gw = priced_gateway();
    let response = merged(
        gw.handle(
            sy_ai::Caller::new(&[], None),
            &parts(http::Method::POST, "/v1/chat/completions"),
            json!({"model": "priced-1", "messages": user("Hello there"), "stream": true})
                .to_string()
                .into(),
            REQUEST_ID,
        )
        .await,
    );
    let info = response.extensions().get::<AiCallInfo>().unwrap().clone();
    let mut body = response.into_body();
    // Read the role chunk and one word, then hang up.
    for _ in 0..2 {
        let _ = http_body_util::BodyExt::frame(&mut body).await;
    }
    drop(body);
    let usage = info.usage.get().copied().unwrap();
    assert!(usage.estimated);
    assert_eq!(
        (usage.prompt, usage.completion),
        (9, 1),
        "\"This\" received"
    );
    // 23 µ$ prompt + 10 µ$ for one output token.
    assert_eq!(info.cost.get().map(|m| m.micros()), Some(33));
}

#[tokio::test]
async fn context_window_overflow_is_a_400() {
    let gw = priced_gateway();
    // Prompt 9 + max_tokens 12 = 21 > 20.
    let (status, _, body) = chat(
        &gw,
        json!({"model": "small-1", "messages": user("Hello there"), "max_tokens": 12}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        json_of(&body),
        json!({"error": {
            "message": "This model's maximum context length is 20 tokens. However, you requested 21 tokens (9 in the messages, 12 in the completion). Please reduce the length of the messages or completion.",
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded"
        }})
    );
    // Prompt 9 + max_tokens 11 = 20 fits.
    let (status, _, _) = chat(
        &gw,
        json!({"model": "small-1", "messages": user("Hello there"), "max_tokens": 11}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}
