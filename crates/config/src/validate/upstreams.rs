//! Upstream pools: targets, balancing, health checks, breaker, retries, TLS.

use super::Report;
use super::syntax::{header_name, hostname, http_url};
use crate::spec::{
    BalanceSpec, CircuitBreakerSpec, ConfigSpec, HashOnSpec, HealthCheckSpec, RetrySpec,
    UpstreamSpec,
};

pub(super) fn check(spec: &ConfigSpec, r: &mut Report) {
    r.unique_names(
        "upstreams",
        "upstream",
        spec.upstreams.iter().map(|u| u.name.as_str()),
    );
    for (i, u) in spec.upstreams.iter().enumerate() {
        upstream(r, &format!("upstreams[{i}]"), u);
    }
}

fn upstream(r: &mut Report, base: &str, u: &UpstreamSpec) {
    let mut any_https = false;
    if u.targets.is_empty() {
        r.push(
            format!("{base}.targets"),
            "an upstream needs at least one target, like `- url: http://10.0.0.1:8080`",
        );
    }
    let mut seen: Vec<(String, u16)> = Vec::new();
    for (j, t) in u.targets.iter().enumerate() {
        let path = format!("{base}.targets[{j}].url");
        match http_url(&t.url) {
            Err(e) => r.push(path, e),
            Ok(url) if !(url.path.is_empty() || url.path == "/") => r.push(
                path,
                format!("`{}`: a target is `scheme://host:port` without a path; rewrite paths on the route", t.url),
            ),
            Ok(url) => {
                any_https |= url.scheme == "https";
                let key = (url.host, url.port);
                if seen.contains(&key) {
                    r.push(path, format!("`{}` is listed twice in this upstream", t.url));
                } else {
                    seen.push(key);
                }
            }
        }
    }
    if !u.targets.is_empty() && u.targets.iter().all(|t| t.weight == 0) {
        r.push(format!("{base}.targets"), "the targets' weights add up to 0, so no target can be picked; give at least one a weight ≥ 1");
    }

    match (&u.balance, &u.hash_on) {
        (BalanceSpec::ConsistentHash, None) => r.push(
            format!("{base}.balance"),
            "`consistent_hash` needs `hash_on` (`header: <name>`, `cookie: <name>` or `client_ip`)",
        ),
        (BalanceSpec::ConsistentHash, Some(HashOnSpec::Header(h))) => {
            r.check(format!("{base}.hash_on.header"), header_name(h));
        }
        (BalanceSpec::ConsistentHash, Some(HashOnSpec::Cookie(c))) if c.trim().is_empty() => {
            r.push(
                format!("{base}.hash_on.cookie"),
                "a cookie name is required",
            );
        }
        (BalanceSpec::ConsistentHash, Some(_)) | (_, None) => {}
        (_, Some(_)) => r.push(
            format!("{base}.hash_on"),
            "`hash_on` is used only with `balance: consistent_hash`; remove it or change `balance`",
        ),
    }

    health(r, &format!("{base}.health_check"), &u.health_check);
    if let Some(cb) = &u.circuit_breaker {
        breaker(r, &format!("{base}.circuit_breaker"), cb);
    }
    if let Some(rt) = &u.retries {
        retries(r, &format!("{base}.retries"), rt);
    }
    if let Some(tls) = &u.tls {
        let tb = format!("{base}.tls");
        if !any_https && !u.targets.is_empty() {
            r.push(tb.clone(), "`tls` is set but no target uses `https://`");
        }
        super::client_tls_files(
            r,
            &tb,
            &tls.ca_file,
            &tls.client_cert_file,
            &tls.client_key_file,
        );
        if let Some(sni) = &tls.server_name {
            r.check(format!("{tb}.server_name"), hostname(sni));
        }
    }
}

fn health(r: &mut Report, base: &str, h: &HealthCheckSpec) {
    if let Some(a) = &h.active {
        let ab = format!("{base}.active");
        if !a.path.starts_with('/') {
            r.push(
                format!("{ab}.path"),
                format!("`{}` must start with `/`", a.path),
            );
        }
        if a.interval.get().is_zero() {
            r.push(format!("{ab}.interval"), "must be greater than 0s");
        }
        if a.timeout.get().is_zero() {
            r.push(format!("{ab}.timeout"), "must be greater than 0s");
        }
        at_least_one(r, &format!("{ab}.healthy_threshold"), a.healthy_threshold);
        at_least_one(
            r,
            &format!("{ab}.unhealthy_threshold"),
            a.unhealthy_threshold,
        );
    }
    if let Some(p) = &h.passive {
        let pb = format!("{base}.passive");
        at_least_one(
            r,
            &format!("{pb}.consecutive_failures"),
            p.consecutive_failures,
        );
        if p.ejection_time > p.max_ejection_time {
            r.push(
                format!("{pb}.ejection_time"),
                format!(
                    "`{}` is longer than `max_ejection_time` ({})",
                    p.ejection_time, p.max_ejection_time
                ),
            );
        }
    }
}

fn breaker(r: &mut Report, base: &str, cb: &CircuitBreakerSpec) {
    at_least_one(
        r,
        &format!("{base}.failure_threshold"),
        cb.failure_threshold,
    );
    at_least_one(
        r,
        &format!("{base}.half_open_requests"),
        cb.half_open_requests,
    );
    if cb.open_for.get().is_zero() {
        r.push(format!("{base}.open_for"), "must be greater than 0s");
    }
}

fn retries(r: &mut Report, base: &str, rt: &RetrySpec) {
    if !(0.0..=1.0).contains(&rt.budget_ratio) {
        r.push(
            format!("{base}.budget_ratio"),
            format!("`{}` is out of range: a fraction from 0 to 1 (0.2 = 20 % of requests may be retried)", rt.budget_ratio),
        );
    }
    if rt.backoff_base > rt.backoff_max {
        r.push(
            format!("{base}.backoff_base"),
            format!(
                "`{}` is longer than `backoff_max` ({})",
                rt.backoff_base, rt.backoff_max
            ),
        );
    }
    for (k, s) in rt.on_statuses.iter().enumerate() {
        status(r, &format!("{base}.on_statuses[{k}]"), *s);
    }
}

/// A status code is 100 to 599.
pub(super) fn status(r: &mut Report, path: &str, s: u16) {
    if !(100..=599).contains(&s) {
        r.push(
            path,
            format!("`{s}` is not an HTTP status; allowed: 100 to 599"),
        );
    }
}

fn at_least_one(r: &mut Report, path: &str, v: u32) {
    if v == 0 {
        r.push(path, "must be at least 1");
    }
}
