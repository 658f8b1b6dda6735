//! Upstream pool rules.

use crate::support::{errors, expect_only, load};

fn pool(extra: &str) -> String {
    format!("upstreams:\n  - name: api\n    targets:\n      - url: https://10.0.0.1:8443\n{extra}")
}

#[test]
fn duplicate_upstream_names() {
    let yaml = "upstreams:\n  - { name: api, targets: [{ url: 'http://a:1' }] }\n  - { name: api, targets: [{ url: 'http://b:1' }] }\n";
    expect_only(
        yaml,
        "upstreams[1].name",
        "api, targets: [{ url: 'http://b",
        "duplicate upstream name `api`",
    );
}

#[test]
fn needs_a_target() {
    let yaml = "upstreams:\n  - name: api\n    targets: []\n";
    expect_only(yaml, "upstreams[0].targets", "[]", "at least one target");
}

#[test]
fn target_url_scheme_path_and_query() {
    let yaml = "upstreams:
  - name: api
    targets:
      - url: ftp://a:21
      - url: http://b:80/api
      - url: http://c?x=1
      - url: http://d
";
    let errs = errors(yaml);
    let got: Vec<(&str, usize)> = errs.iter().map(|e| (e.path.as_str(), e.line)).collect();
    assert_eq!(
        got,
        [
            ("upstreams[0].targets[0].url", 4),
            ("upstreams[0].targets[1].url", 5),
            ("upstreams[0].targets[2].url", 6)
        ]
    );
    assert!(
        errs[0]
            .message
            .contains("must start with `http://` or `https://`")
    );
    assert!(errs[1].message.contains("without a path"));
    assert!(errs[2].message.contains("no query"));
    assert_eq!(errs[0].column, 14);
}

#[test]
fn default_ports_make_duplicates_visible() {
    let yaml = "upstreams:\n  - name: api\n    targets:\n      - url: http://a\n      - url: http://A:80\n";
    expect_only(
        yaml,
        "upstreams[0].targets[1].url",
        "http://A:80",
        "listed twice",
    );
}

#[test]
fn weights_must_not_all_be_zero() {
    let yaml =
        "upstreams:\n  - name: api\n    targets:\n      - { url: 'http://a:1', weight: 0 }\n";
    expect_only(yaml, "upstreams[0].targets", "- { url", "add up to 0");
}

#[test]
fn consistent_hash_needs_hash_on() {
    let yaml = pool("    balance: consistent_hash\n");
    expect_only(
        &yaml,
        "upstreams[0].balance",
        "consistent_hash",
        "needs `hash_on`",
    );
    let ok = pool("    balance: consistent_hash\n    hash_on: { header: x-user }\n");
    load(&ok).unwrap();
}

#[test]
fn hash_on_needs_consistent_hash() {
    let yaml = pool("    balance: round_robin\n    hash_on: client_ip\n");
    expect_only(
        &yaml,
        "upstreams[0].hash_on",
        "client_ip",
        "only with `balance: consistent_hash`",
    );
}

#[test]
fn hash_on_header_must_be_a_header_name() {
    let yaml = pool("    balance: consistent_hash\n    hash_on: { header: 'x user' }\n");
    expect_only(
        &yaml,
        "upstreams[0].hash_on.header",
        "'x user'",
        "not a valid header name",
    );
}

#[test]
fn active_health_path_and_thresholds() {
    let yaml = pool(
        "    health_check:\n      active:\n        path: healthz\n        unhealthy_threshold: 0\n",
    );
    let errs = errors(&yaml);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!(errs[0].path, "upstreams[0].health_check.active.path");
    assert!(errs[0].message.contains("must start with `/`"));
    assert_eq!((errs[0].line, errs[0].column), (7, 15));
    assert_eq!(
        errs[1].path,
        "upstreams[0].health_check.active.unhealthy_threshold"
    );
    assert_eq!((errs[1].line, errs[1].column), (8, 30));
}

#[test]
fn passive_ejection_time_within_max() {
    let yaml =
        pool("    health_check:\n      passive: { ejection_time: 10m, max_ejection_time: 1m }\n");
    expect_only(
        &yaml,
        "upstreams[0].health_check.passive.ejection_time",
        "10m",
        "longer than `max_ejection_time`",
    );
}

#[test]
fn breaker_threshold() {
    let yaml = pool("    circuit_breaker: { failure_threshold: 0 }\n");
    expect_only(
        &yaml,
        "upstreams[0].circuit_breaker.failure_threshold",
        "0 }",
        "at least 1",
    );
}

#[test]
fn retry_budget_backoff_and_statuses() {
    let yaml = pool(
        "    retries:\n      budget_ratio: 1.5\n      backoff_base: 2s\n      backoff_max: 1s\n      on_statuses: [503, 99]\n",
    );
    let errs = errors(&yaml);
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "upstreams[0].retries.budget_ratio",
            "upstreams[0].retries.backoff_base",
            "upstreams[0].retries.on_statuses[1]"
        ]
    );
    assert!(errs[0].message.contains("from 0 to 1"));
    assert_eq!((errs[2].line, errs[2].column), (9, 26));
    assert!(errs[2].message.contains("100 to 599"));
}

#[test]
fn tls_client_cert_needs_key() {
    let yaml = pool("    tls:\n      client_cert_file: /etc/c.pem\n");
    expect_only(
        &yaml,
        "upstreams[0].tls.client_cert_file",
        "/etc/c.pem",
        "needs `client_key_file`",
    );
}

#[test]
fn tls_without_https_targets() {
    let yaml = "upstreams:\n  - name: api\n    targets: [{ url: 'http://a:1' }]\n    tls: { ca_file: /ca.pem }\n";
    expect_only(
        yaml,
        "upstreams[0].tls",
        "{ ca_file",
        "no target uses `https://`",
    );
}

#[test]
fn https_targets_need_no_tls_block() {
    load(&pool("")).unwrap();
}
