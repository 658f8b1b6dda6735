//! Helpers: load text with a fixed environment, and find where a piece of
//! text sits so expected positions are written as text, not numbers.
#![expect(
    clippy::panic,
    clippy::unwrap_used,
    reason = "helpers outside #[test] functions fail the test that calls them"
)]

use sy_config::{ConfigError, ConfigErrors, ConfigSpec, load_str};

/// The environment the tests load with.
pub fn env(name: &str) -> Option<String> {
    match name {
        "BACKEND_HOST" => Some("backend.internal".into()),
        "API_KEY" => Some("k-0123456789abcdef".into()),
        _ => None,
    }
}

/// Load `yaml` as `test.yaml`.
pub fn load(yaml: &str) -> Result<ConfigSpec, ConfigErrors> {
    load_str(yaml, "test.yaml", &env)
}

/// The errors of a config that must fail.
pub fn errors(yaml: &str) -> Vec<ConfigError> {
    match load(yaml) {
        Ok(_) => panic!("expected errors, the config loaded:\n{yaml}"),
        Err(e) => e.0,
    }
}

/// 1-based line and column of the first occurrence of `needle`. A needle
/// `before»text` finds `text` at the first occurrence after `before`, for
/// text that also appears earlier.
pub fn pos(yaml: &str, needle: &str) -> (usize, usize) {
    let (from, text) = match needle.split_once('»') {
        Some((before, text)) => {
            let b = yaml
                .find(before)
                .unwrap_or_else(|| panic!("`{before}` not in the config"));
            (b + before.len(), text)
        }
        None => (0, needle),
    };
    let at = from
        + yaml[from..]
            .find(text)
            .unwrap_or_else(|| panic!("`{needle}` not in the config"));
    let before = &yaml[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

/// Assert that `yaml` fails with exactly one error, at `path`, placed on the
/// first occurrence of `needle`, with a message containing `fragment`.
pub fn expect_only(yaml: &str, path: &str, needle: &str, fragment: &str) -> ConfigError {
    let errs = errors(yaml);
    assert_eq!(
        errs.len(),
        1,
        "expected one error, got:\n{}",
        ConfigErrors(errs.clone())
    );
    let e = errs.into_iter().next().unwrap();
    assert_error(&e, yaml, path, needle, fragment);
    e
}

/// Assert one error's path, position and message.
pub fn assert_error(e: &ConfigError, yaml: &str, path: &str, needle: &str, fragment: &str) {
    assert_eq!(e.origin, "test.yaml");
    assert_eq!(e.path, path, "wrong path in: {e}");
    assert_eq!(
        (e.line, e.column),
        pos(yaml, needle),
        "wrong position for `{needle}` in: {e}"
    );
    assert!(
        e.message.contains(fragment),
        "`{fragment}` not in message: {e}"
    );
}

/// One upstream named `api`, for configs whose routes need a target.
pub const UPSTREAM: &str = "\
upstreams:
  - name: api
    targets:
      - url: http://127.0.0.1:9000
";

/// `UPSTREAM` followed by `rest`.
pub fn with_upstream(rest: &str) -> String {
    format!("{UPSTREAM}{rest}")
}
