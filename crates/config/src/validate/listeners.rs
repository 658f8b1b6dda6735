//! Listeners and the admin listener: names, bind addresses, TLS files and
//! limits.

use std::net::SocketAddr;

use super::Report;
use crate::spec::{ConfigSpec, ListenerLimitsSpec};

pub(super) fn check(spec: &ConfigSpec, r: &mut Report) {
    r.unique_names(
        "listeners",
        "listener",
        spec.listeners.iter().map(|l| l.name.as_str()),
    );

    // Binds that parsed, with where they came from, to find clashes.
    let mut binds: Vec<(SocketAddr, String)> = Vec::new();
    for (i, l) in spec.listeners.iter().enumerate() {
        let base = format!("listeners[{i}]");
        if let Some(addr) = bind(r, &format!("{base}.bind"), &l.bind) {
            clash(r, &mut binds, addr, format!("{base}.bind"));
        }
        if let Some(tls) = &l.tls {
            non_empty(r, &format!("{base}.tls.cert_file"), &tls.cert_file);
            non_empty(r, &format!("{base}.tls.key_file"), &tls.key_file);
            if let Some(ca) = &tls.client_ca_file {
                non_empty(r, &format!("{base}.tls.client_ca_file"), ca);
            }
        }
        limits(r, &format!("{base}.limits"), &l.limits);
    }
    if let Some(admin) = &spec.admin
        && let Some(addr) = bind(r, "admin.bind", &admin.bind)
    {
        clash(r, &mut binds, addr, "admin.bind".into());
    }
}

/// Parse a bind address, reporting why it is not one.
fn bind(r: &mut Report, path: &str, text: &str) -> Option<SocketAddr> {
    match text.parse::<SocketAddr>() {
        Ok(a) => Some(a),
        Err(_) => {
            r.push(
                path,
                format!("`{text}` is not a socket address; write `IP:port`, e.g. `127.0.0.1:8080`, `0.0.0.0:80` or `[::]:443`"),
            );
            None
        }
    }
}

/// Two sockets cannot bind the same port when their addresses are equal or
/// either is the wildcard (`0.0.0.0`, `[::]`) of the same family. Port 0
/// asks the kernel for a free port, so it never clashes.
fn clash(r: &mut Report, seen: &mut Vec<(SocketAddr, String)>, addr: SocketAddr, path: String) {
    let overlaps = |other: &SocketAddr| {
        addr.port() != 0
            && other.port() == addr.port()
            && other.is_ipv4() == addr.is_ipv4()
            && (other.ip() == addr.ip()
                || other.ip().is_unspecified()
                || addr.ip().is_unspecified())
    };
    if let Some((other, first)) = seen.iter().find(|(o, _)| overlaps(o)) {
        r.push(
            path.clone(),
            format!("`{addr}` clashes with `{other}` at {first}: each listener needs its own port"),
        );
    }
    seen.push((addr, path));
}

fn non_empty(r: &mut Report, path: &str, value: &str) {
    if value.trim().is_empty() {
        r.push(path, "a file path is required here");
    }
}

fn limits(r: &mut Report, base: &str, l: &ListenerLimitsSpec) {
    if l.max_header_bytes.0 < 1024 {
        r.push(
            format!("{base}.max_header_bytes"),
            "must be at least 1KiB (1024 bytes)",
        );
    }
    if l.max_body_bytes.0 == 0 {
        r.push(format!("{base}.max_body_bytes"), "must be greater than 0");
    }
    if l.header_read_timeout.get().is_zero() {
        r.push(
            format!("{base}.header_read_timeout"),
            "must be greater than 0s (it guards against slow clients)",
        );
    }
    if l.max_connections == 0 {
        r.push(format!("{base}.max_connections"), "must be at least 1");
    }
    if l.h2_max_concurrent_streams == 0 {
        r.push(
            format!("{base}.h2_max_concurrent_streams"),
            "must be at least 1",
        );
    }
}
