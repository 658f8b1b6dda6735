//! A route's policies: CORS, key auth, rate limits, body limit, header
//! transforms. IP rules need no check beyond parsing.

use super::syntax::{header_name, header_value, method};
use super::{Report, list};
use crate::spec::{
    ConfigSpec, CorsSpec, HeaderTransformSpec, RateLimitKeySpec, RateLimitSpec, RouteSpec,
};

pub(super) fn check(r: &mut Report, spec: &ConfigSpec, route_base: &str, route: &RouteSpec) {
    let base = format!("{route_base}.policies");
    let p = &route.policies;
    if let Some(c) = &p.cors {
        cors(r, &format!("{base}.cors"), c);
    }
    if let Some(ka) = &p.key_auth {
        let kb = format!("{base}.key_auth");
        if spec.consumers.is_empty() {
            r.push(
                kb.clone(),
                format!(
                    "key_auth on route `{}` but no consumers are configured",
                    route.name
                ),
            );
        }
        for (k, c) in ka.consumers.iter().enumerate() {
            if !spec.consumers.iter().any(|x| &x.name == c) {
                let allowed = list(spec.consumers.iter().map(|x| x.name.as_str()));
                r.push(
                    format!("{kb}.consumers[{k}]"),
                    format!("no consumer named `{c}`; consumers: {allowed}"),
                );
            }
        }
        if ka
            .query_param
            .as_deref()
            .is_some_and(|q| q.trim().is_empty())
        {
            r.push(
                format!("{kb}.query_param"),
                "a parameter name is required (or remove `query_param`)",
            );
        }
    }
    for (k, rl) in p.rate_limits.iter().enumerate() {
        rate_limit(r, &format!("{base}.rate_limits[{k}]"), rl);
    }
    if p.body_limit.is_some_and(|b| b.0 == 0) {
        r.push(
            format!("{base}.body_limit"),
            "must be greater than 0 (use `ip.deny` or `respond` to refuse a route)",
        );
    }
    if let Some(h) = &p.request_headers {
        transform(r, &format!("{base}.request_headers"), h);
    }
    if let Some(h) = &p.response_headers {
        transform(r, &format!("{base}.response_headers"), h);
    }
}

fn cors(r: &mut Report, base: &str, c: &CorsSpec) {
    if c.allow_origins.is_empty() {
        r.push(
            format!("{base}.allow_origins"),
            "list at least one origin, like `https://app.example.com`, or `*`",
        );
    }
    let any = c.allow_origins.iter().any(|o| o == "*");
    for (k, o) in c.allow_origins.iter().enumerate() {
        let path = format!("{base}.allow_origins[{k}]");
        if o == "*" {
            if c.allow_credentials {
                r.push(path, "`*` cannot be used with `allow_credentials: true` (browsers reject it); list the origins");
            }
            continue;
        }
        let ok = o.split_once("://").is_some_and(|(scheme, host)| {
            !scheme.is_empty() && !host.is_empty() && !host.contains(['/', '?', '#', '*'])
        });
        if !ok {
            r.push(
                path,
                format!(
                    "`{o}` is not an origin; write `scheme://host[:port]` without a path, or `*`"
                ),
            );
        }
    }
    if any && c.allow_origins.len() > 1 {
        r.push(
            format!("{base}.allow_origins"),
            "`*` already allows every origin; list it alone",
        );
    }
    for (k, m) in c.allow_methods.iter().enumerate() {
        r.check(format!("{base}.allow_methods[{k}]"), method(m));
    }
    for (k, h) in c.allow_headers.iter().enumerate() {
        if h != "*" {
            r.check(format!("{base}.allow_headers[{k}]"), header_name(h));
        }
    }
    for (k, h) in c.expose_headers.iter().enumerate() {
        if h != "*" {
            r.check(format!("{base}.expose_headers[{k}]"), header_name(h));
        }
    }
}

fn rate_limit(r: &mut Report, base: &str, rl: &RateLimitSpec) {
    if rl.requests == 0 {
        r.push(
            format!("{base}.requests"),
            "must be at least 1 (to block a route, use `ip.deny` or `respond`)",
        );
    }
    if rl.per.get().is_zero() {
        r.push(
            format!("{base}.per"),
            "must be greater than 0s, like `1s` or `1m`",
        );
    }
    if rl.burst == Some(0) {
        r.push(
            format!("{base}.burst"),
            "must be at least 1 (or remove it to default to `requests`)",
        );
    }
    if let RateLimitKeySpec::Header(h) = &rl.key {
        r.check(format!("{base}.key.header"), header_name(h));
    }
}

fn transform(r: &mut Report, base: &str, t: &HeaderTransformSpec) {
    for (k, name) in t.remove.iter().enumerate() {
        r.check(format!("{base}.remove[{k}]"), header_name(name));
    }
    for (from, to) in &t.rename {
        r.check(
            format!("{base}.rename.{from}"),
            header_name(from).and_then(|()| header_name(to)),
        );
    }
    for (key, map) in [("set", &t.set), ("add", &t.add)] {
        for (name, value) in map {
            r.check(
                format!("{base}.{key}.{name}"),
                header_name(name).and_then(|()| header_value(value)),
            );
        }
    }
}
