//! Routes: match conditions, rewrites and targets (references to upstreams
//! and models). Policies are checked in `policies.rs`.

use super::syntax::{
    header_name, header_value, host_pattern, method, placeholders, template_captures,
};
use super::upstreams::status;
use super::{Report, list, policies};
use crate::spec::{
    ConfigSpec, MatchSpec, PathMatchSpec, RewriteSpec, RouteSpec, RouteTargetSpec, ValueMatchSpec,
};

pub(super) fn check(spec: &ConfigSpec, r: &mut Report) {
    r.unique_names(
        "routes",
        "route",
        spec.routes.iter().map(|x| x.name.as_str()),
    );
    for (i, route) in spec.routes.iter().enumerate() {
        let base = format!("routes[{i}]");
        let captures = matches(r, &format!("{base}.match"), &route.matches);
        if let Some(rw) = &route.rewrite {
            rewrite(
                r,
                &format!("{base}.rewrite"),
                rw,
                &route.matches,
                captures.as_deref(),
            );
        }
        target(r, spec, &format!("{base}.target"), route);
        policies::check(r, spec, &base, route);
    }
}

/// Check the match block; returns the template's capture names when the
/// path condition is a valid template (for checking the rewrite).
fn matches(r: &mut Report, base: &str, m: &MatchSpec) -> Option<Vec<String>> {
    let mut hosts: Vec<String> = Vec::new();
    for (k, h) in m.hosts.iter().enumerate() {
        let path = format!("{base}.hosts[{k}]");
        let lower = h.to_ascii_lowercase();
        if let Err(e) = host_pattern(h) {
            r.push(
                path,
                format!("{e}; allowed: `api.example.com` or `*.example.com`"),
            );
        } else if hosts.contains(&lower) {
            r.push(
                path,
                format!("`{h}` is listed twice (hosts are compared case-insensitively)"),
            );
        } else {
            hosts.push(lower);
        }
    }
    for (k, m) in m.methods.iter().enumerate() {
        r.check(format!("{base}.methods[{k}]"), method(m));
    }
    for (k, v) in m.headers.iter().enumerate() {
        let vb = format!("{base}.headers[{k}]");
        r.check(format!("{vb}.name"), header_name(&v.name));
        value_match(r, &vb, v);
    }
    for (k, v) in m.query.iter().enumerate() {
        let vb = format!("{base}.query[{k}]");
        if v.name.is_empty() {
            r.push(format!("{vb}.name"), "a query parameter name is required");
        }
        value_match(r, &vb, v);
    }
    let (key, p) = match &m.path {
        None => return None,
        Some(PathMatchSpec::Exact(p)) => ("exact", p),
        Some(PathMatchSpec::Prefix(p)) => ("prefix", p),
        Some(PathMatchSpec::Template(p)) => ("template", p),
    };
    let path = format!("{base}.path.{key}");
    if key == "template" {
        return match template_captures(p) {
            Ok(names) => Some(names),
            Err(e) => {
                r.push(
                    path,
                    format!("{e}; allowed: `/literal/{{name}}/.../{{*rest}}`"),
                );
                None
            }
        };
    }
    if !p.starts_with('/') {
        r.push(path, format!("`{p}` must start with `/`"));
    } else if p.contains(['?', '#']) {
        r.push(
            path,
            format!("`{p}`: paths are matched without the query; use `match.query` for parameters"),
        );
    }
    None
}

/// Exactly one of `exact`, `regex`, `present`; regexes must compile.
fn value_match(r: &mut Report, base: &str, v: &ValueMatchSpec) {
    let given = [v.exact.is_some(), v.regex.is_some(), v.present.is_some()];
    match given.iter().filter(|g| **g).count() {
        0 => r.push(
            base,
            format!(
                "`{}`: give exactly one of `exact`, `regex` or `present`",
                v.name
            ),
        ),
        1 => {}
        _ => r.push(
            base,
            format!(
                "`{}`: give only one of `exact`, `regex` or `present`, not several",
                v.name
            ),
        ),
    }
    if let Some(re) = &v.regex
        && let Err(e) = regex::Regex::new(re)
    {
        r.push(
            format!("{base}.regex"),
            format!("invalid regular expression: {}", one_line(&e.to_string())),
        );
    }
}

/// regex errors draw a caret diagram over several lines; keep the last
/// line, which says what is wrong.
fn one_line(s: &str) -> String {
    s.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .trim_start_matches("error: ")
        .to_owned()
}

fn rewrite(
    r: &mut Report,
    base: &str,
    rw: &RewriteSpec,
    m: &MatchSpec,
    captures: Option<&[String]>,
) {
    if rw.strip_prefix.is_some() && rw.path.is_some() {
        r.push(
            format!("{base}.path"),
            "`strip_prefix` and `path` cannot both be set; use one",
        );
    }
    if let Some(sp) = &rw.strip_prefix
        && !sp.starts_with('/')
    {
        r.push(
            format!("{base}.strip_prefix"),
            format!("`{sp}` must start with `/`"),
        );
    }
    if let Some(p) = &rw.path {
        let path = format!("{base}.path");
        if !p.starts_with('/') {
            r.push(path.clone(), format!("`{p}` must start with `/`"));
        }
        match placeholders(p) {
            Err(e) => r.push(path, e),
            Ok(names) => {
                let is_template = matches!(m.path, Some(PathMatchSpec::Template(_)));
                for name in names {
                    if !is_template {
                        r.push(
                            path.clone(),
                            format!("`{{{name}}}` needs a capture, but the route's path match is not a `template`"),
                        );
                    } else if let Some(caps) = captures
                        && !caps.iter().any(|c| c == name)
                    {
                        let allowed = list(caps.iter().map(String::as_str));
                        r.push(path.clone(), format!("`{{{name}}}` is not captured by the route's template; captures: {allowed}"));
                    }
                }
            }
        }
    }
    if let Some(h) = &rw.host {
        let name = h
            .rsplit_once(':')
            .filter(|(_, p)| p.parse::<u16>().is_ok())
            .map_or(h.as_str(), |(n, _)| n);
        if let Err(e) = host_pattern(name).and_then(|()| {
            if name.starts_with("*.") {
                Err("a wildcard is not a host".into())
            } else {
                Ok(())
            }
        }) {
            r.push(format!("{base}.host"), e);
        }
    }
}

fn target(r: &mut Report, spec: &ConfigSpec, base: &str, route: &RouteSpec) {
    let upstream_exists = |name: &str| spec.upstreams.iter().any(|u| u.name == name);
    let unknown_upstream = |name: &str| {
        format!(
            "no upstream named `{name}`; upstreams: {}",
            list(spec.upstreams.iter().map(|u| u.name.as_str()))
        )
    };
    match &route.target {
        RouteTargetSpec::Upstream(name) => {
            if !upstream_exists(name) {
                r.push(format!("{base}.upstream"), unknown_upstream(name));
            }
        }
        RouteTargetSpec::Split(branches) => {
            if branches.is_empty() {
                r.push(
                    format!("{base}.split"),
                    "a split needs at least one branch, like `- { upstream: stable, weight: 90 }`",
                );
            } else if branches.iter().all(|b| b.weight == 0) {
                r.push(
                    format!("{base}.split"),
                    "the branches' weights add up to 0; give at least one a weight ≥ 1",
                );
            }
            for (k, b) in branches.iter().enumerate() {
                if !upstream_exists(&b.upstream) {
                    r.push(
                        format!("{base}.split[{k}].upstream"),
                        unknown_upstream(&b.upstream),
                    );
                }
            }
        }
        RouteTargetSpec::Ai(ai) => {
            if spec.models.is_empty() {
                r.push(
                    format!("{base}.ai"),
                    "an `ai` target needs models, but no `models` are configured",
                );
            }
            for (k, m) in ai.models.iter().enumerate() {
                if !spec.models.iter().any(|x| &x.name == m) {
                    let allowed = list(spec.models.iter().map(|x| x.name.as_str()));
                    r.push(
                        format!("{base}.ai.models[{k}]"),
                        format!("no model named `{m}`; models: {allowed}"),
                    );
                }
            }
        }
        RouteTargetSpec::Respond(resp) => {
            let rb = format!("{base}.respond");
            status(r, &format!("{rb}.status"), resp.status);
            for (name, value) in &resp.headers {
                r.check(
                    format!("{rb}.headers.{name}"),
                    header_name(name).and_then(|()| header_value(value)),
                );
            }
        }
    }
}
