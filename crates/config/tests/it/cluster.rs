//! The `cluster` section.

use std::time::Duration;

use sy_config::ClusterOnError;

use crate::support::{errors, expect_only, load};

#[test]
fn defaults_fill_in_everything_but_the_url() {
    let spec = load("cluster:\n  redis: redis://10.0.0.5:6379/2\n").unwrap();
    let c = spec.cluster.unwrap();
    assert_eq!(c.redis, "redis://10.0.0.5:6379/2");
    assert_eq!(c.prefix, "switchyard");
    assert_eq!(c.timeout.get(), Duration::from_millis(200));
    assert_eq!(c.on_error, ClusterOnError::Allow);
    assert!(load("{}").unwrap().cluster.is_none(), "absent by default");
    let spec = load(
        "cluster: { redis: \"redis+unix:///run/redis.sock\", prefix: gw-eu, timeout: 1s, \
         on_error: deny }\n",
    )
    .unwrap();
    let c = spec.cluster.unwrap();
    assert_eq!(
        (c.prefix.as_str(), c.on_error),
        ("gw-eu", ClusterOnError::Deny)
    );
}

#[test]
fn the_password_stays_out_of_debug_output() {
    let spec = load("cluster:\n  redis: redis://:s3cret@cache:6379/0\n").unwrap();
    let shown = format!("{spec:?}");
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains("redis://<redacted>@cache:6379/0"), "{shown}");
}

#[test]
fn bad_urls_are_named_by_key() {
    for (url, fragment) in [
        ("http://cache:6379", "`http://` is not a Redis URL scheme"),
        ("rediss://:6380", "names no host"),
        ("redis://:6379", "names no host"),
        ("redis://cache:port", "`port` is not a port number"),
        (
            "redis://cache:6379/main",
            "`/main` is not a database number",
        ),
        ("cache:6379", "is not a Redis URL"),
        (
            "redis+unix://run/redis.sock",
            "needs an absolute socket path",
        ),
    ] {
        let yaml = format!("cluster:\n  redis: \"{url}\"\n");
        expect_only(&yaml, "cluster.redis", &format!("\"{url}"), fragment);
    }
    for url in [
        "rediss://cache:6380/0",
        "valkeys://cache",
        "valkey://cache:6379",
    ] {
        let yaml = format!("cluster:\n  redis: \"{url}\"\n");
        assert!(load(&yaml).is_ok(), "{url}");
    }
    // A password holding `@` and `/` is still a password.
    assert!(load("cluster:\n  redis: \"redis://u:p@ss/w@cache:6379/1\"\n").is_ok());
}

#[test]
fn prefix_and_timeout_ranges() {
    let yaml = "cluster:\n  redis: redis://cache\n  prefix: \"\"\n  timeout: 0s\n";
    let errs = errors(yaml);
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["cluster.prefix", "cluster.timeout"], "{errs:?}");
    assert!(errs[1].message.contains("between 1ms and 10s"), "{errs:?}");
    expect_only(
        "cluster:\n  redis: redis://cache\n  prefix: \"my gw\"\n",
        "cluster.prefix",
        "\"my gw\"",
        "' ' is not allowed in the key prefix",
    );
    expect_only(
        "cluster:\n  redis: redis://cache\n  timeout: 11s\n",
        "cluster.timeout",
        "11s",
        "out of range",
    );
}

#[test]
fn unknown_keys_and_values_are_refused() {
    let errs = errors("cluster:\n  redis: redis://cache\n  on_error: ignore\n");
    assert!(errs[0].message.contains("allow"), "{errs:?}");
    let errs = errors("cluster:\n  redis: redis://cache\n  pool: 4\n");
    assert!(errs[0].message.contains("unknown field `pool`"), "{errs:?}");
    let errs = errors("cluster:\n  prefix: gw\n");
    assert!(
        errs[0].message.contains("missing field `redis`"),
        "{errs:?}"
    );
}

#[test]
fn the_schema_documents_the_section() {
    let schema = sy_config::json_schema();
    let cluster = &schema["properties"]["cluster"];
    assert!(
        cluster["description"]
            .as_str()
            .is_some_and(|d| d.contains("Redis")),
        "{cluster}"
    );
    let def = &schema["$defs"]["ClusterSpec"];
    assert_eq!(def["required"], serde_json::json!(["redis"]));
    assert_eq!(def["additionalProperties"], false);
    assert_eq!(def["properties"]["prefix"]["default"], "switchyard");
    assert_eq!(def["properties"]["timeout"]["default"], "200ms");
    let on_error = serde_json::to_string(&schema["$defs"]["ClusterOnError"]).unwrap();
    assert!(
        on_error.contains("\"allow\"") && on_error.contains("\"deny\""),
        "{on_error}"
    );
}

#[test]
fn tls_takes_a_ca_and_a_client_certificate_for_rediss_only() {
    let spec = load(
        "cluster:\n  redis: rediss://cache:6380\n  tls:\n    ca_file: ca.pem\n    \
         client_cert_file: c.pem\n    client_key_file: k.pem\n",
    )
    .unwrap();
    let tls = spec.cluster.unwrap().tls.unwrap();
    assert_eq!(tls.ca_file.as_deref(), Some("ca.pem"));
    assert_eq!(
        (
            tls.client_cert_file.as_deref(),
            tls.client_key_file.as_deref()
        ),
        (Some("c.pem"), Some("k.pem"))
    );
    assert!(
        load("cluster:\n  redis: rediss://cache:6380\n")
            .unwrap()
            .cluster
            .unwrap()
            .tls
            .is_none(),
        "system roots without a tls section"
    );
    expect_only(
        "cluster:\n  redis: redis://cache\n  tls: { ca_file: ca.pem }\n",
        "cluster.tls",
        "{ ca_file",
        "`redis` is not a `rediss://` URL",
    );
    expect_only(
        "cluster:\n  redis: rediss://cache\n  tls: { client_cert_file: c.pem }\n",
        "cluster.tls.client_cert_file",
        "c.pem",
        "needs `client_key_file` too",
    );
    expect_only(
        "cluster:\n  redis: rediss://cache\n  tls: { client_key_file: k.pem }\n",
        "cluster.tls.client_key_file",
        "k.pem",
        "needs `client_cert_file` too",
    );
    expect_only(
        "cluster:\n  redis: rediss://cache\n  tls: { ca_file: \" \" }\n",
        "cluster.tls.ca_file",
        "\" \"",
        "a file path is required",
    );
    let errs = errors("cluster:\n  redis: rediss://cache\n  tls: { server_name: x }\n");
    assert!(
        errs[0].message.contains("unknown field `server_name`"),
        "{errs:?}"
    );
}
