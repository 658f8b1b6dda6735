//! `POST /v1/embeddings`: the mock's vectors, base64, routing to an
//! OpenAI-compatible upstream, providers without embeddings.

use http::{Method, StatusCode};
use serde_json::{Value, json};
use sy_ai::AiGateway;
use sy_llm::embeddings::decode_base64;
use sy_testkit::{MockOptions, MockUpstream};

use crate::support::*;

async fn embed(gw: &AiGateway, body: Value) -> (StatusCode, http::HeaderMap, Value) {
    let (status, headers, bytes) =
        call(gw, &[], Method::POST, "/v1/embeddings", &body.to_string()).await;
    (status, headers, json_of(&bytes))
}

#[tokio::test]
async fn mock_vectors_in_openai_shape() {
    let gw = gateway();
    let (status, headers, got) = embed(
        &gw,
        json!({"model": "mock-1", "input": ["hello", "world"], "dimensions": 4}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["object"], "list");
    assert_eq!(got["model"], "mock-1");
    assert_eq!(got["usage"], json!({"prompt_tokens": 2, "total_tokens": 2}));
    let data = got["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    for (i, item) in data.iter().enumerate() {
        assert_eq!(item["object"], "embedding");
        assert_eq!(item["index"], i);
        assert_eq!(item["embedding"].as_array().unwrap().len(), 4);
    }
    assert_ne!(data[0]["embedding"], data[1]["embedding"]);
    assert_eq!(header(&headers, "x-switchyard-prompt-tokens"), Some("2"));
    assert!(header(&headers, "x-switchyard-deployment").is_some());

    // Deterministic: the same text, the same vector.
    let (_, _, again) = embed(
        &gw,
        json!({"model": "mock-1", "input": "hello", "dimensions": 4}),
    )
    .await;
    assert_eq!(again["data"][0]["embedding"], data[0]["embedding"]);
    // Default length.
    let (_, _, long) = embed(&gw, json!({"model": "mock-1", "input": [[1, 2, 3]]})).await;
    assert_eq!(long["data"][0]["embedding"].as_array().unwrap().len(), 1536);
    assert_eq!(long["usage"]["prompt_tokens"], 3);
}

#[tokio::test]
async fn base64_round_trips_to_the_float_vector() {
    let gw = gateway();
    let body = json!({"model": "mock-1", "input": "hello", "dimensions": 6});
    let (_, _, floats) = embed(&gw, body.clone()).await;
    let mut b64 = body;
    b64["encoding_format"] = json!("base64");
    let (status, _, encoded) = embed(&gw, b64).await;
    assert_eq!(status, StatusCode::OK);
    let text = encoded["data"][0]["embedding"].as_str().unwrap();
    let decoded = decode_base64(text).unwrap();
    let expected: Vec<f32> = floats["data"][0]["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(decoded, expected);
}

#[tokio::test]
async fn bad_requests_and_unknown_models() {
    let gw = gateway();
    let (status, _, got) = embed(&gw, json!({"model": "mock-1"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(got["error"]["param"], "input");
    assert_eq!(got["error"]["type"], "invalid_request_error");
    let (status, _, got) = embed(&gw, json!({"model": "nope", "input": "a"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{got}");
    let (status, _, _) = call(&gw, &[], Method::GET, "/v1/embeddings", "").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

/// The default gateway with `providers` and `models` (JSON config) added.
fn gateway_with(providers: Value, models: Value) -> AiGateway {
    let mut spec = sy_config::defaults().unwrap();
    spec.providers
        .extend(serde_json::from_value::<Vec<sy_config::ProviderSpec>>(providers).unwrap());
    spec.models
        .extend(serde_json::from_value::<Vec<sy_config::ModelSpec>>(models).unwrap());
    AiGateway::compile(&spec).unwrap()
}

#[tokio::test]
async fn provider_without_embeddings_is_a_400_naming_it() {
    let providers = json!([{"name": "claude", "kind": "anthropic", "api_key": "k", "base_url": "http://127.0.0.1:1/v1"}]);
    let models =
        json!([{"name": "c", "deployments": [{"provider": "claude", "model": "claude-x"}]}]);
    let gw = gateway_with(providers, models);
    let (status, _, got) = embed(&gw, json!({"model": "c", "input": "a"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        got["error"]["message"],
        "Embeddings are not supported by the provider `claude` (kind `anthropic`)."
    );
    assert_eq!(got["error"]["param"], "model");
}

#[tokio::test]
async fn routed_to_an_openai_compatible_upstream_with_failover() {
    let up = MockUpstream::start(MockOptions::named("vllm"))
        .await
        .unwrap();
    let providers = json!([
        {"name": "down", "kind": "openai_compatible", "base_url": "http://127.0.0.1:1/v1", "timeout": "2s"},
        {"name": "vllm", "kind": "openai_compatible", "base_url": format!("{}/v1", up.url()), "timeout": "5s"}
    ]);
    let models = json!([
        {"name": "e", "deployments": [{"provider": "down", "model": "emb-down"}], "fallbacks": ["e2"]},
        {"name": "e2", "deployments": [{"provider": "vllm", "model": "emb-real"}]}
    ]);
    let gw = gateway_with(providers, models);
    let (status, headers, got) = embed(
        &gw,
        json!({"model": "e", "input": ["ab", "cde"], "encoding_format": "float"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(
        header(&headers, "x-switchyard-deployment"),
        Some("vllm/emb-real")
    );
    assert_eq!(header(&headers, "x-switchyard-fallback"), Some("e2"));
    assert_eq!(header(&headers, "x-switchyard-attempts"), Some("2"));
    assert_eq!(got["model"], "e", "the public name");
    assert_eq!(
        got["data"],
        json!([
            {"object": "embedding", "index": 0, "embedding": [0.0, 2.0, 0.5]},
            {"object": "embedding", "index": 1, "embedding": [1.0, 3.0, 0.5]}
        ])
    );
    assert!(got["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn a_failed_walk_names_the_last_deployment_and_counts_attempts() {
    let up = MockUpstream::start(MockOptions::named("vllm"))
        .await
        .unwrap();
    up.set_fail(Some(502));
    let providers = json!([
        {"name": "vllm", "kind": "openai_compatible", "base_url": format!("{}/v1", up.url()), "timeout": "5s"}
    ]);
    let models = json!([
        {"name": "e", "deployments": [{"provider": "vllm", "model": "emb-1"}], "fallbacks": ["e2"]},
        {"name": "e2", "deployments": [{"provider": "vllm", "model": "emb-2"}]}
    ]);
    let gw = gateway_with(providers, models);
    let (status, headers, got) = embed(&gw, json!({"model": "e", "input": "ab"})).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{got}");
    assert_eq!(
        got["error"]["message"],
        "mock upstream vllm forced status 502"
    );
    assert_eq!(header(&headers, "x-switchyard-attempts"), Some("2"));
    assert_eq!(
        header(&headers, "x-switchyard-deployment"),
        Some("vllm/emb-2")
    );
    assert_eq!(header(&headers, "x-switchyard-fallback"), Some("e2"));
    assert_eq!(up.requests(), 2);
}

/// Float vectors from an OpenAI-format provider reach the client as the
/// provider wrote them (numbers, spacing), with only `model` replaced and
/// the usage still counted and priced, and the client's request reaches
/// the provider as its own bytes with only `model` replaced; a client
/// asking for base64 still gets vectors converted from the decoded floats.
#[tokio::test]
async fn float_vectors_are_served_in_the_providers_own_bytes() {
    const ANSWER: &str = r#"{"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.10, -2e-3, 1E+2]}], "model": "emb-real", "usage": {"prompt_tokens": 9, "total_tokens": 9}}"#;
    let (url, mut seen) = capturing_raw(ANSWER).await;
    let providers =
        json!([{"name": "up", "kind": "openai_compatible", "base_url": url, "timeout": "5s"}]);
    let models = json!([{"name": "e", "deployments": [{"provider": "up", "model": "emb-real"}]}]);
    let gw = gateway_with(providers, models);
    let (status, headers, bytes) = call(
        &gw,
        &[],
        Method::POST,
        "/v1/embeddings",
        r#"{"model": "e",  "input": ["hello"], "x_extra": 1.50}"#,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(
        String::from_utf8_lossy(&bytes),
        ANSWER.replace(r#""model": "emb-real""#, r#""model": "e""#)
    );
    assert_eq!(header(&headers, "x-switchyard-prompt-tokens"), Some("9"));
    // The request went up as the client's bytes, only `model` replaced.
    assert_eq!(
        String::from_utf8(seen.recv().await.unwrap()).unwrap(),
        r#"{"model": "emb-real",  "input": ["hello"], "x_extra": 1.50}"#
    );

    let (status, _, got) = embed(
        &gw,
        json!({"model": "e", "input": "hello", "encoding_format": "base64"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["model"], "e");
    assert_eq!(
        decode_base64(got["data"][0]["embedding"].as_str().unwrap()),
        Some(vec![0.1, -0.002, 100.0])
    );
}
