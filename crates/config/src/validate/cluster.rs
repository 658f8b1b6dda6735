//! The `cluster` section: a Redis URL this build can connect to, a usable
//! key prefix, a timeout a request can afford to wait.

use std::time::Duration;

use super::Report;
use crate::spec::ConfigSpec;

/// Longest timeout: every request that needs Redis may wait this long.
const MAX_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) fn check(spec: &ConfigSpec, r: &mut Report) {
    let Some(c) = &spec.cluster else {
        return;
    };
    r.check("cluster.redis", redis_url(&c.redis));
    if let Some(tls) = &c.tls {
        let tls_url = c.redis.starts_with("rediss://") || c.redis.starts_with("valkeys://");
        if !tls_url {
            r.push(
                "cluster.tls",
                "`tls` is set but `redis` is not a `rediss://` URL (write `rediss://host:port`)",
            );
        }
        super::client_tls_files(
            r,
            "cluster.tls",
            &tls.ca_file,
            &tls.client_cert_file,
            &tls.client_key_file,
        );
    }
    if c.prefix.is_empty() {
        r.push("cluster.prefix", "the key prefix cannot be empty");
    } else if let Some(ch) = c.prefix.chars().find(|ch| !ch.is_ascii_graphic()) {
        r.push(
            "cluster.prefix",
            format!("{ch:?} is not allowed in the key prefix (visible ASCII, no spaces)"),
        );
    }
    let t = c.timeout.get();
    if t.is_zero() || t > MAX_TIMEOUT {
        r.push(
            "cluster.timeout",
            format!(
                "`{}` is out of range: between 1ms and {}s (each request may wait this long)",
                c.timeout,
                MAX_TIMEOUT.as_secs()
            ),
        );
    }
}

fn redis_url(url: &str) -> Result<(), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!(
            "`{url}` is not a Redis URL; write `redis://host:6379/0`, \
             `rediss://host:6380/0` (TLS) or `redis+unix:///path/to/socket`"
        ));
    };
    match scheme {
        "redis" | "rediss" | "valkey" | "valkeys" => {}
        "redis+unix" | "unix" => {
            return if rest.starts_with('/') {
                Ok(())
            } else {
                Err(format!(
                    "`{url}` needs an absolute socket path after `{scheme}://`"
                ))
            };
        }
        other => {
            return Err(format!(
                "`{other}://` is not a Redis URL scheme; allowed: `redis://`, `rediss://` (TLS), `redis+unix://`"
            ));
        }
    }
    // `[user:password@]host[:port][/db]`; the password may hold `@` or `/`.
    let (authority, path) = match rest.rsplit_once('@') {
        Some((_, after)) => after.split_once('/').unwrap_or((after, "")),
        None => rest.split_once('/').unwrap_or((rest, "")),
    };
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if !authority.ends_with(']') => {
            if port.parse::<u16>().is_err() {
                return Err(format!("`{port}` is not a port number"));
            }
            h
        }
        _ => authority,
    };
    if host.is_empty() {
        return Err(format!("`{url}` names no host"));
    }
    if !path.is_empty() && path.parse::<u32>().is_err() {
        return Err(format!(
            "`/{path}` is not a database number; write `/0` (or leave it out)"
        ));
    }
    Ok(())
}
