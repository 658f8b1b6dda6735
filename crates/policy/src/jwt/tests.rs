//! The `jwt` policy with static keys: every accept and refuse path, with
//! real tokens signed here. The RSA pair under `fixtures/` is a throwaway
//! test key (`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`);
//! P-256 keys are generated per test with rcgen.

use std::collections::HashSet;
use std::sync::Arc;

use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::{Value, json};
use sy_config::{DurationSpec, JwtAlgorithmSpec, JwtSpec};

use super::*;
use crate::consumer::{Catalog, Consumer, Grants, StaticDirectory};
use crate::test_util::{ctx_from, parts};

pub(crate) const RSA_PRIVATE: &str = include_str!("fixtures/rsa_private.pem");
pub(crate) const RSA_PUBLIC: &str = include_str!("fixtures/rsa_public.pem");
pub(crate) const SECRET: &str = "0123456789abcdef0123456789abcdef";

/// Consumers `app` (open) and `gated` (route `api` needs a product it lacks).
pub(crate) fn directory() -> Arc<dyn ConsumerDirectory> {
    let mut catalog = Catalog::default();
    catalog
        .routes
        .insert(Arc::from("api"), vec![Arc::from("premium")]);
    let gated = Consumer {
        grants: Arc::new(Grants {
            catalog: Arc::new(catalog),
            subscriptions: Default::default(),
            ..Grants::default()
        }),
        ..Consumer::unrestricted("gated", "gated", None)
    };
    Arc::new(
        StaticDirectory::default()
            .with_consumers([Consumer::unrestricted("app", "app", None), gated]),
    )
}

pub(crate) fn spec() -> JwtSpec {
    JwtSpec {
        algorithms: vec![],
        secret: None,
        public_keys: vec![],
        jwks_url: None,
        jwks_refresh: DurationSpec::from_secs(600),
        issuer: None,
        audiences: vec![],
        leeway: DurationSpec::from_secs(30),
        require_exp: true,
        consumer_claim: "sub".into(),
        header: None,
        query_param: None,
    }
}

fn hs_spec() -> JwtSpec {
    JwtSpec {
        secret: Some(SECRET.into()),
        ..spec()
    }
}

pub(crate) fn now() -> i64 {
    i64::try_from(crate::introspect::unix_now()).unwrap()
}

/// Claims for consumer `app`, valid for an hour, merged with `extra`.
pub(crate) fn claims(extra: Value) -> Value {
    let mut c = json!({ "sub": "app", "exp": now() + 3600, "iat": now() });
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

pub(crate) fn sign(alg: Algorithm, kid: Option<&str>, claims: &Value, key: &EncodingKey) -> String {
    let mut h = Header::new(alg);
    h.kid = kid.map(str::to_owned);
    encode(&h, claims, key).unwrap()
}

fn hs(claims: &Value) -> String {
    sign(
        Algorithm::HS256,
        None,
        claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
}

/// A fresh P-256 key: (PKCS#8 private PEM, SPKI public PEM, raw public point).
pub(crate) fn p256() -> (String, String, Vec<u8>) {
    let kp = rcgen::KeyPair::generate().unwrap();
    (
        kp.serialize_pem(),
        kp.public_key_pem(),
        kp.public_key_raw().to_vec(),
    )
}

pub(crate) fn policy(spec: &JwtSpec) -> Jwt {
    Jwt::new(spec, directory(), &TokenCaches::default()).unwrap()
}

/// Run `p` on a request carrying `Authorization: Bearer <token>`.
pub(crate) async fn run(p: &Jwt, token: &str) -> Result<RequestContext, PolicyError> {
    let auth = format!("Bearer {token}");
    let mut req = parts("GET", "/x", &[("authorization", &auth)]);
    let mut ctx = ctx_from("10.0.0.1");
    match p.on_request(&mut req, &mut ctx).await? {
        Flow::Continue => {}
        Flow::Respond(_) => panic!("jwt never answers by itself"),
    }
    assert!(
        req.headers.get("authorization").is_none(),
        "token forwarded"
    );
    Ok(ctx)
}

/// The 401 message for `token`, checking it never echoes the token.
pub(crate) async fn refused(p: &Jwt, token: &str) -> String {
    let e = run(p, token).await.unwrap_err();
    let msg = e.to_string();
    assert_eq!(e.status(), http::StatusCode::UNAUTHORIZED, "{msg}");
    assert!(!msg.contains(token), "the message echoes the token: {msg}");
    msg
}

#[tokio::test]
async fn hs256_token_sets_the_consumer() {
    let p = policy(&hs_spec());
    let ctx = run(&p, &hs(&claims(json!({})))).await.unwrap();
    assert_eq!(ctx.consumer.unwrap().name.as_ref(), "app");
}

#[tokio::test]
async fn missing_and_malformed_tokens() {
    let p = policy(&hs_spec());
    let mut req = parts("GET", "/", &[]);
    let e = p
        .on_request(&mut req, &mut ctx_from("10.0.0.1"))
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), MISSING_TOKEN);
    for bad in ["abc", "a.b", "a.b.c.d", "!!!.e30.sig", "e30.e30.sig"] {
        let msg = refused(&p, bad).await;
        assert!(
            msg.starts_with("invalid token: malformed") || msg.contains("no `alg`"),
            "{bad}: {msg}"
        );
    }
    // A good header over a payload that is not JSON.
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256"}"#);
    let msg = refused(&p, &format!("{header}.bm90IGpzb24.c2ln")).await;
    assert!(msg.starts_with("invalid token: "), "{msg}");
}

#[tokio::test]
async fn unsigned_tokens_are_refused() {
    let p = policy(&hs_spec());
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims(json!({})).to_string());
    for token in [format!("{header}.{body}."), format!("{header}.{body}.c2ln")] {
        let msg = refused(&p, &token).await;
        assert_eq!(
            msg,
            "invalid token: unsigned tokens (`alg: none`) are not accepted"
        );
    }
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"NONE"}"#);
    assert!(
        refused(&p, &format!("{header}.{body}."))
            .await
            .contains("alg: none")
    );
}

#[tokio::test]
async fn algorithms_outside_the_list_are_refused() {
    let (es_private, _, _) = p256();
    let es = sign(
        Algorithm::ES256,
        None,
        &claims(json!({})),
        &EncodingKey::from_ec_pem(es_private.as_bytes()).unwrap(),
    );
    let msg = refused(&policy(&hs_spec()), &es).await;
    assert_eq!(
        msg,
        "invalid token: algorithm `ES256` is not accepted (accepted: HS256)"
    );

    // Listed explicitly: the RSA key would allow ES256 too, but only RS256 is listed.
    let only_rs = JwtSpec {
        public_keys: vec![RSA_PUBLIC.into()],
        algorithms: vec![JwtAlgorithmSpec::Rs256],
        ..spec()
    };
    let msg = refused(&policy(&only_rs), &es).await;
    assert!(
        msg.contains("`ES256` is not accepted (accepted: RS256)"),
        "{msg}"
    );
    let hs384 = sign(
        Algorithm::HS384,
        None,
        &claims(json!({})),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    );
    assert!(
        refused(&policy(&hs_spec()), &hs384)
            .await
            .contains("`HS384` is not accepted")
    );
}

#[tokio::test]
async fn bad_signatures_are_refused() {
    let p = policy(&hs_spec());
    let other = sign(
        Algorithm::HS256,
        None,
        &claims(json!({})),
        &EncodingKey::from_secret(b"another-secret-another-secret-xx"),
    );
    assert_eq!(refused(&p, &other).await, "invalid token: bad signature");
    // A good token with its payload swapped.
    let good = hs(&claims(json!({})));
    let forged_body = URL_SAFE_NO_PAD.encode(claims(json!({"sub": "gated"})).to_string());
    let mut parts = good.split('.');
    let forged = format!(
        "{}.{forged_body}.{}",
        parts.next().unwrap(),
        parts.nth(1).unwrap()
    );
    assert_eq!(refused(&p, &forged).await, "invalid token: bad signature");
}

#[tokio::test]
async fn rs256_and_es256_with_pem_keys() {
    let (es_private, es_public, _) = p256();
    let p = policy(&JwtSpec {
        public_keys: vec![RSA_PUBLIC.into(), es_public],
        ..spec()
    });
    let rs = sign(
        Algorithm::RS256,
        None,
        &claims(json!({})),
        &EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap(),
    );
    assert_eq!(
        run(&p, &rs).await.unwrap().consumer.unwrap().name.as_ref(),
        "app"
    );
    let es = sign(
        Algorithm::ES256,
        None,
        &claims(json!({})),
        &EncodingKey::from_ec_pem(es_private.as_bytes()).unwrap(),
    );
    assert!(run(&p, &es).await.is_ok());
    // An ES256 token from another key.
    let (other, _, _) = p256();
    let es = sign(
        Algorithm::ES256,
        None,
        &claims(json!({})),
        &EncodingKey::from_ec_pem(other.as_bytes()).unwrap(),
    );
    assert_eq!(refused(&p, &es).await, "invalid token: bad signature");
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    // The classic confusion: the attacker uses the (public) RSA key as an
    // HMAC secret and claims HS256.
    let forged = sign(
        Algorithm::HS256,
        None,
        &claims(json!({})),
        &EncodingKey::from_secret(RSA_PUBLIC.as_bytes()),
    );
    let rsa_only = policy(&JwtSpec {
        public_keys: vec![RSA_PUBLIC.into()],
        ..spec()
    });
    let msg = refused(&rsa_only, &forged).await;
    assert!(
        msg.contains("`HS256` is not accepted (accepted: RS256, ES256)"),
        "{msg}"
    );
    // Even where HS256 is accepted, only the configured secret verifies it.
    let both = policy(&JwtSpec {
        public_keys: vec![RSA_PUBLIC.into()],
        secret: Some(SECRET.into()),
        ..spec()
    });
    assert_eq!(
        refused(&both, &forged).await,
        "invalid token: bad signature"
    );
}

#[tokio::test]
async fn expiry_and_not_before_with_leeway() {
    let p = policy(&hs_spec());
    assert!(
        run(&p, &hs(&claims(json!({"exp": now() - 10}))))
            .await
            .is_ok(),
        "within leeway"
    );
    assert_eq!(
        refused(&p, &hs(&claims(json!({"exp": now() - 120})))).await,
        "invalid token: expired"
    );
    assert!(
        run(&p, &hs(&claims(json!({"nbf": now() + 10}))))
            .await
            .is_ok(),
        "within leeway"
    );
    assert_eq!(
        refused(&p, &hs(&claims(json!({"nbf": now() + 120})))).await,
        "invalid token: not yet valid (`nbf` is in the future)"
    );
    let strict = policy(&JwtSpec {
        leeway: DurationSpec::from_secs(0),
        ..hs_spec()
    });
    assert_eq!(
        refused(&strict, &hs(&claims(json!({"exp": now() - 10})))).await,
        "invalid token: expired"
    );
}

#[tokio::test]
async fn exp_is_required_unless_configured_otherwise() {
    let forever = hs(&claims(json!({"exp": null})));
    assert_eq!(
        refused(&policy(&hs_spec()), &forever).await,
        "invalid token: no `exp` claim (it must expire)"
    );
    let lax = policy(&JwtSpec {
        require_exp: false,
        ..hs_spec()
    });
    assert!(run(&lax, &forever).await.is_ok());
    // A claim of the wrong type is not "absent" (CVE-2026-25537).
    let typed = hs(&claims(json!({"exp": "never"})));
    assert_eq!(
        refused(&lax, &typed).await,
        "invalid token: `exp` is not a number"
    );
    let nbf = hs(&claims(json!({"nbf": "later"})));
    assert_eq!(
        refused(&lax, &nbf).await,
        "invalid token: `nbf` is not a number"
    );
}

#[tokio::test]
async fn issuer_and_audience() {
    let p = policy(&JwtSpec {
        issuer: Some("https://idp.example".into()),
        audiences: vec!["gateway".into(), "api".into()],
        ..hs_spec()
    });
    let ok = json!({"iss": "https://idp.example", "aud": ["other", "api"]});
    assert!(run(&p, &hs(&claims(ok))).await.is_ok());
    let ok = json!({"iss": "https://idp.example", "aud": "gateway"});
    assert!(run(&p, &hs(&claims(ok))).await.is_ok());
    let cases = [
        (
            json!({"iss": "https://evil.example", "aud": "api"}),
            "invalid token: wrong issuer",
        ),
        (
            json!({"aud": "api"}),
            "invalid token: no `iss` claim (wrong issuer)",
        ),
        (
            json!({"iss": "https://idp.example", "aud": "other"}),
            "invalid token: wrong audience",
        ),
        (
            json!({"iss": "https://idp.example"}),
            "invalid token: no `aud` claim (wrong audience)",
        ),
    ];
    for (extra, want) in cases {
        assert_eq!(
            refused(&p, &hs(&claims(extra.clone()))).await,
            want,
            "{extra}"
        );
    }
    // Without `audiences`, a token's `aud` is not checked.
    let any = hs(&claims(json!({"aud": "whatever"})));
    assert!(run(&policy(&hs_spec()), &any).await.is_ok());
}

#[tokio::test]
async fn the_consumer_claim_names_a_known_consumer() {
    let nested = policy(&JwtSpec {
        consumer_claim: "app.id".into(),
        ..hs_spec()
    });
    let ctx = run(
        &nested,
        &hs(&claims(json!({"sub": "x", "app": {"id": "app"}}))),
    )
    .await
    .unwrap();
    assert_eq!(ctx.consumer.unwrap().id.as_ref(), "app");
    assert_eq!(
        refused(&nested, &hs(&claims(json!({"app": {"id": 7}})))).await,
        "invalid token: claim `app.id` names no known consumer"
    );
    assert_eq!(
        refused(&nested, &hs(&claims(json!({"app": "flat"})))).await,
        "invalid token: claim `app.id` is missing or not a string"
    );
    let p = policy(&hs_spec());
    let msg = refused(&p, &hs(&claims(json!({"sub": "mallory-secret-id"})))).await;
    assert_eq!(msg, "invalid token: claim `sub` names no known consumer");
    assert_eq!(
        refused(&p, &hs(&claims(json!({"sub": null})))).await,
        "invalid token: claim `sub` is missing or not a string"
    );
}

#[tokio::test]
async fn the_route_gate_applies_as_for_key_auth() {
    let e = run(&policy(&hs_spec()), &hs(&claims(json!({"sub": "gated"}))))
        .await
        .unwrap_err();
    assert_eq!(e.status(), http::StatusCode::FORBIDDEN);
    assert!(e.to_string().contains("product `premium`"), "{e}");
}

#[tokio::test]
async fn header_and_query_sources_are_scrubbed() {
    let p = policy(&JwtSpec {
        header: Some("x-token".into()),
        query_param: Some("jwt".into()),
        ..hs_spec()
    });
    let token = hs(&claims(json!({})));
    let mut req = parts("GET", "/x?a=1", &[("x-token", &token)]);
    let mut ctx = ctx_from("10.0.0.1");
    p.on_request(&mut req, &mut ctx).await.unwrap();
    assert!(req.headers.get("x-token").is_none());
    assert!(ctx.consumer.is_some());

    let mut req = parts("GET", &format!("/x?jwt={token}&a=1"), &[]);
    let mut ctx = ctx_from("10.0.0.1");
    p.on_request(&mut req, &mut ctx).await.unwrap();
    assert_eq!(req.uri, "/x?a=1");
    assert!(ctx.consumer.is_some());
}

#[tokio::test]
async fn critical_header_extensions_are_refused() {
    let mut h = Header::new(Algorithm::HS256);
    h.crit = Some(vec!["exp-ext".into()]);
    let token = encode(
        &h,
        &claims(json!({})),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let msg = refused(&policy(&hs_spec()), &token).await;
    assert_eq!(
        msg,
        "invalid token: critical header extensions are not supported"
    );
}

#[test]
fn construction_reports_bad_keys_and_unusable_algorithms() {
    let errors = Jwt::new(
        &JwtSpec {
            public_keys: vec!["-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----".into()],
            algorithms: vec![JwtAlgorithmSpec::Hs256],
            ..spec()
        },
        directory(),
        &TokenCaches::default(),
    )
    .unwrap_err();
    assert_eq!(
        errors,
        [
            "jwt: public_keys[0] is not an RSA or EC public key in PEM",
            "jwt: HS256 is accepted but no key can verify it",
        ]
    );
    let errors = Jwt::new(&spec(), directory(), &TokenCaches::default()).unwrap_err();
    assert_eq!(
        errors,
        ["jwt: no key source (`secret`, `public_keys` or `jwks_url`)"]
    );
    // Defaults follow the keys.
    let p = policy(&hs_spec());
    let algs: HashSet<Algorithm> = p.accepted.iter().map(|(a, _)| *a).collect();
    assert_eq!(algs, HashSet::from([Algorithm::HS256]));
    assert!(!format!("{p:?}").contains(SECRET));
}
