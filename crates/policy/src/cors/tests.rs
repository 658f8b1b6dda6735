use http::StatusCode;
use sy_config::DurationSpec;

use super::*;
use crate::test_util::{ctx_from, parts, response};

fn spec(origins: &[&str]) -> CorsSpec {
    CorsSpec {
        allow_origins: origins.iter().map(|s| s.to_string()).collect(),
        allow_methods: vec!["GET".into(), "POST".into(), "delete".into()],
        allow_headers: vec!["Authorization".into(), "Content-Type".into()],
        expose_headers: vec!["RateLimit-Remaining".into()],
        allow_credentials: false,
        max_age: Some(DurationSpec::from_secs(600)),
    }
}

fn preflight_req(origin: &str, method: &str, headers: &str) -> http::request::Parts {
    parts(
        "OPTIONS",
        "/v1/chat",
        &[
            ("origin", origin),
            ("access-control-request-method", method),
            ("access-control-request-headers", headers),
        ],
    )
}

async fn run(
    c: &Cors,
    req: &mut http::request::Parts,
    ctx: &mut RequestContext,
) -> Result<Flow, PolicyError> {
    c.on_request(req, ctx).await
}

#[tokio::test]
async fn preflight_is_answered_with_204_and_allow_headers() {
    let c = Cors::new(&spec(&["https://app.example.com"])).unwrap();
    let mut req = preflight_req(
        "https://app.example.com",
        "DELETE",
        "authorization, content-type",
    );
    let mut ctx = ctx_from("10.0.0.1");
    let Flow::Respond(res) = run(&c, &mut req, &mut ctx).await.unwrap() else {
        panic!("a preflight must be answered by the gateway");
    };
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let h = res.headers();
    assert_eq!(h[ACCESS_CONTROL_ALLOW_ORIGIN], "https://app.example.com");
    assert_eq!(h[ACCESS_CONTROL_ALLOW_METHODS], "GET, POST, DELETE");
    assert_eq!(
        h[ACCESS_CONTROL_ALLOW_HEADERS],
        "Authorization, Content-Type"
    );
    assert_eq!(h[ACCESS_CONTROL_MAX_AGE], "600");
    assert!(h.get(ACCESS_CONTROL_ALLOW_CREDENTIALS).is_none());
    assert!(h[VARY].to_str().unwrap().contains("Origin"));
}

#[tokio::test]
async fn preflight_from_unknown_origin_is_forbidden() {
    let c = Cors::new(&spec(&["https://app.example.com"])).unwrap();
    let mut req = preflight_req("https://evil.example.com", "GET", "");
    let err = run(&c, &mut req, &mut ctx_from("10.0.0.1"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    assert_eq!(err.to_string(), "CORS preflight: origin is not allowed");
}

#[tokio::test]
async fn preflight_checks_method_and_headers() {
    let c = Cors::new(&spec(&["https://app.example.com"])).unwrap();
    let mut req = preflight_req("https://app.example.com", "PUT", "");
    let err = run(&c, &mut req, &mut ctx_from("10.0.0.1"))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "CORS preflight: method PUT is not allowed");

    let mut req = preflight_req("https://app.example.com", "POST", "x-secret");
    let err = run(&c, &mut req, &mut ctx_from("10.0.0.1"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "CORS preflight: header `x-secret` is not allowed"
    );
}

#[tokio::test]
async fn wildcard_headers_and_methods_echo_the_request() {
    let mut s = spec(&["https://app.example.com"]);
    s.allow_methods = vec!["*".into()];
    s.allow_headers = vec!["*".into()];
    let c = Cors::new(&s).unwrap();
    let mut req = preflight_req("https://app.example.com", "PATCH", "x-anything");
    let Flow::Respond(res) = run(&c, &mut req, &mut ctx_from("10.0.0.1")).await.unwrap() else {
        panic!("expected a preflight answer");
    };
    assert_eq!(res.headers()[ACCESS_CONTROL_ALLOW_METHODS], "PATCH");
    assert_eq!(res.headers()[ACCESS_CONTROL_ALLOW_HEADERS], "x-anything");
}

#[tokio::test]
async fn options_without_request_method_is_not_a_preflight() {
    let c = Cors::new(&spec(&["https://app.example.com"])).unwrap();
    let mut req = parts("OPTIONS", "/", &[("origin", "https://app.example.com")]);
    assert!(matches!(
        run(&c, &mut req, &mut ctx_from("10.0.0.1")).await.unwrap(),
        Flow::Continue
    ));
}

#[tokio::test]
async fn actual_request_gets_headers_on_response() {
    let mut s = spec(&["https://app.example.com"]);
    s.allow_credentials = true;
    let c = Cors::new(&s).unwrap();
    // Scheme and host case and the default port do not matter.
    let mut req = parts(
        "POST",
        "/v1/chat",
        &[("origin", "https://APP.example.com:443")],
    );
    let mut ctx = ctx_from("10.0.0.1");
    assert!(matches!(
        run(&c, &mut req, &mut ctx).await.unwrap(),
        Flow::Continue
    ));
    let mut res = response(&[
        ("vary", "Accept-Encoding"),
        ("access-control-allow-origin", "*"),
    ]);
    c.on_response(&mut res, &ctx);
    assert_eq!(
        res.headers[ACCESS_CONTROL_ALLOW_ORIGIN], "https://APP.example.com:443",
        "the origin is echoed verbatim"
    );
    assert_eq!(
        res.headers
            .get_all(ACCESS_CONTROL_ALLOW_ORIGIN)
            .iter()
            .count(),
        1
    );
    assert_eq!(res.headers[ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
    assert_eq!(
        res.headers[ACCESS_CONTROL_EXPOSE_HEADERS],
        "RateLimit-Remaining"
    );
    let vary: Vec<_> = res.headers.get_all(VARY).iter().collect();
    assert_eq!(vary, ["Accept-Encoding", "Origin"]);
}

#[tokio::test]
async fn disallowed_origin_gets_no_cors_headers_but_passes() {
    let c = Cors::new(&spec(&["https://app.example.com"])).unwrap();
    for origin in [
        "https://app.example.com:8443",
        "http://app.example.com",
        "null",
        "https://app.example.com.evil.io",
    ] {
        let mut req = parts("GET", "/", &[("origin", origin)]);
        let mut ctx = ctx_from("10.0.0.1");
        assert!(matches!(
            run(&c, &mut req, &mut ctx).await.unwrap(),
            Flow::Continue
        ));
        let mut res = response(&[("access-control-allow-origin", "*")]);
        c.on_response(&mut res, &ctx);
        assert!(
            res.headers.get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none(),
            "{origin} must not be allowed"
        );
        assert_eq!(res.headers[VARY], "Origin");
    }
}

#[tokio::test]
async fn star_without_credentials_answers_star() {
    let c = Cors::new(&spec(&["*"])).unwrap();
    let mut req = parts("GET", "/", &[("origin", "https://anyone.example")]);
    let mut ctx = ctx_from("10.0.0.1");
    run(&c, &mut req, &mut ctx).await.unwrap();
    let mut res = response(&[]);
    c.on_response(&mut res, &ctx);
    assert_eq!(res.headers[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    assert!(
        res.headers.get(VARY).is_none(),
        "a `*` answer does not vary by origin"
    );
}

#[tokio::test]
async fn preflight_answer_is_left_alone_on_response() {
    let c = Cors::new(&spec(&["https://app.example.com"])).unwrap();
    let mut req = preflight_req("https://app.example.com", "GET", "");
    let mut ctx = ctx_from("10.0.0.1");
    let Flow::Respond(res) = run(&c, &mut req, &mut ctx).await.unwrap() else {
        panic!("expected a preflight answer");
    };
    let (mut parts, _) = res.into_parts();
    c.on_response(&mut parts, &ctx);
    assert_eq!(parts.headers.get_all(VARY).iter().count(), 1);
    assert!(parts.headers.get(ACCESS_CONTROL_EXPOSE_HEADERS).is_none());
}

#[test]
fn bad_config_is_reported_in_full() {
    let mut s = spec(&["*", "ftp//x"]);
    s.allow_credentials = true;
    s.allow_methods = vec!["GE T".into()];
    let errors = Cors::new(&s).unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].contains("allow_credentials"));
    assert!(errors[1].contains("`GE T` is not an HTTP method"));

    let errors = Cors::new(&spec(&["https://a.example/path", "app.example.com"])).unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
}

#[test]
fn origins_normalize() {
    assert_eq!(
        normalize_origin("HTTPS://A.Example:443").as_deref(),
        Some("https://a.example")
    );
    assert_eq!(
        normalize_origin("http://a.example:8080").as_deref(),
        Some("http://a.example:8080")
    );
    assert_eq!(
        normalize_origin("http://[::1]:3000").as_deref(),
        Some("http://[::1]:3000")
    );
    assert_eq!(normalize_origin("https://user@a.example"), None);
    assert_eq!(normalize_origin("null"), None);
}
