//! The `jwt` policy against a JWKS served over real HTTP on 127.0.0.1:
//! first fetch, key rotation, the unknown-`kid` throttle, keeping the last
//! good set, a provider that is down, and the background task's life.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::EncodingKey;
use jsonwebtoken::jwk::Jwk;
use serde_json::{Value, json};
use sy_config::JwtSpec;

use super::jwks::{Jwks, Throttle, parse_jwks};
use super::test_server::{Reply, TestServer, closed_url};
use super::tests::{RSA_PRIVATE, claims, directory, p256, refused, run, sign, spec};
use super::*;

/// A signing key and its public JWK.
struct Signer {
    kid: &'static str,
    alg: Algorithm,
    key: EncodingKey,
    jwk: Value,
}

impl Signer {
    fn rsa(kid: &'static str) -> Signer {
        let key = EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap();
        Signer::new(kid, Algorithm::RS256, key)
    }

    fn ec(kid: &'static str) -> Signer {
        let (private, _, _) = p256();
        let key = EncodingKey::from_ec_pem(private.as_bytes()).unwrap();
        Signer::new(kid, Algorithm::ES256, key)
    }

    fn new(kid: &'static str, alg: Algorithm, key: EncodingKey) -> Signer {
        let mut jwk = Jwk::from_encoding_key(&key, alg).unwrap();
        jwk.common.key_id = Some(kid.into());
        let jwk = serde_json::to_value(&jwk).unwrap();
        Signer { kid, alg, key, jwk }
    }

    fn token(&self) -> String {
        sign(self.alg, Some(self.kid), &claims(json!({})), &self.key)
    }
}

fn set(keys: &[&Signer]) -> String {
    json!({ "keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() }).to_string()
}

fn jwks_spec(url: &str) -> JwtSpec {
    JwtSpec {
        jwks_url: Some(url.into()),
        ..spec()
    }
}

/// A policy whose JWKS cache lets requests force a fetch every `forced_every`.
fn policy_with(url: &str, forced_every: Duration) -> (Jwt, Arc<Jwks>) {
    let caches = TokenCaches::default();
    let refresh = Duration::from_secs(600);
    let jwks = Arc::new(Jwks::with_throttle(url, refresh, forced_every).unwrap());
    caches.insert_jwks(url, refresh, &jwks);
    let p = Jwt::new(&jwks_spec(url), directory(), &caches).unwrap();
    (p, jwks)
}

#[tokio::test]
async fn the_first_request_waits_for_the_key_set() {
    let k1 = Signer::rsa("k1");
    let body = set(&[&k1]);
    let idp = TestServer::start(move |_| Reply::json(body.clone())).await;
    let (p, jwks) = policy_with(&idp.url("/jwks"), Duration::from_secs(30));
    let ctx = run(&p, &k1.token()).await.unwrap();
    assert_eq!(ctx.consumer.unwrap().name.as_ref(), "app");
    assert_eq!(
        jwks.fetches(),
        1,
        "the start task and the request share one fetch"
    );
    assert_eq!(idp.seen()[0].headers["accept"], "application/json");
    // Known kid afterwards: decided without a fetch.
    assert!(run(&p, &k1.token()).await.is_ok());
    assert_eq!(idp.hits(), 1);
}

#[tokio::test]
async fn a_rotated_key_is_accepted_after_a_refresh() {
    let k1 = Signer::ec("k1");
    let k2 = Signer::ec("k2");
    let old = set(&[&k1]);
    let idp = TestServer::start(move |_| Reply::json(old.clone())).await;
    let (p, jwks) = policy_with(&idp.url("/jwks"), Duration::from_secs(30));
    assert!(run(&p, &k1.token()).await.is_ok());
    // The provider rotates: k2 appears, k1 goes.
    let new = set(&[&k2]);
    idp.set(move |_| Reply::json(new.clone()));
    let ctx = run(&p, &k2.token()).await.unwrap();
    assert_eq!(ctx.consumer.unwrap().name.as_ref(), "app");
    assert_eq!(jwks.fetches(), 2);
    assert_eq!(
        refused(&p, &k1.token()).await,
        "invalid token: unknown key id"
    );
}

#[tokio::test]
async fn unknown_key_ids_refresh_at_most_once_per_window() {
    let k1 = Signer::rsa("k1");
    let body = set(&[&k1]);
    let idp = TestServer::start(move |_| Reply::json(body.clone())).await;
    let (p, _jwks) = policy_with(&idp.url("/jwks"), Duration::from_secs(30));
    assert!(run(&p, &k1.token()).await.is_ok());
    let after_start = idp.hits();
    for i in 0..20 {
        let bogus = sign(
            Algorithm::RS256,
            Some(&format!("bogus-{i}")),
            &claims(json!({})),
            &k1.key,
        );
        assert_eq!(refused(&p, &bogus).await, "invalid token: unknown key id");
    }
    assert!(
        idp.hits() <= after_start + 1,
        "{} fetches for 20 unknown kids",
        idp.hits() - after_start
    );
}

#[tokio::test]
async fn the_last_good_set_keeps_serving_when_the_provider_fails() {
    let k1 = Signer::rsa("k1");
    let body = set(&[&k1]);
    let idp = TestServer::start(move |_| Reply::json(body.clone())).await;
    let (p, jwks) = policy_with(&idp.url("/jwks"), Duration::ZERO);
    assert!(run(&p, &k1.token()).await.is_ok());
    for reply in [
        Reply::status(500),
        Reply::json("not json"),
        Reply::json(r#"{"keys":[]}"#),
    ] {
        idp.set(move |_| reply.clone());
        let before = jwks.fetches();
        assert!(jwks.refresh_for_request().await, "a fetch ran");
        assert_eq!(jwks.fetches(), before + 1);
        assert!(run(&p, &k1.token()).await.is_ok(), "k1 still verifies");
    }
}

#[tokio::test]
async fn a_provider_that_is_down_gives_503_not_401() {
    let url = closed_url().await;
    let (p, _) = policy_with(&format!("{url}/jwks"), Duration::from_secs(30));
    let k1 = Signer::rsa("k1");
    let e = run(&p, &k1.token()).await.unwrap_err();
    assert_eq!(e.status(), http::StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        e.to_string(),
        "identity provider unavailable: the token signing keys (JWKS) could not be fetched"
    );
    let idp = TestServer::start(|_| Reply::status(503)).await;
    let (p, _) = policy_with(&idp.url("/jwks"), Duration::from_secs(30));
    let e = run(&p, &k1.token()).await.unwrap_err();
    assert_eq!(e.code(), "identity_provider_unavailable");
}

#[tokio::test]
async fn the_set_is_refreshed_in_the_background() {
    let k1 = Signer::rsa("k1");
    let body = set(&[&k1]);
    let idp = TestServer::start(move |_| Reply::json(body.clone())).await;
    let url = idp.url("/jwks");
    let caches = TokenCaches::default();
    let p = Jwt::new(
        &JwtSpec {
            jwks_refresh: sy_config::DurationSpec::from_secs(1),
            ..jwks_spec(&url)
        },
        directory(),
        &caches,
    )
    .unwrap();
    // Built inside a runtime: the task fetched before any request.
    assert!(idp.wait_hits(1, Duration::from_secs(5)).await);
    assert!(
        idp.wait_hits(2, Duration::from_secs(5)).await,
        "refetched after 1s"
    );
    // A reload with the same provider shares the cache.
    let again = Jwt::new(
        &JwtSpec {
            jwks_refresh: sy_config::DurationSpec::from_secs(1),
            ..jwks_spec(&url)
        },
        directory(),
        &caches,
    )
    .unwrap();
    assert!(Arc::ptr_eq(
        p.jwks.as_ref().unwrap(),
        again.jwks.as_ref().unwrap()
    ));
    // The task holds the cache weakly: dropping the policies frees it.
    let weak = Arc::downgrade(p.jwks.as_ref().unwrap());
    drop((p, again));
    let gone = async {
        while weak.upgrade().is_some() {
            tokio::task::yield_now().await;
        }
    };
    assert!(
        tokio::time::timeout(Duration::from_secs(6), gone)
            .await
            .is_ok()
    );
}

#[tokio::test(start_paused = true)]
async fn the_throttle_opens_once_per_window() {
    let t = Throttle::new(Duration::from_secs(30));
    assert!(t.try_pass());
    assert!(!t.try_pass());
    tokio::time::advance(Duration::from_secs(29)).await;
    assert!(!t.try_pass());
    tokio::time::advance(Duration::from_secs(1)).await;
    assert!(t.try_pass());
    assert!(!t.try_pass());
}

#[test]
fn only_usable_signature_keys_are_kept() {
    let rsa = Signer::rsa("r").jwk;
    let ec = Signer::ec("e").jwk;
    let mut enc = ec.clone();
    enc["use"] = json!("enc");
    enc["kid"] = json!("enc");
    let doc = json!({"keys": [
        rsa,
        ec,
        enc,
        {"kty": "oct", "k": "c2VjcmV0", "kid": "sym"},
        {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA", "kid": "p384"},
        {"kty": "OKP", "crv": "X25519", "x": "AA", "kid": "x"},
        {"kty": "weird"},
        "not an object",
    ]});
    let set = parse_jwks(doc.to_string().as_bytes()).unwrap();
    let kids: Vec<_> = set.keys.iter().map(|k| k.kid.as_deref().unwrap()).collect();
    assert_eq!(kids, ["r", "e"]);
    assert_eq!(set.keys[0].alg, Some(Algorithm::RS256));
    assert!(parse_jwks(b"[]").unwrap_err().contains("no `keys`"));
    assert!(
        parse_jwks(br#"{"keys":[{"kty":"oct","k":"AA"}]}"#)
            .unwrap_err()
            .contains("none of the 1")
    );
}
