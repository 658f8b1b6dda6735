//! Header handling between client and upstream: hop-by-hop stripping,
//! `X-Forwarded-*` / `Forwarded`, request ids and W3C trace context.

use std::net::IpAddr;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1),
/// plus `proxy-connection` which some clients still send.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

/// `x-request-id`.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// Remove hop-by-hop headers, including any named in `Connection`. With
/// `keep_upgrade`, `Connection: upgrade` and `Upgrade` survive so a WebSocket
/// handshake reaches the upstream.
pub fn strip_hop_by_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    if let Some(conn) = headers.get(header::CONNECTION) {
        let named: Vec<HeaderName> = conn
            .to_str()
            .unwrap_or("")
            .split(',')
            .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
            .filter(|n| !(keep_upgrade && n == header::UPGRADE))
            .collect();
        for n in named {
            headers.remove(n);
        }
    }
    // One pass over the names present, then removals only for those found:
    // removing each of the eight by name hashed every one of them on every
    // proxied request, present or not (most requests carry none).
    let found: Vec<HeaderName> = headers
        .keys()
        .filter(|k| HOP_BY_HOP.contains(k) || (!keep_upgrade && *k == header::UPGRADE))
        .cloned()
        .collect();
    for name in found {
        headers.remove(name);
    }
    if keep_upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    }
}

/// Whether the request asks to switch protocols (WebSocket and friends).
pub fn is_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(header::UPGRADE)
        && headers.get_all(header::CONNECTION).iter().any(|v| {
            v.to_str()
                .unwrap_or("")
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
        })
}

/// Append `peer` (the address this hop received the request from) to
/// `X-Forwarded-For` and `Forwarded`, and set `X-Forwarded-Proto` and
/// `X-Forwarded-Host` when not already set by a trusted hop. When the peer is
/// not trusted, any client-sent forwarding headers are replaced rather than
/// extended: they would be lies.
pub fn add_forwarded(
    headers: &mut HeaderMap,
    peer: IpAddr,
    peer_trusted: bool,
    tls: bool,
    host: Option<&str>,
) {
    let client = peer;
    let proto = if tls { "https" } else { "http" };
    if !peer_trusted {
        headers.remove(&X_FORWARDED_FOR);
        headers.remove(&X_FORWARDED_PROTO);
        headers.remove(&X_FORWARDED_HOST);
        headers.remove(header::FORWARDED);
    }
    // One small buffer per header, written without `format!`: this runs on
    // every proxied request.
    let mut xff = String::with_capacity(64);
    if let Some(prev) = headers
        .get(&X_FORWARDED_FOR)
        .and_then(|v| v.to_str().ok())
        .filter(|p| !p.is_empty())
    {
        xff.push_str(prev);
        xff.push_str(", ");
    }
    push_ip(&mut xff, client);
    if let Ok(v) = HeaderValue::from_str(&xff) {
        headers.insert(&X_FORWARDED_FOR, v);
    }
    if !headers.contains_key(&X_FORWARDED_PROTO) {
        headers.insert(&X_FORWARDED_PROTO, HeaderValue::from_static(proto));
    }
    if let Some(host) = host {
        if !headers.contains_key(&X_FORWARDED_HOST) {
            if let Ok(v) = HeaderValue::from_str(host) {
                headers.insert(&X_FORWARDED_HOST, v);
            }
        }
    }
    let mut element = String::with_capacity(64);
    // RFC 7239: IPv6 addresses are quoted and bracketed.
    match client {
        IpAddr::V4(_) => {
            element.push_str("for=");
            push_ip(&mut element, client);
        }
        IpAddr::V6(_) => {
            element.push_str("for=\"[");
            push_ip(&mut element, client);
            element.push_str("]\"");
        }
    }
    element.push_str(";proto=");
    element.push_str(proto);
    if let Some(host) = host.filter(|h| h.bytes().all(|b| b.is_ascii_graphic() && b != b'"')) {
        element.push_str(";host=\"");
        element.push_str(host);
        element.push('"');
    }
    let fwd = match headers.get(header::FORWARDED).and_then(|v| v.to_str().ok()) {
        Some(prev) if !prev.is_empty() => format!("{prev}, {element}"),
        _ => element,
    };
    if let Ok(v) = HeaderValue::from_str(&fwd) {
        headers.insert(header::FORWARDED, v);
    }
}

/// Append `ip` as text. An IPv4 address is written digit by digit:
/// `Ipv4Addr`'s `Display` goes through the formatting machinery (it honours
/// width and padding) at ~900 instructions a call, twice per proxied
/// request. IPv6 keeps `Display` (its `::` compression rules).
fn push_ip(out: &mut String, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                if octet >= 100 {
                    out.push(char::from(b'0' + octet / 100));
                }
                if octet >= 10 {
                    out.push(char::from(b'0' + octet / 10 % 10));
                }
                out.push(char::from(b'0' + octet % 10));
            }
        }
        IpAddr::V6(v6) => {
            use std::fmt::Write as _;
            // Writing to a String cannot fail.
            let _ = write!(out, "{v6}");
        }
    }
}

/// Keep a valid W3C `traceparent` and make this hop a child span of it, or
/// start a new trace when it is absent or malformed. Returns the value sent.
pub fn propagate_traceparent(headers: &mut HeaderMap) -> HeaderValue {
    // Written into one fixed buffer: this runs on every proxied request.
    let mut out = [0u8; 55];
    out[..3].copy_from_slice(b"00-");
    let parent = headers
        .get(&TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_traceparent);
    match parent {
        Some((trace, flags)) => {
            out[3..35].copy_from_slice(trace.as_bytes());
            out[53..55].copy_from_slice(flags.as_bytes());
        }
        None => {
            put_hex(&mut out[3..19], fastrand::u64(1..));
            put_hex(&mut out[19..35], fastrand::u64(..));
            out[53..55].copy_from_slice(b"01");
        }
    }
    out[35] = b'-';
    put_hex(&mut out[36..52], fastrand::u64(1..));
    out[52] = b'-';
    let v = HeaderValue::from_bytes(&out).unwrap_or_else(|_| {
        HeaderValue::from_static("00-00000000000000000000000000000001-0000000000000001-00")
    });
    headers.insert(&TRACEPARENT, v.clone());
    v
}

/// `v` as 16 lower-case hex digits into `out` (16 bytes).
fn put_hex(out: &mut [u8], v: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in out.iter_mut().enumerate() {
        *b = HEX[((v >> (60 - 4 * i)) & 0xf) as usize];
    }
}

/// `(trace id, flags)` of a valid version-00 `traceparent`, borrowed.
fn parse_traceparent(v: &str) -> Option<(&str, &str)> {
    let mut parts = v.trim().split('-');
    let (version, trace, span, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if version != "00"
        || !hex(trace, 32)
        || !hex(span, 16)
        || !hex(flags, 2)
        || parts.next().is_some()
    {
        return None;
    }
    if trace.bytes().all(|b| b == b'0') || span.bytes().all(|b| b == b'0') {
        return None;
    }
    Some((trace, flags))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_hop_by_hop_and_connection_listed() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-secret"),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert(header::TE, HeaderValue::from_static("trailers"));
        h.insert("x-keep", HeaderValue::from_static("1"));
        strip_hop_by_hop(&mut h, false);
        assert_eq!(h.len(), 1, "{h:?}");
        assert!(h.contains_key("x-keep"));
    }

    #[test]
    fn every_hop_by_hop_header_goes_and_upgrade_unless_kept() {
        let mut h = HeaderMap::new();
        for name in HOP_BY_HOP.iter().chain([&header::UPGRADE]) {
            h.append(name, HeaderValue::from_static("x"));
            h.append(name, HeaderValue::from_static("y"));
        }
        h.insert("x-keep", HeaderValue::from_static("1"));
        strip_hop_by_hop(&mut h, false);
        assert_eq!(h.keys().collect::<Vec<_>>(), ["x-keep"]);
    }

    #[test]
    fn addresses_are_written_as_display_writes_them() {
        let mut addrs: Vec<IpAddr> = Vec::new();
        for octet in 0..=255u8 {
            addrs.push(std::net::Ipv4Addr::new(octet, 0, 255 - octet, octet / 3).into());
            addrs.push(std::net::Ipv4Addr::new(9, octet, 100, octet).into());
        }
        addrs.push("::1".parse().unwrap());
        addrs.push("2001:db8::ff00:42:8329".parse().unwrap());
        for ip in addrs {
            let mut out = String::from("a");
            push_ip(&mut out, ip);
            assert_eq!(out, format!("a{ip}"));
        }
    }

    #[test]
    fn upgrade_survives_when_asked() {
        let mut h = HeaderMap::new();
        h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        assert!(is_upgrade(&h));
        strip_hop_by_hop(&mut h, true);
        assert_eq!(h.get(header::UPGRADE).unwrap(), "websocket");
        assert_eq!(h.get(header::CONNECTION).unwrap(), "upgrade");
    }

    #[test]
    fn forwarded_headers_from_untrusted_peer_are_replaced() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("6.6.6.6"));
        add_forwarded(
            &mut h,
            "10.0.0.1".parse().unwrap(),
            false,
            true,
            Some("api.test"),
        );
        assert_eq!(h.get("x-forwarded-for").unwrap(), "10.0.0.1");
        assert_eq!(h.get("x-forwarded-proto").unwrap(), "https");
        assert_eq!(
            h.get("forwarded").unwrap(),
            "for=10.0.0.1;proto=https;host=\"api.test\""
        );
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("1.2.3.4"));
        add_forwarded(&mut h, "::1".parse().unwrap(), true, false, None);
        assert_eq!(h.get("x-forwarded-for").unwrap(), "1.2.3.4, ::1");
        assert_eq!(h.get("forwarded").unwrap(), "for=\"[::1]\";proto=http");
    }

    #[test]
    fn traceparent_keeps_trace_and_makes_new_span() {
        let mut h = HeaderMap::new();
        h.insert(
            "traceparent",
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        let v = propagate_traceparent(&mut h);
        let s = v.to_str().unwrap();
        assert!(s.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"), "{s}");
        assert!(!s.contains("00f067aa0ba902b7"));
        assert!(s.ends_with("-01"));
        let mut h = HeaderMap::new();
        h.insert("traceparent", HeaderValue::from_static("garbage"));
        let s = propagate_traceparent(&mut h).to_str().unwrap().to_string();
        assert_eq!(s.len(), 55);
        assert!(parse_traceparent(&s).is_some());
    }
}
