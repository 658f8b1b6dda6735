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

#[test]
fn bedrock_needs_a_region_or_base_url() {
    let yaml = "providers:\n  - { name: aws, kind: bedrock, api_key: k }\n";
    expect_only(
        yaml,
        "providers[0].kind",
        "bedrock",
        "`kind: bedrock` needs a `region` (like `us-east-1`) or a `base_url`",
    );
    load("providers:\n  - { name: aws, kind: bedrock, region: eu-central-1, api_key: k }\n")
        .unwrap();
    load("providers:\n  - { name: aws, kind: bedrock, base_url: 'http://127.0.0.1:9/', api_key: k }\n")
        .unwrap();
}

#[test]
fn regions_look_like_us_east_1() {
    for region in [
        "us-east-1",
        "ap-southeast-2",
        "us-gov-west-1",
        "eu-central-1",
    ] {
        let yaml = format!("providers:\n  - {{ name: aws, kind: bedrock, region: {region} }}\n");
        load(&yaml).unwrap();
    }
    for region in [
        "us-east",
        "US-EAST-1",
        "useast1",
        "us_east_1",
        "us-east-x",
        "u-east-1",
        "us--1",
    ] {
        let yaml = format!("providers:\n  - {{ name: aws, kind: bedrock, region: '{region}' }}\n");
        expect_only(
            &yaml,
            "providers[0].region",
            &format!("'{region}"),
            &format!("`{region}` is not a cloud region; write it like `us-east-1`"),
        );
    }
}

#[test]
fn aws_credentials_need_both_halves() {
    let yaml = "providers:
  - name: aws
    kind: bedrock
    region: us-east-1
    aws: { access_key_id: '${AWS_ACCESS_KEY_ID:-}', secret_access_key: s3cr3t }
";
    expect_only(
        yaml,
        "providers[0].aws.access_key_id",
        "'${AWS",
        "AWS credentials need both `access_key_id` and `secret_access_key`; this one is empty",
    );
    let yaml = "providers:
  - name: aws
    kind: bedrock
    region: us-east-1
    aws: { access_key_id: AKID }
";
    let errs = errors(yaml);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].message.contains("secret_access_key"),
        "{}",
        errs[0].message
    );
    load(
        "providers:
  - name: aws
    kind: bedrock
    region: us-east-1
    aws: { access_key_id: AKID, secret_access_key: s3cr3t, session_token: t }
",
    )
    .unwrap();
}
