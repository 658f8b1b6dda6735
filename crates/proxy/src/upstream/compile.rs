//! Building a [`Pool`] from its spec, with every error reported at once.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use http::Uri;
use http::uri::{Authority, Scheme};
use sy_config::{BalanceSpec, UpstreamSpec};

use super::Pool;
use super::balance::Balancer;
use super::breaker::{Breaker, COUNTER_MAX};
use super::budget::RetryBudget;
use super::outlier::Outlier;
use super::target::{Clock, Target, TargetParts};

/// Check `spec` and build the pool; errors read `upstream `x`: path: problem`.
pub(crate) fn build(spec: &UpstreamSpec) -> Result<Pool, Vec<String>> {
    let mut errors = check(spec);
    let name: Arc<str> = spec.name.as_str().into();
    let clock = Clock::new();
    let listener = Arc::new(OnceLock::new());
    let mut seen = HashSet::new();
    let mut targets = Vec::with_capacity(spec.targets.len());
    for (index, t) in spec.targets.iter().enumerate() {
        match parse_url(&t.url) {
            Ok((scheme, authority)) => {
                // Ring points and metric labels are keyed by the URL, so a
                // duplicate would silently double one target's share.
                if !seen.insert(format!("{scheme}://{authority}")) {
                    errors.push(format!("targets[{index}].url: `{}` is listed twice", t.url));
                }
                targets.push(Arc::new(Target::new(TargetParts {
                    index,
                    upstream: Arc::clone(&name),
                    scheme,
                    authority,
                    weight: t.weight,
                    clock,
                    outlier: spec.health_check.passive.as_ref().map(Outlier::new),
                    breaker: spec.circuit_breaker.as_ref().map(Breaker::new),
                    listener: Arc::clone(&listener),
                })));
            }
            Err(e) => errors.push(format!("targets[{index}].url: {e}")),
        }
    }
    if !errors.is_empty() {
        return Err(errors
            .into_iter()
            .map(|e| format!("upstream `{}`: {e}", spec.name))
            .collect());
    }
    Ok(Pool {
        balancer: Balancer::new(spec.balance, &targets),
        budget: spec.retries.as_ref().map(RetryBudget::from_spec),
        name,
        spec: spec.clone(),
        targets,
        clock,
        listener,
    })
}

/// Spec checks other than the target URLs.
fn check(spec: &UpstreamSpec) -> Vec<String> {
    let mut errors = Vec::new();
    let mut require = |ok: bool, msg: &str| {
        if !ok {
            errors.push(msg.to_owned());
        }
    };
    require(
        !spec.targets.is_empty(),
        "targets: at least one target is needed",
    );
    // Without `hash_on` every request would fall back to weighted, which is
    // surely not what the author meant.
    require(
        spec.balance != BalanceSpec::ConsistentHash || spec.hash_on.is_some(),
        "hash_on: `consistent_hash` needs `hash_on` (a header, a cookie or client_ip)",
    );
    if let Some(a) = &spec.health_check.active {
        require(
            a.path.starts_with('/'),
            "health_check.active.path: must start with `/`",
        );
        require(
            !a.interval.get().is_zero(),
            "health_check.active.interval: must be more than 0s",
        );
        require(
            a.healthy_threshold >= 1,
            "health_check.active.healthy_threshold: must be at least 1",
        );
        require(
            a.unhealthy_threshold >= 1,
            "health_check.active.unhealthy_threshold: must be at least 1",
        );
    }
    if let Some(p) = &spec.health_check.passive {
        require(
            p.consecutive_failures >= 1,
            "health_check.passive.consecutive_failures: must be at least 1",
        );
        require(
            !p.ejection_time.get().is_zero(),
            "health_check.passive.ejection_time: must be more than 0s",
        );
        require(
            p.max_ejection_time >= p.ejection_time,
            "health_check.passive.max_ejection_time: must not be less than ejection_time",
        );
    }
    // The breaker packs its counters into 24 bits (see breaker.rs).
    if let Some(b) = &spec.circuit_breaker {
        let max = COUNTER_MAX;
        require(
            (1..=max).contains(&b.failure_threshold),
            &format!("circuit_breaker.failure_threshold: must be between 1 and {max}"),
        );
        require(
            (1..=max).contains(&b.half_open_requests),
            &format!("circuit_breaker.half_open_requests: must be between 1 and {max}"),
        );
    }
    if let Some(r) = &spec.retries {
        require(
            r.budget_ratio.is_finite() && (0.0..=1000.0).contains(&r.budget_ratio),
            "retries.budget_ratio: must be a number from 0 to 1000",
        );
        require(
            r.backoff_max >= r.backoff_base,
            "retries.backoff_max: must not be less than backoff_base",
        );
    }
    errors
}

/// `http://host[:port]` or `https://host[:port]`, optionally with a trailing
/// `/`; the port defaults to 80 or 443.
pub(crate) fn parse_url(url: &str) -> Result<(Scheme, Authority), String> {
    let uri: Uri = url
        .parse()
        .map_err(|e| format!("`{url}` is not a URL ({e})"))?;
    let scheme = match uri.scheme_str() {
        Some("http") => Scheme::HTTP,
        Some("https") => Scheme::HTTPS,
        Some(other) => {
            return Err(format!(
                "`{url}`: scheme `{other}` is not supported; use http or https"
            ));
        }
        None => {
            return Err(format!(
                "`{url}` has no scheme; write it like `http://host:port`"
            ));
        }
    };
    let authority = uri
        .authority()
        .ok_or_else(|| format!("`{url}` has no host; write it like `http://host:port`"))?;
    if authority.as_str().contains('@') {
        return Err(format!("`{url}`: credentials in the URL are not supported"));
    }
    if authority.host().is_empty() {
        return Err(format!("`{url}` has no host"));
    }
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        return Err(format!(
            "`{url}`: a target is a base URL without path or query"
        ));
    }
    if authority.port().is_some() {
        return Ok((scheme, authority.clone()));
    }
    if authority.as_str().ends_with(':') {
        return Err(format!("`{url}` has an empty port"));
    }
    let port = if scheme == Scheme::HTTPS { 443 } else { 80 };
    let with_port = format!("{}:{port}", authority.as_str());
    let authority = with_port
        .parse()
        .map_err(|e| format!("`{url}`: bad host ({e})"))?;
    Ok((scheme, authority))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(url: &str) -> String {
        let (s, a) = parse_url(url).unwrap();
        format!("{s}://{a}")
    }

    #[test]
    fn urls_get_default_ports() {
        assert_eq!(ok("http://example.com"), "http://example.com:80");
        assert_eq!(ok("https://example.com/"), "https://example.com:443");
        assert_eq!(ok("http://10.0.0.1:8080"), "http://10.0.0.1:8080");
        assert_eq!(ok("https://[::1]"), "https://[::1]:443");
        assert_eq!(ok("http://[::1]:9000"), "http://[::1]:9000");
    }

    #[test]
    fn bad_urls_say_why() {
        for (url, needle) in [
            ("example.com:80", "scheme"),
            ("ftp://example.com", "not supported"),
            ("http://example.com/api", "without path"),
            ("http://example.com?a=1", "without path"),
            ("http://user:pw@example.com", "credentials"),
            ("http://exa mple.com", "not a URL"),
            ("http://example.com:", "empty port"),
        ] {
            let e = parse_url(url).unwrap_err();
            assert!(e.contains(needle), "{url}: {e}");
        }
    }
}
