//! Listener and admin rules.

use crate::support::{errors, expect_only, load};

#[test]
fn duplicate_listener_names() {
    let yaml = "listeners:\n  - { name: web, bind: 127.0.0.1:8080 }\n  - { name: web, bind: 127.0.0.1:8081 }\n";
    expect_only(
        yaml,
        "listeners[1].name",
        "web, bind: 127.0.0.1:8081",
        "duplicate listener name `web` (first used by listeners[0])",
    );
}

#[test]
fn bind_must_be_a_socket_address() {
    let yaml = "listeners:\n  - name: web\n    bind: localhost:8080\n";
    expect_only(
        yaml,
        "listeners[0].bind",
        "localhost",
        "not a socket address",
    );
}

#[test]
fn same_bind_twice_and_wildcard_overlap() {
    let yaml = "listeners:
  - { name: a, bind: 127.0.0.1:8080 }
  - { name: b, bind: 127.0.0.1:8080 }
  - { name: c, bind: 0.0.0.0:8080 }
  - { name: d, bind: '[::]:8080' }
";
    let errs = errors(yaml);
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        ["listeners[1].bind", "listeners[2].bind"],
        "{errs:?}"
    );
    assert!(
        errs[1]
            .message
            .contains("clashes with `127.0.0.1:8080` at listeners[0].bind")
    );
    assert_eq!(errs[1].line, 4);
}

#[test]
fn admin_bind_cannot_clash_with_a_listener() {
    let yaml =
        "listeners:\n  - { name: a, bind: 127.0.0.1:9901 }\nadmin:\n  bind: 127.0.0.1:9901\n";
    expect_only(
        yaml,
        "admin.bind",
        "127.0.0.1:9901\n",
        "clashes with `127.0.0.1:9901` at listeners[0].bind",
    );
}

#[test]
fn admin_can_be_disabled() {
    let yaml = "listeners:\n  - { name: a, bind: 127.0.0.1:9901 }\nadmin: null\n";
    assert!(load(yaml).unwrap().admin.is_none());
}

#[test]
fn tls_paths_must_not_be_empty() {
    let yaml = "listeners:\n  - name: a\n    tls: { cert_file: '', key_file: /etc/key.pem }\n";
    expect_only(
        yaml,
        "listeners[0].tls.cert_file",
        "''",
        "file path is required",
    );
}

#[test]
fn limits_must_be_positive() {
    let yaml = "listeners:\n  - name: a\n    limits:\n      max_connections: 0\n";
    expect_only(
        yaml,
        "listeners[0].limits.max_connections",
        "0\n",
        "at least 1",
    );
}
