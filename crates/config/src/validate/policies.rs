//! A route's policies: CORS, authentication (key auth, JWT, OAuth2
//! introspection), rate limits, body limit, header transforms. IP rules
//! need no check beyond parsing.

use super::syntax::{header_name, header_value, http_url, method};
use super::{Report, list};
use crate::spec::{
    ConfigSpec, CorsSpec, HeaderTransformSpec, IntrospectionSpec, JwtAlgorithmSpec, JwtSpec,
    RateLimitKeySpec, RateLimitSpec, RouteSpec,
};

pub(super) fn check(r: &mut Report, spec: &ConfigSpec, route_base: &str, route: &RouteSpec) {
    let base = format!("{route_base}.policies");
    let p = &route.policies;
    if let Some(c) = &p.cors {
        cors(r, &format!("{base}.cors"), c);
    }
    if let Some(ka) = &p.key_auth {
        let kb = format!("{base}.key_auth");
        // With a store, consumers and keys may come from the admin API.
        if spec.consumers.is_empty() && spec.store.is_none() {
            r.push(
                kb.clone(),
                format!(
                    "key_auth on route `{}` but no consumers are configured (and `store: null`)",
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
    // One identity per request: a second authentication policy could only
    // overwrite the first one's consumer, so it is refused where it is written.
    let auths = [
        ("key_auth", p.key_auth.is_some()),
        ("jwt", p.jwt.is_some()),
        ("oauth2_introspection", p.oauth2_introspection.is_some()),
    ];
    let mut first = None;
    for (name, set) in auths {
        match (set, first) {
            (false, _) => {}
            (true, None) => first = Some(name),
            (true, Some(f)) => r.push(
                format!("{base}.{name}"),
                format!(
                    "route `{}` already authenticates with `{f}`; a route takes at most one of \
                     `key_auth`, `jwt` and `oauth2_introspection` (use separate routes for \
                     different kinds of callers)",
                    route.name
                ),
            ),
        }
    }
    if let Some(j) = &p.jwt {
        jwt(r, &format!("{base}.jwt"), j);
    }
    if let Some(i) = &p.oauth2_introspection {
        introspection(r, &format!("{base}.oauth2_introspection"), i);
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

fn jwt(r: &mut Report, base: &str, j: &JwtSpec) {
    let secret = j.secret.as_deref().is_some_and(|s| !s.is_empty());
    let public = !j.public_keys.is_empty() || j.jwks_url.is_some();
    if !secret && !public {
        r.push(
            base,
            "configure at least one key source: `secret` (HS256), `public_keys` or `jwks_url` \
             (RS256, ES256)",
        );
    }
    if j.secret.as_deref() == Some("") {
        r.push(
            format!("{base}.secret"),
            "the secret is empty (is its `${VAR}` unset?); remove `secret` or set it",
        );
    } else if j.secret.as_deref().is_some_and(|s| s.len() < 32) {
        r.push(
            format!("{base}.secret"),
            "an HS256 secret needs at least 32 bytes (RFC 7518 §3.2: as long as the hash)",
        );
    }
    for (k, pem) in j.public_keys.iter().enumerate() {
        if !pem.trim_start().starts_with("-----BEGIN ") {
            r.push(
                format!("{base}.public_keys[{k}]"),
                "not a PEM key: write `-----BEGIN PUBLIC KEY-----` … `-----END PUBLIC KEY-----`",
            );
        }
    }
    if let Some(url) = &j.jwks_url
        && let Err(e) = http_url(url)
    {
        r.push(format!("{base}.jwks_url"), e);
    }
    if j.jwks_refresh.get().as_secs() < 1 {
        r.push(
            format!("{base}.jwks_refresh"),
            "must be at least 1s, like `10m`",
        );
    }
    for (k, alg) in j.algorithms.iter().enumerate() {
        let usable = match alg {
            JwtAlgorithmSpec::Hs256 => secret,
            JwtAlgorithmSpec::Rs256 | JwtAlgorithmSpec::Es256 => public,
        };
        if !usable {
            let needs = match alg {
                JwtAlgorithmSpec::Hs256 => "`secret`",
                _ => "`public_keys` or `jwks_url`",
            };
            r.push(
                format!("{base}.algorithms[{k}]"),
                format!("{} needs {needs}, which is not configured", alg.as_str()),
            );
        }
    }
    claim_path(r, &format!("{base}.consumer_claim"), &j.consumer_claim);
    if j.issuer.as_deref() == Some("") {
        r.push(
            format!("{base}.issuer"),
            "cannot be empty (or remove `issuer`)",
        );
    }
    for (k, a) in j.audiences.iter().enumerate() {
        if a.is_empty() {
            r.push(format!("{base}.audiences[{k}]"), "cannot be empty");
        }
    }
    if let Some(h) = &j.header {
        r.check(format!("{base}.header"), header_name(h));
    }
    if j.query_param
        .as_deref()
        .is_some_and(|q| q.trim().is_empty())
    {
        r.push(
            format!("{base}.query_param"),
            "a parameter name is required (or remove `query_param`)",
        );
    }
}

fn introspection(r: &mut Report, base: &str, i: &IntrospectionSpec) {
    if let Err(e) = http_url(&i.url) {
        r.push(format!("{base}.url"), e);
    }
    if i.client_id.is_empty() {
        r.push(format!("{base}.client_id"), "cannot be empty");
    } else if i.client_id.contains(':') {
        // RFC 7617: the user-id of Basic authentication cannot hold a colon.
        r.push(
            format!("{base}.client_id"),
            "cannot contain `:` (HTTP Basic authentication splits on it)",
        );
    }
    if i.client_secret.is_empty() {
        r.push(
            format!("{base}.client_secret"),
            "the secret is empty (is its `${VAR}` unset?)",
        );
    }
    claim_path(r, &format!("{base}.consumer_claim"), &i.consumer_claim);
    for (k, s) in i.required_scopes.iter().enumerate() {
        if s.is_empty() || s.contains(char::is_whitespace) {
            r.push(
                format!("{base}.required_scopes[{k}]"),
                "a scope is one non-empty word without spaces",
            );
        }
    }
    if i.timeout.get().is_zero() {
        r.push(
            format!("{base}.timeout"),
            "must be greater than 0s, like `5s`",
        );
    }
}

/// A claim name, or a dotted path of names (`app.id`).
fn claim_path(r: &mut Report, path: &str, claim: &str) {
    if claim.is_empty() || claim.split('.').any(str::is_empty) {
        r.push(
            path,
            format!(
                "`{claim}` is not a claim: write a name like `sub`, or a dotted path like `app.id`"
            ),
        );
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

#[cfg(test)]
mod tests;
