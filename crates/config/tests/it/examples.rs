//! The embedded defaults, the files in `examples/` and the JSON Schema.

use std::path::PathBuf;

use sy_config::{DEFAULT_CONFIG_YAML, RouteTargetSpec, defaults, json_schema, load_str};

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// Supplies every variable an example references: a 64-hex digest for
/// `*_SHA256`, otherwise a long distinct key that is also a valid host name.
fn example_env(name: &str) -> Option<String> {
    if name.ends_with("_SHA256") {
        return Some(format!("{:0>64}", name.len()));
    }
    Some(format!(
        "test-key-for-{}",
        name.to_ascii_lowercase().replace('_', "-")
    ))
}

#[test]
fn defaults_load_and_validate() {
    let spec = defaults().unwrap();
    assert_eq!(spec.listeners[0].bind, "127.0.0.1:8080");
    assert!(
        spec.routes
            .iter()
            .any(|r| matches!(r.target, RouteTargetSpec::Ai(_)))
    );
    assert!(DEFAULT_CONFIG_YAML.contains("mock-1"));
}

#[test]
fn every_example_loads_without_errors() {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(examples_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let origin = path.display().to_string();
        if let Err(e) = load_str(&text, &origin, &example_env) {
            panic!("{origin} does not load:\n{e}");
        }
        names.push(path.file_name().unwrap().to_string_lossy().into_owned());
    }
    names.sort();
    for expected in ["api-versioning.yaml", "basic-proxy.yaml", "canary.yaml"] {
        assert!(
            names.iter().any(|n| n == expected),
            "examples/{expected} is missing: {names:?}"
        );
    }
}

#[test]
fn the_canary_example_splits_and_shares_policies() {
    let text = std::fs::read_to_string(examples_dir().join("canary.yaml")).unwrap();
    let spec = load_str(&text, "canary.yaml", &example_env).unwrap();
    let forced = spec
        .routes
        .iter()
        .find(|r| r.name == "checkout-forced-canary")
        .unwrap();
    let split = spec.routes.iter().find(|r| r.name == "checkout").unwrap();
    assert!(forced.priority > split.priority);
    assert_eq!(
        forced.policies, split.policies,
        "the YAML alias shares one policy block"
    );
    let RouteTargetSpec::Split(branches) = &split.target else {
        panic!("{:?}", split.target)
    };
    assert_eq!(branches.iter().map(|b| b.weight).sum::<u32>(), 100);
}

#[test]
fn json_schema_describes_every_section() {
    let schema = json_schema();
    assert_eq!(schema["title"], "Switchyard configuration");
    assert!(
        schema["$schema"]
            .as_str()
            .unwrap()
            .contains("json-schema.org")
    );
    let props = schema["properties"].as_object().unwrap();
    for key in [
        "server",
        "listeners",
        "admin",
        "trusted_proxies",
        "upstreams",
        "routes",
        "consumers",
        "providers",
        "models",
        "access_log",
    ] {
        let p = &props[key];
        assert!(p.is_object(), "no `{key}` in the schema");
        assert!(
            p["description"].as_str().is_some_and(|d| !d.is_empty()),
            "`{key}` has no description"
        );
    }
    assert_eq!(
        schema["additionalProperties"], false,
        "unknown top-level keys are refused"
    );
    let defs = schema["$defs"].as_object().unwrap();
    let route = &defs["RouteSpec"];
    assert!(
        route["properties"]["match"].is_object(),
        "`match` keeps its YAML name"
    );
    assert!(
        route["required"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == "target")
    );
    assert_eq!(
        defs["ListenerSpec"]["properties"]["bind"]["default"],
        "127.0.0.1:8080"
    );
    assert_eq!(defs["Duration"]["type"], "string");
}

#[test]
fn json_schema_references_resolve() {
    // Every `$ref` points at a definition that exists.
    let schema = json_schema();
    let defs = schema["$defs"].as_object().unwrap();
    let mut stack = vec![&schema];
    let mut refs = 0;
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(r) = m.get("$ref").and_then(|r| r.as_str()) {
                    let name = r
                        .strip_prefix("#/$defs/")
                        .unwrap_or_else(|| panic!("unexpected $ref {r}"));
                    assert!(defs.contains_key(name), "dangling $ref {r}");
                    refs += 1;
                }
                stack.extend(m.values());
            }
            serde_json::Value::Array(a) => stack.extend(a),
            _ => {}
        }
    }
    assert!(refs > 20, "only {refs} references");
}

#[test]
fn to_yaml_round_trips() {
    for name in ["basic-proxy.yaml", "api-versioning.yaml", "canary.yaml"] {
        let text = std::fs::read_to_string(examples_dir().join(name)).unwrap();
        let spec = load_str(&text, name, &example_env).unwrap();
        let written = sy_config::to_yaml(&spec).unwrap();
        assert!(
            !written.contains('!'),
            "enums are written as maps, not tags:\n{written}"
        );
        let again = load_str(&written, name, &|_| None).unwrap();
        assert_eq!(again, spec, "{name} changed in a round trip:\n{written}");
    }
}

#[test]
fn to_yaml_keeps_literal_dollar_braces() {
    let yaml = "routes:\n  - name: r\n    target: { respond: { body: 'a $${B} c' } }\n";
    let spec = load_str(yaml, "t", &|_| None).unwrap();
    let again = load_str(&sy_config::to_yaml(&spec).unwrap(), "t", &|_| None).unwrap();
    assert_eq!(again, spec);
}
