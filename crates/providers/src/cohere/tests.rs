//! Golden tests live in `tests/golden.rs`; these cover what fixtures cannot.

use super::response::parse;

#[test]
fn an_error_finish_is_an_upstream_error() {
    let body = br#"{"id":"x","finish_reason":"ERROR","message":{"role":"assistant","content":[]}}"#;
    let error = parse(body).unwrap_err();
    assert!(
        matches!(error, crate::TranslateError::Upstream(_)),
        "{error:?}"
    );
}
