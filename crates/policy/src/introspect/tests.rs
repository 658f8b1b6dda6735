//! The `oauth2_introspection` policy against an identity provider served
//! over real HTTP on 127.0.0.1.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use sy_config::{DurationSpec, IntrospectionSpec};

use super::*;
use crate::jwt::test_server::{Reply, Seen, TestServer, closed_url};
use crate::jwt::tests::directory;
use crate::test_util::{ctx_from, parts};

fn spec(url: &str) -> IntrospectionSpec {
    IntrospectionSpec {
        url: url.into(),
        client_id: "gateway".into(),
        client_secret: "s3cret:+/".into(),
        cache_ttl: DurationSpec::from_secs(60),
        consumer_claim: "client_id".into(),
        required_scopes: vec![],
        timeout: DurationSpec::from_secs(5),
    }
}

fn policy(spec: &IntrospectionSpec) -> Introspection {
    Introspection::new(spec, directory(), &TokenCaches::default()).unwrap()
}

/// An identity provider that knows `tok-app` (client `app`, scopes `read
/// write`), `tok-gated` and `tok-nobody`; every other token is inactive.
fn idp(seen: &Seen) -> Reply {
    let token = seen
        .body
        .split('&')
        .find_map(|p| p.strip_prefix("token="))
        .unwrap_or("");
    let answer = match token {
        "tok-app" => json!({"active": true, "client_id": "app", "scope": "read write",
                            "exp": unix_now() + 3600}),
        "tok-gated" => json!({"active": true, "client_id": "gated"}),
        "tok-nobody" => json!({"active": true, "client_id": "nobody-secret"}),
        "tok-anon" => json!({"active": true, "scope": "read"}),
        _ => json!({"active": false}),
    };
    Reply::json(answer.to_string())
}

async fn run(p: &Introspection, token: &str) -> Result<RequestContext, PolicyError> {
    let auth = format!("Bearer {token}");
    let mut req = parts("GET", "/x", &[("authorization", &auth)]);
    let mut ctx = ctx_from("10.0.0.1");
    p.on_request(&mut req, &mut ctx).await?;
    assert!(
        req.headers.get("authorization").is_none(),
        "token forwarded"
    );
    Ok(ctx)
}

#[tokio::test]
async fn an_active_token_sets_the_consumer() {
    let server = TestServer::start(idp).await;
    let p = policy(&spec(&server.url("/introspect")));
    let ctx = run(&p, "tok-app").await.unwrap();
    assert_eq!(ctx.consumer.unwrap().name.as_ref(), "app");
    let seen = &server.seen()[0];
    assert_eq!(seen.method, http::Method::POST);
    assert_eq!(seen.body, "token=tok-app&token_type_hint=access_token");
    assert_eq!(
        seen.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    // RFC 6749 §2.3.1: id and secret form-encoded, then Basic.
    let basic = STANDARD.encode("gateway:s3cret%3A%2B%2F");
    assert_eq!(seen.headers["authorization"], format!("Basic {basic}"));
}

#[tokio::test]
async fn inactive_tokens_are_refused_and_answers_are_cached() {
    let server = TestServer::start(idp).await;
    let p = policy(&spec(&server.url("/introspect")));
    for _ in 0..3 {
        let e = run(&p, "tok-revoked").await.unwrap_err();
        assert_eq!(e.status(), http::StatusCode::UNAUTHORIZED);
        assert!(
            e.to_string().starts_with("invalid token: not active"),
            "{e}"
        );
        assert!(run(&p, "tok-app").await.is_ok());
    }
    assert_eq!(server.hits(), 2, "one call per token, then the cache");
    assert!(
        !format!("{:?}", p.endpoint).contains("tok-"),
        "the cache never shows tokens"
    );
}

#[tokio::test]
async fn the_answer_ttl_is_honoured() {
    let server = TestServer::start(idp).await;
    let p = policy(&IntrospectionSpec {
        cache_ttl: DurationSpec::from_millis(1),
        ..spec(&server.url("/introspect"))
    });
    assert!(run(&p, "tok-app").await.is_ok());
    // Move the cache's clock past the TTL without sleeping.
    tokio::time::pause();
    tokio::time::advance(Duration::from_millis(5)).await;
    tokio::time::resume();
    assert!(run(&p, "tok-app").await.is_ok());
    assert_eq!(server.hits(), 2, "an expired answer is asked again");
}

#[tokio::test]
async fn concurrent_requests_share_one_call() {
    let server = TestServer::start(|seen| Reply {
        delay: Duration::from_millis(200),
        ..idp(seen)
    })
    .await;
    let p = policy(&spec(&server.url("/introspect")));
    let all = futures_util::future::join_all((0..8).map(|_| run(&p, "tok-app"))).await;
    assert!(all.iter().all(Result::is_ok));
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn an_abandoned_call_leaves_no_slot_behind() {
    let server = TestServer::start(|seen| Reply {
        delay: Duration::from_millis(300),
        ..idp(seen)
    })
    .await;
    let p = policy(&spec(&server.url("/introspect")));
    // The client goes away while the provider thinks.
    let gone = tokio::time::timeout(Duration::from_millis(50), run(&p, "tok-app")).await;
    assert!(gone.is_err());
    assert_eq!(p.endpoint.cache.in_flight_len(), 0);
    assert!(
        run(&p, "tok-app").await.is_ok(),
        "the next request asks again"
    );
    assert_eq!(p.endpoint.cache.in_flight_len(), 0);
}

#[tokio::test]
async fn required_scopes_must_all_be_granted() {
    let server = TestServer::start(idp).await;
    let url = server.url("/introspect");
    let p = policy(&IntrospectionSpec {
        required_scopes: vec!["read".into(), "write".into()],
        ..spec(&url)
    });
    assert!(run(&p, "tok-app").await.is_ok());
    let p = policy(&IntrospectionSpec {
        required_scopes: vec!["read".into(), "admin".into()],
        ..spec(&url)
    });
    let e = run(&p, "tok-app").await.unwrap_err();
    assert_eq!(e.status(), http::StatusCode::FORBIDDEN);
    assert_eq!(e.to_string(), "the token lacks the required scope `admin`");
}

#[tokio::test]
async fn the_consumer_must_be_named_and_known_and_allowed() {
    let server = TestServer::start(idp).await;
    let p = policy(&spec(&server.url("/introspect")));
    let e = run(&p, "tok-nobody").await.unwrap_err();
    assert_eq!(e.status(), http::StatusCode::UNAUTHORIZED);
    assert_eq!(
        e.to_string(),
        "invalid token: claim `client_id` names no known consumer"
    );
    let e = run(&p, "tok-anon").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid token: claim `client_id` is missing or not a string"
    );
    let e = run(&p, "tok-gated").await.unwrap_err();
    assert_eq!(e.status(), http::StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn provider_failures_are_503_and_not_cached() {
    let server = TestServer::start(|_| Reply::status(500)).await;
    let p = policy(&spec(&server.url("/introspect")));
    for _ in 0..2 {
        let e = run(&p, "tok-app").await.unwrap_err();
        assert_eq!(e.status(), http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            e.to_string(),
            "identity provider unavailable: the token introspection endpoint answered with status 500"
        );
    }
    assert_eq!(server.hits(), 2, "failures are not cached");
    server.set(idp);
    assert!(run(&p, "tok-app").await.is_ok(), "recovers at once");

    server.set(|_| Reply::json(r#"{"client_id":"app"}"#));
    let e = run(&p, "tok-other").await.unwrap_err();
    assert!(
        e.to_string()
            .ends_with("answered without a boolean `active`"),
        "{e}"
    );
    server.set(|_| Reply::json("<html>"));
    let e = run(&p, "tok-other").await.unwrap_err();
    assert!(e.to_string().contains("other than a JSON object"), "{e}");
}

#[tokio::test]
async fn timeouts_and_refused_connections_are_503() {
    let server = TestServer::start(|seen| Reply {
        delay: Duration::from_secs(5),
        ..idp(seen)
    })
    .await;
    let p = policy(&IntrospectionSpec {
        timeout: DurationSpec::from_millis(100),
        ..spec(&server.url("/introspect"))
    });
    let e = run(&p, "tok-app").await.unwrap_err();
    assert_eq!(e.code(), "identity_provider_unavailable");
    assert!(e.to_string().ends_with("timed out after 100ms"), "{e}");

    let p = policy(&spec(&format!("{}/introspect", closed_url().await)));
    let e = run(&p, "tok-app").await.unwrap_err();
    assert_eq!(e.status(), http::StatusCode::SERVICE_UNAVAILABLE);
    assert!(e.to_string().contains("request failed"), "{e}");
}

#[tokio::test]
async fn the_cache_is_shared_across_reloads_of_the_same_endpoint() {
    let server = TestServer::start(idp).await;
    let caches = TokenCaches::default();
    let s = spec(&server.url("/introspect"));
    let a = Introspection::new(&s, directory(), &caches).unwrap();
    let b = Introspection::new(&s, directory(), &caches).unwrap();
    assert!(Arc::ptr_eq(&a.endpoint, &b.endpoint));
    let other = IntrospectionSpec {
        client_secret: "rotated".into(),
        ..s.clone()
    };
    let c = Introspection::new(&other, directory(), &caches).unwrap();
    assert!(
        !Arc::ptr_eq(&a.endpoint, &c.endpoint),
        "new credentials, new cache"
    );
}

#[tokio::test]
async fn a_missing_token_is_401() {
    let server = TestServer::start(idp).await;
    let p = policy(&spec(&server.url("/introspect")));
    let mut req = parts("GET", "/x", &[("authorization", "Basic abc")]);
    let e = p
        .on_request(&mut req, &mut ctx_from("10.0.0.1"))
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), MISSING_TOKEN);
    assert_eq!(server.hits(), 0);
}

#[test]
fn form_encoding() {
    assert_eq!(form_encode("a b+c/d=é"), "a+b%2Bc%2Fd%3D%C3%A9");
    assert_eq!(form_encode("AZaz09-._*"), "AZaz09-._*");
}
