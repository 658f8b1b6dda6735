//! Token, spend and model limits: reserved before the provider call,
//! settled to the usage after, refused with a 429 in the client's dialect,
//! reported in OpenAI's `x-ratelimit-*` headers.

use std::sync::Arc;

use http::{Method, StatusCode};
use serde_json::json;
use sy_ai::{AiCallInfo, AiGateway};
use sy_config::{LimitsSpec, Usd};
use sy_policy::{Consumer, Grants, LimitScope, RequestContext, ScopedLimits};
use sy_state::{CounterId, LocalLedger, Measure, QuotaLedger, Scope};

use crate::support::*;

/// The defaults plus `budget-1` (priced like `priced-1` in `cost.rs`: 9
/// prompt and 9 completion tokens of "Hello there" cost 113 µ$) with
/// `limits`, and `down-1` (a closed port) with the same limits.
fn limited(limits: serde_json::Value) -> (AiGateway, Arc<LocalLedger>) {
    let mut spec = sy_config::defaults().expect("defaults load");
    let providers = json!([
        {"name": "oai", "kind": "openai", "api_key": "sk-test", "base_url": "http://127.0.0.1:1/v1"}
    ]);
    let models = json!([
        {"name": "budget-1", "limits": limits, "deployments": [{"provider": "mock",
            "model": "mock-priced", "input_price_per_million": "2.50",
            "output_price_per_million": 10}]},
        {"name": "down-1", "limits": limits, "deployments": [{"provider": "oai", "model": "gpt-4o"}]}
    ]);
    spec.providers
        .extend(serde_json::from_value::<Vec<sy_config::ProviderSpec>>(providers).unwrap());
    spec.models
        .extend(serde_json::from_value::<Vec<sy_config::ModelSpec>>(models).unwrap());
    let ledger = Arc::new(LocalLedger::new());
    let gw = AiGateway::compile(&spec)
        .expect("gateway compiles")
        .with_ledger(ledger.clone());
    (gw, ledger)
}

fn counter(scope: Scope, entity: &str, measure: Measure) -> CounterId {
    CounterId {
        scope,
        entity: Arc::from(entity),
        measure,
    }
}

fn ask(max_tokens: u64) -> serde_json::Value {
    json!({"model": "budget-1", "messages": user("Hello there"), "max_tokens": max_tokens})
}

#[tokio::test]
async fn spend_budget_reserves_the_estimate_and_settles_the_cost() {
    let (gw, ledger) = limited(json!({"spend_per_day": "0.001"}));
    let spend = counter(Scope::Model, "budget-1", Measure::SpendPerDay);
    let mut served = 0u64;
    let refused = loop {
        let (status, headers, body) = chat(&gw, ask(50)).await;
        if status != StatusCode::OK {
            break (status, headers, body);
        }
        served += 1;
        assert_eq!(header(&headers, "x-switchyard-cost-usd"), Some("0.000113"));
        // Settled to the cost, not the estimate (50 completion tokens).
        assert_eq!(ledger.current(&spend), served * 113);
        assert!(served < 20, "the budget must run out");
    };
    // 113 µ$ each, ~520 µ$ reserved each: the next would pass $0.001.
    assert_eq!(served, 5);
    let (status, headers, body) = refused;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let error = &json_of(&body)["error"];
    assert_eq!(error["type"], "insufficient_quota");
    assert_eq!(error["code"], "insufficient_quota");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "model \"budget-1\" spend per day limit of $0.001 would be passed: $0.000565 used"
        ),
        "{message}"
    );
    assert!(
        message.contains("; resets at ") && message.contains("T00:00:00Z (in "),
        "{message}"
    );
    assert!(header(&headers, "retry-after").is_some());
    assert_eq!(ledger.current(&spend), 565, "the refusal took nothing");
}

#[tokio::test]
async fn token_and_request_limits_answer_with_openai_headers() {
    let (gw, _ledger) = limited(json!({"tokens_per_minute": 1000, "requests_per_minute": 10}));
    let (status, headers, _) = chat(&gw, ask(50)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "x-ratelimit-limit-requests"), Some("10"));
    assert_eq!(
        header(&headers, "x-ratelimit-remaining-requests"),
        Some("9")
    );
    assert_eq!(header(&headers, "x-ratelimit-limit-tokens"), Some("1000"));
    let remaining: u64 = header(&headers, "x-ratelimit-remaining-tokens")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (900..=950).contains(&remaining),
        "prompt + 50 reserved: {remaining}"
    );
    for name in ["x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"] {
        let reset = header(&headers, name).unwrap();
        assert!(reset.ends_with('s') && reset.len() <= 8, "{name}: {reset}");
    }
    // A request whose estimate alone is over the limit never fits.
    let (status, headers, body) = chat(&gw, ask(5000)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let error = &json_of(&body)["error"];
    assert_eq!(error["type"], "tokens");
    assert_eq!(error["code"], "rate_limit_exceeded");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("model \"budget-1\" tokens per minute limit of 1000 is smaller than")
    );
    assert!(header(&headers, "retry-after").is_none());
    assert_eq!(header(&headers, "x-ratelimit-limit-tokens"), Some("1000"));
}

#[tokio::test]
async fn anthropic_clients_get_a_rate_limit_error() {
    let (gw, _ledger) = limited(json!({"requests_per_minute": 1}));
    let body = json!({"model": "budget-1", "max_tokens": 20, "messages": user("Hello there")});
    let (status, _, _) = call(&gw, &[], Method::POST, "/v1/messages", &body.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, headers, bytes) =
        call(&gw, &[], Method::POST, "/v1/messages", &body.to_string()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let answer = json_of(&bytes);
    assert_eq!(answer["type"], "error");
    assert_eq!(answer["error"]["type"], "rate_limit_error");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("model \"budget-1\" requests per minute limit of 1 reached: 1 used"),
        "{answer}"
    );
    assert!(header(&headers, "retry-after").is_some());
    assert_eq!(
        header(&headers, "x-ratelimit-remaining-requests"),
        Some("0")
    );
}

#[tokio::test]
async fn a_stream_holds_its_concurrency_slot_until_it_is_dropped() {
    let (gw, ledger) = limited(json!({"concurrent_requests": 1}));
    let stream = json!({"model": "budget-1", "messages": user("Hello there"), "stream": true});
    let open = gw
        .handle(
            sy_ai::Caller::new(&[], None),
            &parts(Method::POST, "/v1/chat/completions"),
            stream.to_string().into(),
            REQUEST_ID,
        )
        .await;
    assert_eq!(open.status(), StatusCode::OK);
    let gauge = counter(Scope::Model, "budget-1", Measure::Concurrent);
    assert_eq!(ledger.current(&gauge), 1);
    let (status, _, body) = chat(&gw, ask(10)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(json_of(&body)["error"]["type"], "requests");
    // The proxy keeps a clone of the call info until the body ends.
    let info = open.extensions().get::<AiCallInfo>().unwrap().clone();
    let _ = http_body_util::BodyExt::collect(open.into_body()).await;
    assert_eq!(ledger.current(&gauge), 1, "held by the call info");
    drop(info);
    assert_eq!(ledger.current(&gauge), 0);
    let (status, _, _) = chat(&gw, ask(10)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn caller_limits_come_from_the_consumer_and_failed_calls_are_free() {
    let (gw, ledger) = limited(json!({}));
    let mut ctx = RequestContext::new(
        sy_core::RequestId::generate(),
        "127.0.0.1:9".parse().unwrap(),
        "ai".into(),
        1 << 20,
    );
    let mut web = Consumer::unrestricted("web", "web", Some("acme"));
    web.grants = Arc::new(Grants {
        limits: vec![ScopedLimits {
            scope: LimitScope::Consumer,
            id: Arc::from("web"),
            limits: LimitsSpec {
                tokens_per_day: Some(200),
                spend_per_month: Some(Usd(1_000_000)),
                ..LimitsSpec::default()
            },
        }],
        ..Grants::default()
    });
    ctx.consumer = Some(web);
    let allowed: Vec<String> = Vec::new();
    let head = parts(Method::POST, "/v1/chat/completions");
    let send = |model: &str, max_tokens: u64| {
        let body =
            json!({"model": model, "messages": user("Hello there"), "max_tokens": max_tokens});
        gw.handle(
            sy_ai::Caller::new(&allowed, Some(&ctx)),
            &head,
            body.to_string().into(),
            REQUEST_ID,
        )
    };
    let tokens = counter(Scope::Consumer, "web", Measure::TokensPerDay);
    // The provider is down: the reservation is given back.
    let failed = send("down-1", 100).await;
    assert_eq!(failed.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(ledger.current(&tokens), 0);
    let ok = send("budget-1", 100).await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ledger.current(&tokens), 18, "settled to 9 + 9");
    let spend = counter(Scope::Consumer, "web", Measure::SpendPerMonth);
    assert_eq!(ledger.current(&spend), 113);
    let refused = send("budget-1", 190).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = http_body_util::BodyExt::collect(refused.into_body())
        .await
        .unwrap()
        .to_bytes();
    let error = &json_of(&body)["error"];
    assert_eq!(error["type"], "tokens");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("consumer \"web\" tokens per day limit of 200 would be passed: 18 used"),
        "{error}"
    );
}

#[tokio::test]
async fn embeddings_are_held_to_token_and_spend_limits_too() {
    let (gw, ledger) = limited(json!({"tokens_per_day": 40}));
    let tokens = counter(Scope::Model, "budget-1", Measure::TokensPerDay);
    let body = json!({"model": "budget-1", "input": ["Hello there", "General Kenobi"]}).to_string();
    let mut used = 0u64;
    let mut served = 0;
    let refused = loop {
        let (status, headers, answer) = call(&gw, &[], Method::POST, "/v1/embeddings", &body).await;
        if status != StatusCode::OK {
            break (status, answer);
        }
        served += 1;
        let prompt = json_of(&answer)["usage"]["prompt_tokens"].as_u64().unwrap();
        assert!(prompt > 0);
        used += prompt;
        // Settled to the provider's count.
        assert_eq!(ledger.current(&tokens), used);
        assert!(header(&headers, "x-ratelimit-remaining-tokens").is_some());
        assert!(served < 40, "the token budget must run out");
    };
    assert!(served >= 1, "the first calls fit");
    assert!(used <= 40, "never past the limit: {used}");
    let (status, answer) = refused;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let error = &json_of(&answer)["error"];
    assert_eq!(error["code"], "rate_limit_exceeded", "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("tokens per day"),
        "{error}"
    );
}
