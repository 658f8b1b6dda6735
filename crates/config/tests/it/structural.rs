//! Structural errors (serde), interpolation errors, and error collection.

use crate::support::{UPSTREAM, assert_error, errors, expect_only, load, pos};

#[test]
fn unknown_key_names_the_allowed_keys_and_the_line() {
    let yaml = format!(
        "{UPSTREAM}routes:
  - name: r
    match:
      hostz: [a.example.com]
    target: {{ upstream: api }}
"
    );
    let e = expect_only(
        &yaml,
        "routes[0].match.hostz",
        "hostz",
        "unknown field `hostz`",
    );
    assert!(
        e.message
            .contains("expected one of `hosts`, `methods`, `path`, `headers`, `query`"),
        "{e}"
    );
    assert!(
        !e.message.contains(" at line "),
        "location is not repeated in the message: {e}"
    );
    assert_eq!(
        e.to_string(),
        format!("test.yaml:8:7: routes[0].match.hostz: {}", e.message)
    );
}

#[test]
fn unknown_top_level_key() {
    let yaml = "listeners: []\nupstream: []\n";
    let e = expect_only(yaml, "upstream", "upstream", "expected one of");
    assert!(e.message.contains("`upstreams`"), "{e}");
}

#[test]
fn unknown_target_variant_lists_the_variants() {
    let yaml = format!("{UPSTREAM}routes:\n  - name: r\n    target: {{ upstreem: api }}\n");
    let e = errors(&yaml).remove(0);
    assert_eq!(e.path, "routes[0].target");
    assert!(e.message.contains("unknown variant `upstreem`"), "{e}");
    assert!(
        e.message.contains("`upstream`, `split`, `ai`, `respond`"),
        "{e}"
    );
    assert_eq!(e.line, 7);
}

#[test]
fn bad_duration_names_its_path() {
    let yaml = format!("{UPSTREAM}    timeouts:\n      connect: 30\n");
    let e = errors(&yaml).remove(0);
    assert_eq!(e.path, "upstreams[0].timeouts.connect");
    assert!(e.message.contains("`30` has no unit"), "{e}");
    assert_eq!((e.line, e.column), pos(&yaml, "30"));
}

#[test]
fn missing_required_field() {
    let yaml = "upstreams:\n  - targets:\n      - url: http://a:1\n";
    let e = errors(yaml).remove(0);
    assert_eq!(e.path, "upstreams[0]");
    assert!(e.message.contains("missing field `name`"), "{e}");
    assert_eq!(e.line, 2);
}

#[test]
fn yaml_syntax_error_has_a_position() {
    let e = errors("routes:\n  - name: [unclosed\n").remove(0);
    assert!(e.line >= 2, "{e}");
    assert!(e.column > 0, "{e}");
}

#[test]
fn every_unset_variable_is_reported_with_its_position() {
    let yaml = "upstreams:\n  - name: ${POOL}\n    targets:\n      - url: http://${HOST}:${PORT}\n";
    let errs = errors(yaml);
    let at: Vec<(usize, usize)> = errs.iter().map(|e| (e.line, e.column)).collect();
    assert_eq!(
        at,
        [
            pos(yaml, "${POOL}"),
            pos(yaml, "${HOST}"),
            pos(yaml, "${PORT}")
        ]
    );
    assert!(errs[1].message.contains("`HOST` is not set"), "{}", errs[1]);
    assert!(errs.iter().all(|e| e.path.is_empty()));
}

#[test]
fn variables_defaults_and_literal_dollars() {
    let yaml = "upstreams:
  - name: api
    targets:
      - url: http://${BACKEND_HOST}:${PORT:-9000}
routes:
  - name: r
    target:
      respond: { body: 'costs $5, template $${NAME}' }
";
    let spec = load(yaml).unwrap();
    assert_eq!(
        spec.upstreams[0].targets[0].url,
        "http://backend.internal:9000"
    );
    match &spec.routes[0].target {
        sy_config::RouteTargetSpec::Respond(r) => assert_eq!(r.body, "costs $5, template ${NAME}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn positions_after_a_variable_point_into_the_original_text() {
    // `${BACKEND_HOST}` expands to a longer value; the bad port after it must
    // still be reported where the user wrote it, as must the next line.
    let yaml = "upstreams:
  - { name: ${BACKEND_HOST}, targets: [], balance: round_robin }
";
    let e = expect_only(yaml, "upstreams[0].targets", "[]", "at least one target");
    assert_eq!(e.line, 2);
}

#[test]
fn three_distinct_errors_are_all_reported_in_file_order() {
    let yaml = format!(
        "{UPSTREAM}routes:
  - name: a
    match: {{ methods: [get] }}
    target: {{ upstream: nope }}
  - name: b
    target: {{ respond: {{ status: 700 }} }}
"
    );
    let errs = errors(&yaml);
    assert_eq!(errs.len(), 3, "{}", sy_config::ConfigErrors(errs.clone()));
    assert_error(
        &errs[0],
        &yaml,
        "routes[0].match.methods[0]",
        "[»get",
        "write `GET`",
    );
    assert_error(
        &errs[1],
        &yaml,
        "routes[0].target.upstream",
        "nope",
        "no upstream named `nope`; upstreams: `api`",
    );
    assert_error(
        &errs[2],
        &yaml,
        "routes[1].target.respond.status",
        "700",
        "100 to 599",
    );
}

#[test]
fn an_empty_file_means_all_defaults() {
    let spec = load("# nothing here\n").unwrap();
    assert_eq!(spec.listeners[0].bind, "127.0.0.1:8080");
    assert!(spec.routes.is_empty());
}

#[test]
fn display_lists_one_error_per_line() {
    let text = load("upstreams:\n  - { name: a, targets: [] }\n  - { name: a, targets: [] }\n")
        .unwrap_err()
        .to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("test.yaml:2:"), "{text}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("upstreams[1].name: duplicate upstream name `a`")),
        "{text}"
    );
}
