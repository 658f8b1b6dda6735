//! Routing through `AiGateway::handle`: failover between deployments and
//! providers, fallback models, context-window fallback, cool-down, the
//! routing headers and the gateway-made usage chunk.

use http::StatusCode;
use serde_json::{Value, json};
use sy_ai::{AiCallInfo, AiGateway};

use sy_testkit::{MockHandle, MockOptions, MockUpstream};

use crate::support::*;

async fn upstream(name: &str) -> MockHandle {
    MockUpstream::start(MockOptions::named(name).chat_stream(3, std::time::Duration::ZERO))
        .await
        .unwrap()
}

/// The defaults plus OpenAI-format providers `a` and `b` at the mocks
/// given, and `models`.
fn gateway_with(a: &MockHandle, b: &MockHandle, models: Value) -> AiGateway {
    let mut spec = sy_config::defaults().expect("defaults load");
    let providers = json!([
        {"name": "a", "kind": "openai_compatible", "api_key": "k", "base_url": format!("{}/v1", a.url()), "timeout": "5s"},
        {"name": "b", "kind": "openai_compatible", "api_key": "k", "base_url": format!("{}/v1", b.url()), "timeout": "5s"},
        {"name": "m", "kind": "mistral", "api_key": "k", "base_url": format!("{}/v1", b.url()), "timeout": "5s"}
    ]);
    spec.providers
        .extend(serde_json::from_value::<Vec<sy_config::ProviderSpec>>(providers).unwrap());
    spec.models
        .extend(serde_json::from_value::<Vec<sy_config::ModelSpec>>(models).unwrap());
    assert!(
        sy_config::validate(&spec).is_empty(),
        "{:?}",
        sy_config::validate(&spec)
    );
    AiGateway::compile(&spec).expect("gateway compiles")
}

fn two_deployments(extra: Value) -> Value {
    let mut model = json!({"name": "duo", "deployments": [
        {"provider": "a", "model": "real-a", "priority": 0},
        {"provider": "b", "model": "real-b", "priority": 1}
    ]});
    if let (Some(m), Some(e)) = (model.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    json!([model])
}

#[tokio::test]
async fn a_429_fails_over_to_the_next_deployment() {
    let (a, b) = (upstream("a").await, upstream("b").await);
    a.set_fail(Some(429));
    let gw = gateway_with(&a, &b, two_deployments(json!({})));
    let response = merged(
        gw.handle(
            sy_ai::Caller::new(&[], None),
            &parts(http::Method::POST, "/v1/chat/completions"),
            json!({"model": "duo", "messages": user("hi")})
                .to_string()
                .into(),
            REQUEST_ID,
        )
        .await,
    );
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(header(headers, "x-switchyard-deployment"), Some("b/real-b"));
    assert_eq!(header(headers, "x-switchyard-attempts"), Some("2"));
    assert_eq!(header(headers, "x-switchyard-fallback"), None);
    assert!(header(headers, "x-switchyard-prompt-tokens").is_some());
    let info = response.extensions().get::<AiCallInfo>().unwrap();
    assert_eq!(info.attempts, 2);
    assert_eq!(info.failovers, vec!["a/real-a: 429 provider_error"]);
    assert_eq!((a.requests(), b.requests()), (1, 1));
}

#[tokio::test]
async fn a_stream_failing_before_its_first_chunk_fails_over() {
    let (a, b) = (upstream("a").await, upstream("b").await);
    a.set_fail(Some(500));
    let gw = gateway_with(&a, &b, two_deployments(json!({})));
    let (status, headers, frames) = call_frames(
        &gw,
        &[],
        http::Method::POST,
        "/v1/chat/completions",
        &json!({"model": "duo", "messages": user("hi"), "stream": true}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header(&headers, "x-switchyard-deployment"),
        Some("b/real-b")
    );
    let text: String = events(&frames)
        .iter()
        .filter(|e| e.data != "[DONE]")
        .filter_map(|e| {
            serde_json::from_str::<Value>(&e.data).ok()?["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(text, "t0 t1 t2 ");
}

#[tokio::test]
async fn retries_back_off_on_the_same_deployment_before_moving_on() {
    let (a, b) = (upstream("a").await, upstream("b").await);
    a.set_fail(Some(502));
    let gw = gateway_with(
        &a,
        &b,
        two_deployments(
            json!({"retries": {"attempts": 2, "backoff_base": "1ms", "backoff_max": "4ms"}}),
        ),
    );
    let (status, headers, _) = chat(&gw, json!({"model": "duo", "messages": user("hi")})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "x-switchyard-attempts"), Some("4"));
    assert_eq!((a.requests(), b.requests()), (3, 1));
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let (a, b) = (upstream("a").await, upstream("b").await);
    a.set_fail(Some(400));
    let gw = gateway_with(&a, &b, two_deployments(json!({"fallbacks": ["mock-1"]})));
    let (status, headers, body) = chat(&gw, json!({"model": "duo", "messages": user("hi")})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&body).contains("forced status 400"));
    assert_eq!((a.requests(), b.requests()), (1, 0));
    // The error still says which deployment refused, after one call.
    assert_eq!(header(&headers, "x-switchyard-attempts"), Some("1"));
    assert_eq!(
        header(&headers, "x-switchyard-deployment"),
        Some("a/real-a")
    );
}

#[tokio::test]
async fn a_fallback_model_at_another_provider_answers() {
    let (a, b) = (upstream("a").await, upstream("b").await);
    a.set_fail(Some(503));
    let models = json!([
        {"name": "primary", "fallbacks": ["backup"], "deployments": [{"provider": "a", "model": "real-a"}]},
        {"name": "backup", "deployments": [{"provider": "mock", "model": "mock-model"}]}
    ]);
    let gw = gateway_with(&a, &b, models);
    let (status, headers, body) =
        chat(&gw, json!({"model": "primary", "messages": user("hi")})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "x-switchyard-fallback"), Some("backup"));
    assert_eq!(
        header(&headers, "x-switchyard-deployment"),
        Some("mock/mock-model")
    );
    // The client sees the name it asked for.
    assert_eq!(json_of(&body)["model"], "primary");
}

#[tokio::test]
async fn cooled_down_deployments_are_skipped_while_another_can_answer() {
    let (a, b) = (upstream("a").await, upstream("b").await);
    a.set_fail(Some(500));
    let models = json!([{"name": "pair", "cooldown": {"failures": 1, "duration": "1m"},
        "deployments": [{"provider": "a", "model": "real-a", "priority": 0},
                        {"provider": "b", "model": "real-b", "priority": 1}]}]);
    let gw = gateway_with(&a, &b, models);
    let (status, headers, _) = chat(&gw, json!({"model": "pair", "messages": user("hi")})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "x-switchyard-attempts"), Some("2"));
    // `a` is cooling down now: the next call goes straight to `b`.
    let (status, headers, _) = chat(&gw, json!({"model": "pair", "messages": user("hi")})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "x-switchyard-attempts"), Some("1"));
    assert_eq!(
        header(&headers, "x-switchyard-deployment"),
        Some("b/real-b")
    );
    assert_eq!((a.requests(), b.requests()), (1, 2));
}

#[tokio::test]
async fn a_lone_cooling_deployment_still_answers_for_itself() {
    let (a, b) = (upstream("a").await, upstream("b").await);
    a.set_fail(Some(500));
    let models = json!([{"name": "solo", "cooldown": {"failures": 1, "duration": "1m"},
        "deployments": [{"provider": "a", "model": "real-a"}]}]);
    let gw = gateway_with(&a, &b, models);
    let (status, _, body) = chat(&gw, json!({"model": "solo", "messages": user("hi")})).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(String::from_utf8_lossy(&body).contains("forced status 500"));
    // Every option is cooling down: rather than a gateway-made 503, the
    // deployment is called and the client gets the provider's own answer.
    let (status, _, body) = chat(&gw, json!({"model": "solo", "messages": user("hi")})).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(String::from_utf8_lossy(&body).contains("forced status 500"));
    assert_eq!(a.requests(), 2);
    // Once the provider recovers, calls succeed even inside the cool-down.
    a.set_fail(None);
    let (status, _, _) = chat(&gw, json!({"model": "solo", "messages": user("hi")})).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn limits_still_refuse_with_503_naming_why() {
    let (a, b) = (upstream("a").await, upstream("b").await);
    let models =
        json!([{"name": "tiny", "deployments": [{"provider": "a", "model": "real-a", "rpm": 1}]}]);
    let gw = gateway_with(&a, &b, models);
    let (status, _, _) = chat(&gw, json!({"model": "tiny", "messages": user("hi")})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, headers, body) = chat(&gw, json!({"model": "tiny", "messages": user("hi")})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let body = json_of(&body);
    assert_eq!(body["error"]["code"], "no_deployment_available");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("a/real-a: at its rpm limit"), "{message}");
    assert_eq!(a.requests(), 1);
    // Nothing was called: no deployment answered.
    assert_eq!(header(&headers, "x-switchyard-attempts"), Some("0"));
    assert_eq!(header(&headers, "x-switchyard-deployment"), None);
}

/// A `duo` call whose deployments both fail (`a` 503, then `b` 500), whole
/// and streamed, in both dialects: the error is `b`'s, and the routing
/// headers count both calls and name `b`, in the dialect's error shape.
#[tokio::test]
async fn a_call_failing_on_every_deployment_names_the_last_and_counts_attempts() {
    let (a, b) = (upstream("a").await, upstream("b").await);
    a.set_fail(Some(503));
    b.set_fail(Some(500));
    // No cool-down: every call tries both deployments.
    let gw = gateway_with(
        &a,
        &b,
        two_deployments(json!({"cooldown": {"failures": 100}})),
    );
    let chat = json!({"model": "duo", "messages": user("hi")});
    let messages = json!({"model": "duo", "max_tokens": 16, "messages": user("hi")});
    let mut calls = 0;
    for (path, mut body) in [("/v1/chat/completions", chat), ("/v1/messages", messages)] {
        for stream in [false, true] {
            body["stream"] = json!(stream);
            let (status, headers, got) =
                call(&gw, &[], http::Method::POST, path, &body.to_string()).await;
            let what = format!("{path} stream={stream}");
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{what}");
            assert_eq!(
                header(&headers, "x-switchyard-attempts"),
                Some("2"),
                "{what}"
            );
            assert_eq!(
                header(&headers, "x-switchyard-deployment"),
                Some("b/real-b"),
                "{what}"
            );
            assert_eq!(header(&headers, "x-switchyard-fallback"), None, "{what}");
            assert_eq!(
                header(&headers, "content-type"),
                Some("application/json"),
                "{what}"
            );
            let got = json_of(&got);
            let message = if path == "/v1/messages" {
                assert_eq!(got["type"], "error", "{what}: {got}");
                assert_eq!(got["error"]["type"], "api_error", "{what}: {got}");
                &got["error"]["message"]
            } else {
                assert_eq!(got["error"]["type"], "server_error", "{what}: {got}");
                &got["error"]["message"]
            };
            assert_eq!(message, "mock upstream b forced status 500", "{what}");
            calls += 1;
            assert_eq!((a.requests(), b.requests()), (calls, calls), "{what}");
        }
    }
}

#[tokio::test]
async fn a_failing_fallback_model_is_named_on_the_error() {
    let (a, b) = (upstream("a").await, upstream("b").await);
    a.set_fail(Some(503));
    b.set_fail(Some(429));
    let models = json!([
        {"name": "primary", "fallbacks": ["backup"], "retries": {"attempts": 1, "backoff_base": "1ms"},
         "deployments": [{"provider": "a", "model": "real-a"}]},
        {"name": "backup", "deployments": [{"provider": "b", "model": "real-b"}]}
    ]);
    let gw = gateway_with(&a, &b, models);
    let (status, headers, body) =
        chat(&gw, json!({"model": "primary", "messages": user("hi")})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(json_of(&body)["error"]["code"], "rate_limit_exceeded");
    // Two calls to `a` (one retry), one to the fallback's deployment.
    assert_eq!(header(&headers, "x-switchyard-attempts"), Some("3"));
    assert_eq!(
        header(&headers, "x-switchyard-deployment"),
        Some("b/real-b")
    );
    assert_eq!(header(&headers, "x-switchyard-fallback"), Some("backup"));
    assert_eq!((a.requests(), b.requests()), (2, 1));
}

#[tokio::test]
async fn prompts_too_long_go_to_the_context_window_fallback() {
    let (a, b) = (upstream("a").await, upstream("b").await);
    let models = json!([
        {"name": "small", "context_window_fallback": "big",
         "deployments": [{"provider": "a", "model": "real-a", "context_window": 20}]},
        {"name": "big", "deployments": [{"provider": "b", "model": "real-b", "context_window": 100000}]}
    ]);
    let gw = gateway_with(&a, &b, models);
    let long = "word ".repeat(200);
    let (status, headers, _) = chat(&gw, json!({"model": "small", "messages": user(&long)})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "x-switchyard-fallback"), Some("big"));
    assert_eq!(
        header(&headers, "x-switchyard-deployment"),
        Some("b/real-b")
    );
    assert_eq!(a.requests(), 0);
    // A short prompt stays on the small model.
    let (status, headers, _) = chat(&gw, json!({"model": "small", "messages": user("hi")})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "x-switchyard-fallback"), None);
}

#[tokio::test]
async fn include_usage_gets_a_usage_chunk_when_the_provider_sends_none() {
    let (a, b) = (upstream("a").await, upstream("b").await);
    let models =
        json!([{"name": "mist", "deployments": [{"provider": "m", "model": "mistral-small"}]}]);
    let gw = gateway_with(&a, &b, models);
    let (status, _, frames) = call_frames(
        &gw,
        &[],
        http::Method::POST,
        "/v1/chat/completions",
        &json!({"model": "mist", "messages": user("hi"), "stream": true,
                "stream_options": {"include_usage": true}})
        .to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let events = events(&frames);
    assert_eq!(events.last().map(|e| e.data.as_str()), Some("[DONE]"));
    let last: Value = serde_json::from_str(&events[events.len() - 2].data).unwrap();
    assert_eq!(last["choices"], json!([]));
    assert!(last["usage"]["completion_tokens"].as_u64().unwrap() > 0);
    assert!(last["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
}
