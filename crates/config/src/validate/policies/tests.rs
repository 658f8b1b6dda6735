//! Token authentication rules (`jwt`, `oauth2_introspection`): each fails
//! on a small config, checked by key path, position and message.

use crate::{ConfigError, load_str};

const SECRET: &str = "0123456789abcdef0123456789abcdef";

fn env(name: &str) -> Option<String> {
    match name {
        "JWT_SECRET" => Some(SECRET.into()),
        "IDP_SECRET" => Some("s3cret".into()),
        _ => None,
    }
}

/// A route `r` to an upstream with the given policy lines, and one consumer.
fn policies(lines: &str) -> String {
    format!(
        "upstreams:\n  - name: api\n    targets:\n      - url: http://127.0.0.1:9000\n\
         consumers:\n  - name: app\nroutes:\n  - name: r\n    target: {{ upstream: api }}\n    policies:\n{lines}"
    )
}

fn errors(yaml: &str) -> Vec<ConfigError> {
    match load_str(yaml, "test.yaml", &env) {
        Ok(_) => panic!("expected errors, the config loaded:\n{yaml}"),
        Err(e) => e.0,
    }
}

/// 1-based line and column of `needle`.
fn pos(yaml: &str, needle: &str) -> (usize, usize) {
    let at = yaml.find(needle).unwrap();
    let before = &yaml[..at];
    (
        before.matches('\n').count() + 1,
        before.rsplit('\n').next().unwrap_or("").chars().count() + 1,
    )
}

/// Exactly one error, at `path`, placed on `needle`'s line, whose message
/// contains `fragment`. (A mapping's position is its first entry's.)
fn expect_only(yaml: &str, path: &str, needle: &str, fragment: &str) {
    let errs = errors(yaml);
    assert_eq!(errs.len(), 1, "{errs:?}");
    let e = &errs[0];
    assert_eq!(e.path, path, "{e}");
    assert_eq!(e.line, pos(yaml, needle).0, "{e}");
    assert!(e.message.contains(fragment), "{e}");
}

#[test]
fn full_configs_load_with_defaults() {
    let yaml = policies(
        "      jwt:\n        secret: ${JWT_SECRET}\n        jwks_url: https://idp.example/jwks.json\n",
    );
    let spec = load_str(&yaml, "test.yaml", &env).unwrap();
    let jwt = spec.routes[0].policies.jwt.as_ref().unwrap();
    assert_eq!(jwt.secret.as_deref(), Some(SECRET));
    assert_eq!(jwt.consumer_claim, "sub");
    assert_eq!(jwt.leeway.get().as_secs(), 30);
    assert_eq!(jwt.jwks_refresh.get().as_secs(), 600);
    assert!(jwt.require_exp);
    assert!(
        !format!("{jwt:?}").contains(SECRET),
        "Debug leaks the secret"
    );

    let yaml = policies(
        "      oauth2_introspection:\n        url: http://idp:8080/introspect\n        \
         client_id: gateway\n        client_secret: ${IDP_SECRET}\n",
    );
    let spec = load_str(&yaml, "test.yaml", &env).unwrap();
    let i = spec.routes[0]
        .policies
        .oauth2_introspection
        .as_ref()
        .unwrap();
    assert_eq!(i.consumer_claim, "client_id");
    assert_eq!(i.cache_ttl.get().as_secs(), 60);
    assert_eq!(i.timeout.get().as_secs(), 5);
    assert!(
        !format!("{i:?}").contains("s3cret"),
        "Debug leaks the secret"
    );
}

#[test]
fn jwt_needs_a_key_source() {
    let yaml = policies("      jwt:\n        issuer: https://idp.example\n");
    expect_only(
        &yaml,
        "routes[0].policies.jwt",
        "https://idp.example",
        "at least one key source",
    );
}

#[test]
fn jwt_algorithm_needs_its_key() {
    let yaml =
        policies("      jwt:\n        secret: ${JWT_SECRET}\n        algorithms: [HS256, RS256]\n");
    expect_only(
        &yaml,
        "routes[0].policies.jwt.algorithms[1]",
        "RS256",
        "RS256 needs `public_keys` or `jwks_url`",
    );
}

#[test]
fn jwt_unknown_algorithm_is_a_parse_error() {
    let yaml = policies("      jwt:\n        secret: ${JWT_SECRET}\n        algorithms: [none]\n");
    let errs = errors(&yaml);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].message.contains("HS256"), "{}", errs[0]);
}

#[test]
fn jwt_short_secret_bad_url_bad_claim() {
    let yaml = policies(
        "      jwt:\n        secret: short\n        jwks_url: ftp://idp/jwks\n        \
         consumer_claim: app..id\n        public_keys: [not-a-pem]\n",
    );
    let errs = errors(&yaml);
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "routes[0].policies.jwt.secret",
            "routes[0].policies.jwt.jwks_url",
            "routes[0].policies.jwt.consumer_claim",
            "routes[0].policies.jwt.public_keys[0]",
        ]
    );
    assert!(errs[0].message.contains("at least 32 bytes"), "{}", errs[0]);
    assert!(errs[1].message.contains("http://"), "{}", errs[1]);
    assert_eq!((errs[1].line, errs[1].column), pos(&yaml, "ftp://"));
    assert!(errs[3].message.contains("not a PEM key"), "{}", errs[3]);
}

#[test]
fn introspection_fields() {
    let yaml = policies(
        "      oauth2_introspection:\n        url: idp/introspect\n        client_id: 'a:b'\n        \
         client_secret: ''\n        required_scopes: ['read write']\n        timeout: 0s\n",
    );
    let errs = errors(&yaml);
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "routes[0].policies.oauth2_introspection.url",
            "routes[0].policies.oauth2_introspection.client_id",
            "routes[0].policies.oauth2_introspection.client_secret",
            "routes[0].policies.oauth2_introspection.required_scopes[0]",
            "routes[0].policies.oauth2_introspection.timeout",
        ]
    );
    assert_eq!((errs[0].line, errs[0].column), pos(&yaml, "idp/introspect"));
}

#[test]
fn one_authentication_per_route() {
    let yaml = policies("      key_auth: {}\n      jwt:\n        secret: ${JWT_SECRET}\n");
    expect_only(
        &yaml,
        "routes[0].policies.jwt",
        "${JWT_SECRET}",
        "already authenticates with `key_auth`; a route takes at most one of",
    );
}
