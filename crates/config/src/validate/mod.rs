//! Semantic validation of a parsed [`ConfigSpec`]: the rules serde cannot
//! express (unique names, references between sections, URL and template
//! grammars, value ranges). Every rule runs and every failure is collected,
//! so one pass over a bad file lists everything to fix.
//!
//! Validation knows nothing about positions: each [`Violation`] carries a
//! dotted path that the loader maps to a line and column.

mod ai;
mod cluster;
mod consumers;
mod deployments;
mod listeners;
mod policies;
mod routes;
mod syntax;
mod tenancy;
mod upstreams;

use std::collections::HashMap;

use crate::spec::ConfigSpec;

/// One semantic problem: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Dotted path of the offending value, e.g. `routes[2].target.upstream`.
    pub path: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

/// Check every rule on `spec` and return all violations, in section order
/// (empty means valid). [`crate::load_str`] calls this after parsing; call
/// it directly for specs built in code or received as JSON.
pub fn validate(spec: &ConfigSpec) -> Vec<Violation> {
    let mut r = Report::default();
    listeners::check(spec, &mut r);
    upstreams::check(spec, &mut r);
    routes::check(spec, &mut r);
    consumers::check(spec, &mut r);
    tenancy::check(spec, &mut r);
    ai::check(spec, &mut r);
    deployments::check(spec, &mut r);
    cluster::check(spec, &mut r);
    r.out
}

/// Collects violations.
#[derive(Debug, Default)]
pub(crate) struct Report {
    out: Vec<Violation>,
}

impl Report {
    /// Record a problem at `path`.
    pub(crate) fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.out.push(Violation {
            path: path.into(),
            message: message.into(),
        });
    }

    /// Record `result`'s error, if any, at `path`.
    pub(crate) fn check(&mut self, path: impl Into<String>, result: Result<(), String>) {
        if let Err(message) = result {
            self.push(path, message);
        }
    }

    /// Names within one section must be unique; the second and later uses
    /// are reported, each naming the first. `section` is the list's path
    /// (`routes`), `what` the thing named (`route`).
    pub(crate) fn unique_names<'a>(
        &mut self,
        section: &str,
        what: &str,
        names: impl Iterator<Item = &'a str>,
    ) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, name) in names.enumerate() {
            let path = format!("{section}[{i}].name");
            if name.trim().is_empty() {
                self.push(path, format!("{what} names cannot be empty"));
            } else if let Some(first) = seen.get(name) {
                self.push(
                    path,
                    format!("duplicate {what} name `{name}` (first used by {section}[{first}])"),
                );
            } else {
                seen.insert(name, i);
            }
        }
    }
}

/// The certificate files of a TLS client (an upstream, Redis) under `base`:
/// a client certificate and its key come together, and no path is blank.
pub(crate) fn client_tls_files(
    r: &mut Report,
    base: &str,
    ca: &Option<String>,
    cert: &Option<String>,
    key: &Option<String>,
) {
    match (cert, key) {
        (Some(_), None) => r.push(
            format!("{base}.client_cert_file"),
            "`client_cert_file` needs `client_key_file` too",
        ),
        (None, Some(_)) => r.push(
            format!("{base}.client_key_file"),
            "`client_key_file` needs `client_cert_file` too",
        ),
        _ => {}
    }
    for (name, file) in [
        ("ca_file", ca),
        ("client_cert_file", cert),
        ("client_key_file", key),
    ] {
        if file.as_deref().is_some_and(|f| f.trim().is_empty()) {
            r.push(format!("{base}.{name}"), "a file path is required here");
        }
    }
}

/// `names` formatted for "allowed: ..." hints: `a`, `b`, `c`, or `(none)`.
pub(crate) fn list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let all: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    if all.is_empty() {
        "(none configured)".into()
    } else {
        all.join(", ")
    }
}
