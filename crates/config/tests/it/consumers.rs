//! Consumer and key rules.

use crate::support::{errors, expect_only};

#[test]
fn sha256_must_be_64_lower_hex() {
    let yaml = "consumers:\n  - name: app\n    keys:\n      - sha256: ABCDEF\n";
    expect_only(
        yaml,
        "consumers[0].keys[0].sha256",
        "ABCDEF",
        "64 lower-case hex",
    );
}

#[test]
fn clear_keys_must_be_long_enough() {
    let yaml = "consumers:\n  - name: app\n    keys: [{ key: short }]\n";
    expect_only(
        yaml,
        "consumers[0].keys[0].key",
        "short",
        "at least 16 characters",
    );
}

#[test]
fn a_key_belongs_to_one_consumer() {
    // `b` repeats `a`'s key in clear, and `c` gives its SHA-256: both are
    // the same key, so both are reported against `a`'s.
    let digest = "6b1ed3249bfeaf163cc86042729f1023caea2e1d2f3594407894563fdf054b42";
    let yaml = format!(
        "consumers:\n  - name: a\n    keys: [{{ key: '${{API_KEY}}' }}]\n  - name: b\n    keys: [{{ key: k-0123456789abcdef }}]\n  - name: c\n    keys: [{{ sha256: {digest} }}]\n"
    );
    let errs = errors(&yaml);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!(errs[0].path, "consumers[1].keys[0].key");
    assert!(
        errs[0]
            .message
            .contains("already used at consumers[0].keys[0].key")
    );
    assert_eq!(
        (errs[0].line, errs[0].column),
        crate::support::pos(&yaml, "k-0123")
    );
    assert_eq!(errs[1].path, "consumers[2].keys[0].sha256");
    assert_eq!(
        (errs[1].line, errs[1].column),
        crate::support::pos(&yaml, digest)
    );
}

#[test]
fn duplicate_consumer_names() {
    let yaml = "consumers:\n  - { name: app }\n  - { name: app }\n";
    let errs = errors(yaml);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].path, "consumers[1].name");
    assert_eq!((errs[0].line, errs[0].column), (3, 13));
    assert!(
        errs[0]
            .message
            .contains("duplicate consumer name `app` (first used by consumers[0])")
    );
}
