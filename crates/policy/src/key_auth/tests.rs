use http::StatusCode;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use sy_config::{ConsumerSpec, KeySpec};

use super::*;
use crate::registry::directory_from_config;
use crate::test_util::{ctx_from, parts};

fn directory() -> Arc<dyn ConsumerDirectory> {
    Arc::new(directory_from_config(&[
        ConsumerSpec {
            name: "web".into(),
            tenant: None,
            subscriptions: vec![],
            limits: Default::default(),
            keys: vec![KeySpec::Key("sk-web-1".into())],
        },
        ConsumerSpec {
            name: "batch".into(),
            tenant: None,
            subscriptions: vec![],
            limits: Default::default(),
            // sha256("sk-batch")
            keys: vec![KeySpec::Sha256(hex(&Sha256::digest(b"sk-batch")))],
        },
    ]))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn auth(query_param: Option<&str>, consumers: &[&str]) -> KeyAuth {
    let spec = KeyAuthSpec {
        query_param: query_param.map(String::from),
        consumers: consumers.iter().map(|s| s.to_string()).collect(),
    };
    KeyAuth::new(&spec, directory())
}

async fn run(
    a: &KeyAuth,
    req: &mut http::request::Parts,
) -> (Result<(), PolicyError>, RequestContext) {
    let mut ctx = ctx_from("10.0.0.1");
    let r = a.on_request(req, &mut ctx).await.map(|_| ());
    (r, ctx)
}

#[tokio::test]
async fn bearer_key_sets_consumer_and_is_not_forwarded() {
    let a = auth(None, &[]);
    let mut req = parts(
        "POST",
        "/v1/chat",
        &[("authorization", "bearer sk-web-1"), ("x-api-key", "other")],
    );
    let (r, ctx) = run(&a, &mut req).await;
    r.unwrap();
    assert_eq!(ctx.consumer.unwrap().name.as_ref(), "web");
    assert!(req.headers.get(AUTHORIZATION).is_none());
    assert!(
        req.headers.get("x-api-key").is_none(),
        "every key carrier is scrubbed"
    );
}

#[tokio::test]
async fn x_api_key_works_and_basic_auth_passes_through() {
    let a = auth(None, &[]);
    let mut req = parts(
        "GET",
        "/",
        &[("authorization", "Basic dTpw"), ("x-api-key", "sk-batch")],
    );
    let (r, ctx) = run(&a, &mut req).await;
    r.unwrap();
    assert_eq!(ctx.consumer.unwrap().id.as_ref(), "batch");
    assert_eq!(
        req.headers[AUTHORIZATION], "Basic dTpw",
        "a non-bearer credential is the upstream's"
    );
    assert!(req.headers.get("x-api-key").is_none());
}

#[tokio::test]
async fn missing_key_is_401_with_instructions() {
    let a = auth(None, &[]);
    for headers in [
        &[][..],
        &[("authorization", "Bearer ")][..],
        &[("x-api-key", " ")][..],
    ] {
        let mut req = parts("GET", "/", headers);
        let (r, ctx) = run(&a, &mut req).await;
        let err = r.unwrap_err();
        assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            err.to_string(),
            "missing API key: send `Authorization: Bearer <key>` or `x-api-key`"
        );
        assert_eq!(err.headers()[WWW_AUTHENTICATE], "Bearer");
        assert!(ctx.consumer.is_none());
    }
}

#[tokio::test]
async fn unknown_key_is_401_invalid() {
    let a = auth(None, &[]);
    let mut req = parts("GET", "/", &[("authorization", "Bearer sk-nope")]);
    let err = run(&a, &mut req).await.0.unwrap_err();
    assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(err.to_string(), "invalid API key");
}

#[tokio::test]
async fn consumer_outside_the_route_list_is_403() {
    let a = auth(None, &["batch"]);
    let mut req = parts("GET", "/", &[("x-api-key", "sk-web-1")]);
    let err = run(&a, &mut req).await.0.unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    assert_eq!(err.to_string(), "consumer `web` may not call route `api`");
    let mut req = parts("GET", "/", &[("x-api-key", "sk-batch")]);
    assert!(run(&a, &mut req).await.0.is_ok());
}

#[tokio::test]
async fn query_key_is_used_then_removed_from_the_uri() {
    let a = auth(Some("api_key"), &[]);
    let mut req = parts(
        "GET",
        "/v1/models?a=1&api_key=sk%2Dweb%2D1&b=x%20y&api_key=again",
        &[],
    );
    let (r, ctx) = run(&a, &mut req).await;
    r.unwrap();
    assert_eq!(ctx.consumer.unwrap().name.as_ref(), "web");
    assert_eq!(req.uri.to_string(), "/v1/models?a=1&b=x%20y");

    let mut req = parts("GET", "/v1/models?api_key=sk-batch", &[]);
    run(&a, &mut req).await.0.unwrap();
    assert_eq!(req.uri.to_string(), "/v1/models");
}

#[tokio::test]
async fn query_key_is_scrubbed_even_when_a_header_key_wins() {
    let a = auth(Some("key"), &[]);
    let mut req = parts(
        "GET",
        "http://gw.example/x?key=sk-nope&keep=1",
        &[("x-api-key", "sk-web-1")],
    );
    run(&a, &mut req).await.0.unwrap();
    assert_eq!(req.uri.to_string(), "http://gw.example/x?keep=1");
}

#[tokio::test]
async fn query_param_is_ignored_unless_configured() {
    let a = auth(None, &[]);
    let mut req = parts("GET", "/x?api_key=sk-web-1", &[]);
    let err = run(&a, &mut req).await.0.unwrap_err();
    assert_eq!(err.to_string(), MISSING_KEY);
    assert_eq!(
        req.uri.to_string(),
        "/x?api_key=sk-web-1",
        "an unconfigured parameter is not ours to remove"
    );
}
