//! Route policy rules.

use crate::support::{errors, expect_only, load, with_upstream};

/// A route `r` to upstream `api` with the given policy lines, and one consumer.
fn policies(lines: &str) -> String {
    with_upstream(&format!(
        "consumers:\n  - name: app\n    keys: [{{ key: k-0123456789abcdef }}]\nroutes:\n  - name: r\n    target: {{ upstream: api }}\n    policies:\n{lines}"
    ))
}

#[test]
fn rate_limit_requests_per_and_burst() {
    let yaml = policies("      rate_limits:\n        - { requests: 0, per: 0s, burst: 0 }\n");
    let errs = errors(&yaml);
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "routes[0].policies.rate_limits[0].requests",
            "routes[0].policies.rate_limits[0].per",
            "routes[0].policies.rate_limits[0].burst"
        ]
    );
    assert_eq!(
        (errs[1].line, errs[1].column),
        crate::support::pos(&yaml, "0s")
    );
}

#[test]
fn rate_limit_header_key_is_a_header_name() {
    let yaml = policies(
        "      rate_limits:\n        - { requests: 5, per: 1s, key: { header: 'a b' } }\n",
    );
    expect_only(
        &yaml,
        "routes[0].policies.rate_limits[0].key.header",
        "'a b'",
        "not a valid header name",
    );
}

#[test]
fn cors_credentials_with_any_origin() {
    let yaml =
        policies("      cors:\n        allow_origins: ['*']\n        allow_credentials: true\n");
    expect_only(
        &yaml,
        "routes[0].policies.cors.allow_origins[0]",
        "'*'",
        "cannot be used with `allow_credentials: true`",
    );
}

#[test]
fn cors_origins_are_origins() {
    let yaml = policies("      cors:\n        allow_origins: [https://app.example.com/path]\n");
    expect_only(
        &yaml,
        "routes[0].policies.cors.allow_origins[0]",
        "https://app",
        "without a path",
    );
}

#[test]
fn body_limit_must_be_positive() {
    let yaml = policies("      body_limit: 0\n");
    expect_only(
        &yaml,
        "routes[0].policies.body_limit",
        "body_limit: »0",
        "greater than 0",
    );
}

#[test]
fn key_auth_without_consumers_or_store() {
    let yaml = with_upstream(
        "store: null\nroutes:\n  - name: private\n    target: { upstream: api }\n    policies:\n      key_auth: {}\n",
    );
    expect_only(
        &yaml,
        "routes[0].policies.key_auth",
        "{}",
        "key_auth on route `private` but no consumers are configured (and `store: null`)",
    );
    // With a store, keys can come from the admin API.
    let with_store = with_upstream(
        "routes:\n  - name: private\n    target: { upstream: api }\n    policies:\n      key_auth: {}\n",
    );
    assert!(sy_config::load_str(&with_store, "t", &|_| None).is_ok());
}

#[test]
fn key_auth_consumers_must_exist() {
    let yaml = policies("      key_auth:\n        consumers: [app, other]\n");
    expect_only(
        &yaml,
        "routes[0].policies.key_auth.consumers[1]",
        "other",
        "no consumer named `other`; consumers: `app`",
    );
}

#[test]
fn header_transform_names_and_values() {
    let yaml = policies(
        "      request_headers:\n        remove: ['bad name']\n        set: { x-ok: \"line\\nbreak\" }\n      response_headers:\n        rename: { x-a: 'b c' }\n",
    );
    let errs = errors(&yaml);
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "routes[0].policies.request_headers.remove[0]",
            "routes[0].policies.request_headers.set.x-ok",
            "routes[0].policies.response_headers.rename.x-a",
        ]
    );
    assert!(errs[1].message.contains("not a valid header value"));
    assert_eq!(
        (errs[1].line, errs[1].column),
        crate::support::pos(&yaml, "\"line")
    );
}

#[test]
fn a_full_policy_block_passes() {
    let yaml = policies(
        "      ip: { allow: [10.0.0.0/8], deny: [10.0.0.7] }
      cors: { allow_origins: [https://app.example.com], allow_credentials: true, max_age: 10m }
      key_auth: { consumers: [app] }
      rate_limits: [{ requests: 100, per: 1m, burst: 20, key: consumer }]
      body_limit: 1MiB
      request_headers: { set: { x-gateway: switchyard }, remove: [cookie] }
",
    );
    load(&yaml).unwrap();
}
