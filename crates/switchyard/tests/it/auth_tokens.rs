//! Token authentication seen from a client: `jwt` with a shared secret and
//! with a JWKS, and `oauth2_introspection`, against a real gateway and a
//! small identity provider on loopback. Good tokens reach the upstream as
//! the consumer, without the token; bad ones get the exact 401 bodies.
//!
//! The tokens are fixed strings (this crate does not sign JWTs): HS256 with
//! [`SECRET`], and RS256 with the policy crate's throwaway test key
//! (`crates/policy/src/jwt/fixtures/rsa_private.pem`), whose public half is
//! [`JWKS`]. Good tokens expire in 2100.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use sy_testkit::{MockHandle, MockOptions, MockUpstream};
use tokio::net::TcpListener;

use crate::harness::{TestGateway, client, error_json};

const SECRET: &str = "e2e-secret-0123456789abcdef-0123";
/// `{"sub":"alice","iss":"https://idp.test","exp":4102444800}`.
const GOOD: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaWRwLnRlc3QiLCJleHAiOjQxMDI0NDQ4MDB9.SqNW9MB5HvdklzvzPJj8SDCktFNKTp54Zbt7Hcs4BJs";
/// Same, `exp` in 2001.
const EXPIRED: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaWRwLnRlc3QiLCJleHAiOjEwMDAwMDAwMDB9.wMZvFcQbZitIyHbrJ-fap88NTk7FjCSAxeqXnqc8Eas";
/// `GOOD`'s claims signed with another secret.
const OTHER_SECRET: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaWRwLnRlc3QiLCJleHAiOjQxMDI0NDQ4MDB9.eaRlpYV0dRmycWdUqiuQUC8aFMaoK7ph5-LPkuoKOxY";
/// `sub: mallory`, not a consumer.
const UNKNOWN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJtYWxsb3J5IiwiaXNzIjoiaHR0cHM6Ly9pZHAudGVzdCIsImV4cCI6NDEwMjQ0NDgwMH0.A3Td1N6lbmdrfJeOGQlzO9expSvnpr81AvdP8vDsaIw";
/// `iss: https://evil.test`.
const WRONG_ISS: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vZXZpbC50ZXN0IiwiZXhwIjo0MTAyNDQ0ODAwfQ.FUtHcsBPbkNcx9FCyb7o8Z_7VUcQwIa0AVRWnwF1Xw4";
/// RS256, `kid: k1`, `{"sub":"alice","exp":4102444800}`.
const RS_GOOD: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSIsImV4cCI6NDEwMjQ0NDgwMH0.clcNn9Vo_mKg_sOX_j0xRKnpQsCuh_NKqH8f553_aGeERTm1nsMx4Yr_ldhUomFy-a69Y2sotNJeVPmb0W1cDyl6CyXe8Br8M02-3ow8mn7d_kvvRKYIg3LS_BSb4M35_n8Sdt0x331dLsJUMwIGUSspY9bcbr1P8f4tNCD3IpnY0yv3PQI6p3nmcHPwqvFgq3BfMkMv2LqeDwA71IT7J8Dg-9rzIq3gWTQm_osEFGtRbEDyOEn1-nojveR3Ij-UXmsA4W2GFdjZk3AuTZI9RKBFqotZCf2nPH2exvvAGXDuoAE-IkwLsPp5PGPs0ymsU-FDhz4ZGhBSpxDfhvWWTg";
const JWKS: &str = r#"{"keys": [{"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig", "n": "7rd3xeITJ36HmOYljuvxvsaJqfWCrjlnlPDVPZxKxUPaCtKXTrFROtPY8GImbVyv4HtNpQIEfJvcAMllZpZQMoqRIfW1q_ewy0JZ5MA_H3Qrqb8z_JBho7Y9QMopCB5DNVVX3R98udJgxXHyBzMOoE017hYWW7nTxCxxm8x5PK1ZxmvI1bffYDfpZi_YckaqPfXe4Aa3dQXNu1y6Sz7d9CMVVT146qye9DFeeR7qFAzqhrGY2DZ5AyqwGOVzuYDjMwYtlQWTL1lLRIxh1TCKvoZ6zhh1GItriWXRkLwxUsFEit7PMSgsFNVOIDXQNosN6psbLVvPtNg8BX5_uAPBzQ", "e": "AQAB"}]}"#;

/// An identity provider: `GET /jwks` serves [`JWKS`]; `POST /introspect`
/// knows `opaque-alice` (scopes `chat models`) and `opaque-bob` (scope
/// `models`), everything else is inactive. Counts calls, keeps the last
/// `Authorization` it was sent.
struct Idp {
    base: String,
    introspections: Arc<AtomicUsize>,
    last_auth: Arc<Mutex<Option<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Idp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Idp {
    async fn start() -> Idp {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let introspections = Arc::new(AtomicUsize::new(0));
        let last_auth = Arc::new(Mutex::new(None));
        let (count, auth) = (introspections.clone(), last_auth.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (count, auth) = (count.clone(), auth.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let (count, auth) = (count.clone(), auth.clone());
                        async move {
                            let path = req.uri().path().to_owned();
                            *auth.lock().unwrap() = req
                                .headers()
                                .get("authorization")
                                .map(|v| v.to_str().unwrap().to_owned());
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            let body = String::from_utf8_lossy(&body).into_owned();
                            let answer = match path.as_str() {
                                "/jwks" => JWKS.to_owned(),
                                _ => {
                                    count.fetch_add(1, Ordering::SeqCst);
                                    let client = if body.starts_with("token=opaque-alice&") {
                                        r#"{"active":true,"client_id":"alice","scope":"chat models"}"#
                                    } else if body.starts_with("token=opaque-bob&") {
                                        r#"{"active":true,"client_id":"bob","scope":"models"}"#
                                    } else {
                                        r#"{"active":false}"#
                                    };
                                    client.to_owned()
                                }
                            };
                            Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from(answer))))
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Idp {
            base,
            introspections,
            last_auth,
            task,
        }
    }
}

async fn mock() -> MockHandle {
    MockUpstream::start(MockOptions::named("up")).await.unwrap()
}

async fn gateway(up: &MockHandle, idp: &Idp) -> TestGateway {
    gateway_at(up, &idp.base).await
}

/// The gateway with its identity provider at `idp` (a base URL).
async fn gateway_at(up: &MockHandle, idp: &str) -> TestGateway {
    TestGateway::start(&format!(
        r#"
consumers:
  - name: alice
  - name: bob
upstreams:
  - name: up
    targets: [{{ url: "{up}" }}]
routes:
  - name: jwt-hs
    match: {{ path: {{ prefix: /hs }} }}
    rewrite: {{ path: /echo }}
    policies:
      jwt:
        secret: "{SECRET}"
        issuer: https://idp.test
        query_param: access_token
    target: {{ upstream: up }}
  - name: jwt-jwks
    match: {{ path: {{ prefix: /rs }} }}
    rewrite: {{ path: /echo }}
    policies:
      jwt:
        jwks_url: "{idp}/jwks"
        algorithms: [RS256]
    target: {{ upstream: up }}
  - name: opaque
    match: {{ path: {{ prefix: /op }} }}
    rewrite: {{ path: /echo }}
    policies:
      oauth2_introspection:
        url: "{idp}/introspect"
        client_id: gateway
        client_secret: s3cret
        required_scopes: [chat]
    target: {{ upstream: up }}
"#,
        up = up.url(),
    ))
    .await
}

/// 401 with `WWW-Authenticate: Bearer` and exactly `message`.
async fn assert_401(res: reqwest::Response, message: &str) {
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    let json = error_json(res).await;
    assert_eq!(json["error"]["code"], "unauthorized", "{json}");
    assert_eq!(json["error"]["type"], "authentication_error", "{json}");
    assert_eq!(json["error"]["message"], message, "{json}");
}

/// The upstream's echo of a 200, checking no token reached it.
async fn echo(res: reqwest::Response) -> serde_json::Value {
    assert_eq!(res.status(), 200);
    let e: serde_json::Value = res.json().await.unwrap();
    assert!(e["headers"].get("authorization").is_none(), "{e}");
    e
}

#[tokio::test]
async fn jwt_with_a_shared_secret() {
    let (up, idp) = (mock().await, Idp::start().await);
    let gw = gateway(&up, &idp).await;
    let c = client();

    echo(c.get(gw.url("/hs")).bearer_auth(GOOD).send().await.unwrap()).await;
    let e = echo(
        c.get(gw.url(&format!("/hs?a=1&access_token={GOOD}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(e["query"], "a=1", "the query token is scrubbed too");

    let res = c.get(gw.url("/hs")).send().await.unwrap();
    assert_401(res, "missing token: send `Authorization: Bearer <token>`").await;
    let cases = [
        (EXPIRED, "invalid token: expired"),
        (OTHER_SECRET, "invalid token: bad signature"),
        (WRONG_ISS, "invalid token: wrong issuer"),
        (
            UNKNOWN,
            "invalid token: claim `sub` names no known consumer",
        ),
        (
            "not-a-jwt",
            "invalid token: malformed (expected three base64url parts)",
        ),
        (
            RS_GOOD,
            "invalid token: algorithm `RS256` is not accepted (accepted: HS256)",
        ),
    ];
    for (token, message) in cases {
        let res = c
            .get(gw.url("/hs"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_401(res, message).await;
    }
    gw.shutdown().await;
}

#[tokio::test]
async fn jwt_with_a_jwks() {
    let (up, idp) = (mock().await, Idp::start().await);
    let gw = gateway(&up, &idp).await;
    let c = client();
    echo(
        c.get(gw.url("/rs"))
            .bearer_auth(RS_GOOD)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let res = c.get(gw.url("/rs")).bearer_auth(GOOD).send().await.unwrap();
    assert_401(
        res,
        "invalid token: algorithm `HS256` is not accepted (accepted: RS256)",
    )
    .await;
    gw.shutdown().await;
}

#[tokio::test]
async fn oauth2_introspection() {
    let (up, idp) = (mock().await, Idp::start().await);
    let gw = gateway(&up, &idp).await;
    let c = client();

    for _ in 0..3 {
        echo(
            c.get(gw.url("/op"))
                .bearer_auth("opaque-alice")
                .send()
                .await
                .unwrap(),
        )
        .await;
    }
    assert_eq!(
        idp.introspections.load(Ordering::SeqCst),
        1,
        "answers are cached"
    );
    // `gateway:s3cret` in HTTP Basic.
    assert_eq!(
        idp.last_auth.lock().unwrap().as_deref(),
        Some("Basic Z2F0ZXdheTpzM2NyZXQ=")
    );

    let res = c
        .get(gw.url("/op"))
        .bearer_auth("opaque-revoked")
        .send()
        .await
        .unwrap();
    assert_401(
        res,
        "invalid token: not active (expired, revoked or unknown to the identity provider)",
    )
    .await;
    let res = c
        .get(gw.url("/op"))
        .bearer_auth("opaque-bob")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let json = error_json(res).await;
    assert_eq!(
        json["error"]["message"],
        "the token lacks the required scope `chat`"
    );
    gw.shutdown().await;

    // No identity provider: 503, not 401.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let nobody = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let gw = gateway_at(&up, &nobody).await;
    let res = c
        .get(gw.url("/op"))
        .bearer_auth("opaque-carol")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let json = error_json(res).await;
    assert_eq!(
        json["error"]["code"], "identity_provider_unavailable",
        "{json}"
    );
    let message = json["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "identity provider unavailable: the token introspection endpoint request failed"
        ),
        "{message}"
    );
    gw.shutdown().await;
}
