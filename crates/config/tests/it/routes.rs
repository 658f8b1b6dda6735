//! Route rules: names, targets, match conditions and rewrites.

use crate::support::{errors, expect_only, load, with_upstream};

/// A route `r` to upstream `api` with the given extra lines.
fn route(extra: &str) -> String {
    with_upstream(&format!(
        "routes:\n  - name: r\n    target: {{ upstream: api }}\n{extra}"
    ))
}

#[test]
fn duplicate_route_names() {
    let yaml = with_upstream(
        "routes:\n  - { name: r, target: { upstream: api } }\n  - { name: r, target: { upstream: api } }\n",
    );
    let e = errors(&yaml);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].path, "routes[1].name");
    assert_eq!((e[0].line, e[0].column), (7, 13));
}

#[test]
fn upstream_target_must_exist() {
    let yaml = with_upstream("routes:\n  - name: r\n    target:\n      upstream: apii\n");
    expect_only(
        &yaml,
        "routes[0].target.upstream",
        "apii",
        "no upstream named `apii`; upstreams: `api`",
    );
}

#[test]
fn split_branches_must_exist_and_weigh_something() {
    let yaml = with_upstream(
        "routes:\n  - name: r\n    target:\n      split:\n        - { upstream: api, weight: 0 }\n        - { upstream: canary, weight: 0 }\n",
    );
    let errs = errors(&yaml);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!(errs[0].path, "routes[0].target.split");
    assert!(errs[0].message.contains("add up to 0"));
    assert_eq!(errs[1].path, "routes[0].target.split[1].upstream");
    assert_eq!(
        (errs[1].line, errs[1].column),
        crate::support::pos(&yaml, "canary")
    );
}

#[test]
fn split_cannot_be_empty() {
    let yaml = with_upstream("routes:\n  - name: r\n    target: { split: [] }\n");
    expect_only(&yaml, "routes[0].target.split", "[]", "at least one branch");
}

#[test]
fn ai_models_must_exist() {
    let yaml = "providers: [{ name: m, kind: mock }]
models: [{ name: fast, deployments: [{ provider: m, model: x }] }]
routes:
  - name: ai
    target: { ai: { models: [fast, smart] } }
";
    expect_only(
        yaml,
        "routes[0].target.ai.models[1]",
        "smart",
        "no model named `smart`; models: `fast`",
    );
}

#[test]
fn ai_target_needs_models() {
    let yaml = "routes:\n  - name: ai\n    target: { ai: {} }\n";
    expect_only(
        yaml,
        "routes[0].target.ai",
        "{}",
        "no `models` are configured",
    );
}

#[test]
fn methods_are_upper_case_tokens() {
    let yaml = route("    match: { methods: [GET, post, 'BAD METHOD'] }\n");
    let errs = errors(&yaml);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!(errs[0].path, "routes[0].match.methods[1]");
    assert!(errs[0].message.contains("write `POST`"));
    assert_eq!(errs[1].path, "routes[0].match.methods[2]");
}

#[test]
fn hosts_wildcards_and_case_insensitive_duplicates() {
    let yaml = route(
        "    match:\n      hosts: [api.example.com, 'api.*.com', API.example.com, '*.example.com']\n",
    );
    let errs = errors(&yaml);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!(errs[0].path, "routes[0].match.hosts[1]");
    assert!(errs[0].message.contains("only as the whole first label"));
    assert_eq!(errs[1].path, "routes[0].match.hosts[2]");
    assert!(errs[1].message.contains("listed twice"));
    assert_eq!(
        (errs[1].line, errs[1].column),
        crate::support::pos(&yaml, "API.example")
    );
}

#[test]
fn path_match_starts_with_slash() {
    let yaml = route("    match: { path: { prefix: api } }\n");
    expect_only(
        &yaml,
        "routes[0].match.path.prefix",
        "api } }",
        "must start with `/`",
    );
}

#[test]
fn template_segments() {
    for (template, fragment) in [
        ("/users/{id}/{id}", "appears twice"),
        ("/users/{*rest}/x", "last segment"),
        ("/users/v{id}", "whole segment"),
        ("/users/{user-id}", "letters, digits and `_`"),
        ("users/{id}", "must start with `/`"),
    ] {
        let yaml = route(&format!(
            "    match: {{ path: {{ template: '{template}' }} }}\n"
        ));
        expect_only(
            &yaml,
            "routes[0].match.path.template",
            &format!("'{template}'"),
            fragment,
        );
    }
    load(&route(
        "    match: { path: { template: '/users/{id}/files/{*rest}' } }\n",
    ))
    .unwrap();
}

#[test]
fn value_match_needs_exactly_one_condition() {
    let yaml = route(
        "    match:\n      headers:\n        - { name: x-a }\n        - { name: x-b, exact: '1', present: true }\n",
    );
    let errs = errors(&yaml);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!(errs[0].path, "routes[0].match.headers[0]");
    assert!(
        errs[0]
            .message
            .contains("exactly one of `exact`, `regex` or `present`")
    );
    assert_eq!(
        (errs[0].line, errs[0].column),
        crate::support::pos(&yaml, "{ name: x-a")
    );
    assert_eq!(errs[1].path, "routes[0].match.headers[1]");
}

#[test]
fn regex_must_compile() {
    let yaml = route("    match:\n      query:\n        - { name: v, regex: '(unclosed' }\n");
    let e = expect_only(
        &yaml,
        "routes[0].match.query[0].regex",
        "'(unclosed'",
        "invalid regular expression",
    );
    assert!(!e.message.contains('\n'), "{e}");
}

#[test]
fn header_match_name_must_be_a_header_name() {
    let yaml = route("    match:\n      headers: [{ name: 'x:y', present: true }]\n");
    expect_only(
        &yaml,
        "routes[0].match.headers[0].name",
        "'x:y'",
        "not a valid header name",
    );
}

#[test]
fn rewrite_strip_prefix_and_path_are_exclusive() {
    let yaml = route(
        "    match: { path: { prefix: /api } }\n    rewrite: { strip_prefix: /api, path: /x }\n",
    );
    expect_only(
        &yaml,
        "routes[0].rewrite.path",
        "/x }",
        "cannot both be set",
    );
}

#[test]
fn rewrite_placeholders_must_be_captures() {
    let yaml = route(
        "    match: { path: { template: '/u/{id}' } }\n    rewrite: { path: '/v2/users/{uid}' }\n",
    );
    expect_only(
        &yaml,
        "routes[0].rewrite.path",
        "'/v2/users",
        "`{uid}` is not captured by the route's template; captures: `id`",
    );
    let yaml = route("    match: { path: { prefix: /u } }\n    rewrite: { path: '/v2/{id}' }\n");
    expect_only(
        &yaml,
        "routes[0].rewrite.path",
        "'/v2/{id}'",
        "not a `template`",
    );
    load(&route("    match: { path: { template: '/u/{id}/{*rest}' } }\n    rewrite: { path: '/v2/users/{id}/{rest}' }\n"))
        .unwrap();
}

#[test]
fn respond_status_range() {
    let yaml = "routes:\n  - name: down\n    target:\n      respond: { status: 99, body: '' }\n";
    expect_only(
        yaml,
        "routes[0].target.respond.status",
        "99",
        "allowed: 100 to 599",
    );
}

#[test]
fn respond_header_names_and_values() {
    let yaml = "routes:\n  - name: down\n    target:\n      respond:\n        headers: { 'bad header': x }\n";
    expect_only(
        yaml,
        "routes[0].target.respond.headers.bad header",
        "x }",
        "not a valid header name",
    );
}
