//! Provider and model rules.

use crate::support::{errors, expect_only, load};

#[test]
fn deployments_non_empty_and_provider_exists() {
    let yaml = "providers:
  - { name: openai, kind: openai, api_key: '${OPENAI_KEY:-none}' }
models:
  - { name: a, deployments: [] }
  - name: b
    deployments:
      - { provider: opnai, model: gpt-4o }
";
    let errs = errors(yaml);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!(errs[0].path, "models[0].deployments");
    assert_eq!(
        (errs[0].line, errs[0].column),
        crate::support::pos(yaml, "[] }")
    );
    assert_eq!(errs[1].path, "models[1].deployments[0].provider");
    assert!(
        errs[1]
            .message
            .contains("no provider named `opnai`; providers: `openai`")
    );
    assert_eq!(
        (errs[1].line, errs[1].column),
        crate::support::pos(yaml, "opnai")
    );
}

#[test]
fn base_url_is_http() {
    let yaml = "providers:\n  - { name: local, kind: openai_compatible, base_url: 'localhost:11434/v1' }\n";
    expect_only(
        yaml,
        "providers[0].base_url",
        "'localhost",
        "must start with `http://` or `https://`",
    );
    load("providers:\n  - { name: local, kind: openai_compatible, base_url: 'http://localhost:11434/v1' }\n").unwrap();
}

#[test]
fn duplicate_provider_and_model_names() {
    let yaml = "providers: [{ name: p, kind: mock }, { name: p, kind: mock }]
models:
  - { name: m, deployments: [{ provider: p, model: x }] }
  - { name: m, deployments: [{ provider: p, model: y }] }
";
    let errs = errors(yaml);
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["providers[1].name", "models[1].name"]);
}
