//! Header handling between client and upstream: hop-by-hop stripping,
//! `X-Forwarded-*` / `Forwarded`, request ids and W3C trace context.

use std::net::IpAddr;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

use sy_http::{HOP_BY_HOP, RawHeaders, RequestFields, name_bit};

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

/// Which of the fields this hop writes the client already sent, found in
/// one pass over the names present: looking each up by name hashed every
/// one of them on every proxied request, present or not (most requests
/// carry none).
#[derive(Debug, Default, Clone, Copy)]
pub struct Present {
    xff: bool,
    proto: bool,
    host: bool,
    forwarded: bool,
    request_id: bool,
    traceparent: bool,
}

impl Present {
    /// Scan `headers`.
    pub fn scan(headers: &HeaderMap) -> Self {
        let mut p = Present::default();
        for name in headers.keys() {
            p.xff |= name == X_FORWARDED_FOR;
            p.proto |= name == X_FORWARDED_PROTO;
            p.host |= name == X_FORWARDED_HOST;
            p.forwarded |= name == header::FORWARDED;
            p.request_id |= name == X_REQUEST_ID;
            p.traceparent |= name == TRACEPARENT;
        }
        p
    }
}

/// A request's fields, in a header map or kept as lines (see
/// `sy_http::request_fields`): what this hop reads and removes of them
/// before passing them on.
pub trait ClientFields {
    /// Which of the fields this hop writes are already there.
    fn present(&self) -> Present;
    /// The first value of `name`.
    fn first(&self, name: &HeaderName) -> Option<&[u8]>;
    /// Remove every field named `name`.
    fn remove_all(&mut self, name: &HeaderName);
}

impl ClientFields for HeaderMap {
    fn present(&self) -> Present {
        Present::scan(self)
    }

    fn first(&self, name: &HeaderName) -> Option<&[u8]> {
        self.get(name).map(HeaderValue::as_bytes)
    }

    fn remove_all(&mut self, name: &HeaderName) {
        self.remove(name);
    }
}

/// Lines answer each name from their name bits: for most requests none of
/// the six is there and no line is read.
impl ClientFields for RequestFields {
    fn present(&self) -> Present {
        const ANY: u64 = name_bit(b"x-forwarded-for")
            | name_bit(b"x-forwarded-proto")
            | name_bit(b"x-forwarded-host")
            | name_bit(b"forwarded")
            | name_bit(b"x-request-id")
            | name_bit(b"traceparent");
        if !self.may_contain(ANY) {
            return Present::default();
        }
        Present {
            xff: self.contains(&X_FORWARDED_FOR),
            proto: self.contains(&X_FORWARDED_PROTO),
            host: self.contains(&X_FORWARDED_HOST),
            forwarded: self.contains(&header::FORWARDED),
            request_id: self.contains(&X_REQUEST_ID),
            traceparent: self.contains(&TRACEPARENT),
        }
    }

    fn first(&self, name: &HeaderName) -> Option<&[u8]> {
        self.get(name)
    }

    fn remove_all(&mut self, name: &HeaderName) {
        self.remove(name);
    }
}

/// Append `peer` (the address this hop received the request from) to
/// `X-Forwarded-For` and `Forwarded`, and set `X-Forwarded-Proto` and
/// `X-Forwarded-Host` when not already set by a trusted hop. When the peer is
/// not trusted, any client-sent forwarding headers are replaced rather than
/// extended: they would be lies. `host` is the request's `Host` value.
///
/// The fields this hop writes go to `lines`, sent after the request's own
/// (no header value allocated, no map insert); the client's fields they
/// replace are removed from `headers`.
pub fn add_forwarded<F: ClientFields + ?Sized>(
    headers: &mut F,
    lines: &mut RawHeaders,
    present: &Present,
    peer: IpAddr,
    peer_trusted: bool,
    tls: bool,
    host: Option<&HeaderValue>,
) {
    let proto: &[u8] = if tls { b"https" } else { b"http" };
    let mut ip_buf = [0u8; 48];
    let ip = ip_text(peer, &mut ip_buf);
    // A trusted hop's values are extended (or kept); an untrusted one's
    // are dropped.
    let previous = |present: bool, name: &HeaderName| {
        (peer_trusted && present)
            .then(|| headers.first(name))
            .flatten()
            .filter(|p| !p.is_empty())
    };
    match previous(present.xff, &X_FORWARDED_FOR) {
        Some(prev) => lines.push(&X_FORWARDED_FOR, &[prev, b", ", ip]),
        None => lines.push(&X_FORWARDED_FOR, &[ip]),
    };
    let keep_proto = peer_trusted && present.proto;
    if !keep_proto {
        lines.push(&X_FORWARDED_PROTO, &[proto]);
    }
    let keep_host = peer_trusted && present.host;
    if let Some(host) = host
        && !keep_host
    {
        lines.push(&X_FORWARDED_HOST, &[host.as_bytes()]);
    }
    // RFC 7239: IPv6 addresses are quoted and bracketed; the host is a
    // quoted string, left out when it could not be one.
    let (open, close): (&[u8], &[u8]) = match peer {
        IpAddr::V4(_) => (b"for=", b""),
        IpAddr::V6(_) => (b"for=\"[", b"]\""),
    };
    let host = host
        .map(HeaderValue::as_bytes)
        .filter(|h| h.iter().all(|&b| b.is_ascii_graphic() && b != b'"'));
    let (host_open, host, host_close): (&[u8], &[u8], &[u8]) = match host {
        Some(h) => (b";host=\"", h, b"\""),
        None => (b"", b"", b""),
    };
    let (prev, sep): (&[u8], &[u8]) = match previous(present.forwarded, &header::FORWARDED) {
        Some(p) => (p, b", "),
        None => (b"", b""),
    };
    lines.push(
        &header::FORWARDED,
        &[
            prev, sep, open, ip, close, b";proto=", proto, host_open, host, host_close,
        ],
    );
    // What the lines replace, and what an untrusted peer sent.
    for (there, replaced, name) in [
        (present.xff, true, &X_FORWARDED_FOR),
        (present.forwarded, true, &header::FORWARDED),
        (present.proto, !keep_proto, &X_FORWARDED_PROTO),
        (present.host, !keep_host, &X_FORWARDED_HOST),
    ] {
        if there && replaced {
            headers.remove_all(name);
        }
    }
}

/// Send `id` as the request's `X-Request-Id`, in place of the client's.
pub fn set_request_id<F: ClientFields + ?Sized>(
    headers: &mut F,
    lines: &mut RawHeaders,
    present: &Present,
    id: &str,
) {
    if present.request_id {
        headers.remove_all(&X_REQUEST_ID);
    }
    lines.push(&X_REQUEST_ID, &[id.as_bytes()]);
}

/// `ip` as text in `buf`, as `Display` writes it (IPv4 digit by digit:
/// `Ipv4Addr`'s `Display` cost ~900 instructions).
fn ip_text(ip: IpAddr, buf: &mut [u8; 48]) -> &[u8] {
    let mut n = 0;
    match ip {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                let mut digits = [0u8; 4];
                let mut d = 0;
                if i > 0 {
                    digits[d] = b'.';
                    d += 1;
                }
                if octet >= 100 {
                    digits[d] = b'0' + octet / 100;
                    d += 1;
                }
                if octet >= 10 {
                    digits[d] = b'0' + octet / 10 % 10;
                    d += 1;
                }
                digits[d] = b'0' + octet % 10;
                d += 1;
                if let Some(out) = buf.get_mut(n..n + d) {
                    out.copy_from_slice(&digits[..d]);
                }
                n += d;
            }
        }
        IpAddr::V6(v6) => {
            use std::io::Write as _;
            let mut cursor = std::io::Cursor::new(&mut buf[..]);
            // 39 bytes at most (45 with an embedded IPv4): always fits.
            let _ = write!(cursor, "{v6}");
            n = usize::try_from(cursor.position()).unwrap_or(0);
        }
    }
    buf.get(..n).unwrap_or(&[])
}

/// Keep a valid W3C `traceparent` and make this hop a child span of it, or
/// start a new trace when it is absent or malformed. The new value goes to
/// `lines`; the client's is removed from `headers`.
pub fn propagate_traceparent<F: ClientFields + ?Sized>(
    headers: &mut F,
    lines: &mut RawHeaders,
    present: &Present,
) {
    // Written into one fixed buffer: this runs on every proxied request.
    let mut out = [0u8; 55];
    out[..3].copy_from_slice(b"00-");
    let parent = present
        .traceparent
        .then(|| headers.first(&TRACEPARENT))
        .flatten()
        .and_then(|v| std::str::from_utf8(v).ok())
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
    if present.traceparent {
        headers.remove_all(&TRACEPARENT);
    }
    lines.push(&TRACEPARENT, &[&out]);
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

    /// `add_forwarded` with its lines merged back into `h`, as the upstream
    /// sees them.
    fn forward_fields(
        h: &mut HeaderMap,
        peer: &str,
        trusted: bool,
        tls: bool,
        host: Option<&HeaderValue>,
    ) {
        let present = Present::scan(h);
        let mut lines = RawHeaders::default();
        add_forwarded(
            h,
            &mut lines,
            &present,
            peer.parse().unwrap(),
            trusted,
            tls,
            host,
        );
        lines.merge_into(h);
    }

    fn traceparent(h: &mut HeaderMap) {
        let present = Present::scan(h);
        let mut lines = RawHeaders::default();
        propagate_traceparent(h, &mut lines, &present);
        lines.merge_into(h);
    }

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
        // The longest IPv6 text (an embedded IPv4 address).
        addrs.push(
            "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"
                .parse()
                .unwrap(),
        );
        addrs.push("1111:2222:3333:4444:5555:6666:7777:8888".parse().unwrap());
        for ip in addrs {
            let mut buf = [0u8; 48];
            assert_eq!(ip_text(ip, &mut buf), ip.to_string().as_bytes(), "{ip}");
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
        forward_fields(
            &mut h,
            "10.0.0.1",
            false,
            true,
            Some(&HeaderValue::from_static("api.test")),
        );
        assert_eq!(h.get("x-forwarded-host").unwrap(), "api.test");
        assert_eq!(h.get("x-forwarded-for").unwrap(), "10.0.0.1");
        assert_eq!(h.get("x-forwarded-proto").unwrap(), "https");
        assert_eq!(
            h.get("forwarded").unwrap(),
            "for=10.0.0.1;proto=https;host=\"api.test\""
        );
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("1.2.3.4"));
        forward_fields(&mut h, "::1", true, false, None);
        assert_eq!(h.get("x-forwarded-for").unwrap(), "1.2.3.4, ::1");
        assert_eq!(h.get("forwarded").unwrap(), "for=\"[::1]\";proto=http");
        assert!(h.get("x-forwarded-host").is_none());
        // A trusted hop's values are extended, and a host that cannot be a
        // quoted string is left out of `Forwarded` (but still forwarded).
        let mut h = HeaderMap::new();
        h.insert("forwarded", HeaderValue::from_static("for=1.2.3.4"));
        h.insert("x-forwarded-host", HeaderValue::from_static("first.test"));
        forward_fields(
            &mut h,
            "192.168.100.7",
            true,
            true,
            Some(&HeaderValue::from_static("bad\"host")),
        );
        assert_eq!(
            h.get("forwarded").unwrap(),
            "for=1.2.3.4, for=192.168.100.7;proto=https"
        );
        assert_eq!(h.get("x-forwarded-for").unwrap(), "192.168.100.7");
        assert_eq!(h.get("x-forwarded-host").unwrap(), "first.test");
    }

    #[test]
    fn every_forwarding_header_of_an_untrusted_peer_is_replaced_and_a_trusted_ones_kept() {
        let sent = [
            ("x-forwarded-for", "6.6.6.6"),
            ("X-Forwarded-Proto", "gopher"),
            ("x-forwarded-host", "evil.test"),
            ("Forwarded", "for=6.6.6.6"),
            ("x-other", "1"),
        ];
        let mut h = HeaderMap::new();
        for (n, v) in sent {
            h.append(
                HeaderName::from_bytes(n.as_bytes()).unwrap(),
                HeaderValue::from_static(v),
            );
        }
        let trusted = h.clone();
        forward_fields(&mut h, "10.0.0.1", false, false, None);
        assert_eq!(h.get("x-forwarded-for").unwrap(), "10.0.0.1");
        assert_eq!(h.get("x-forwarded-proto").unwrap(), "http");
        assert!(h.get("x-forwarded-host").is_none(), "{h:?}");
        assert_eq!(h.get("forwarded").unwrap(), "for=10.0.0.1;proto=http");
        assert_eq!(h.len(), 4, "{h:?}");

        let mut h = trusted;
        forward_fields(&mut h, "10.0.0.1", true, true, None);
        assert_eq!(h.get("x-forwarded-for").unwrap(), "6.6.6.6, 10.0.0.1");
        assert_eq!(h.get("x-forwarded-proto").unwrap(), "gopher");
        assert_eq!(h.get("x-forwarded-host").unwrap(), "evil.test");
        assert_eq!(
            h.get("forwarded").unwrap(),
            "for=6.6.6.6, for=10.0.0.1;proto=https"
        );
    }

    #[test]
    fn traceparent_keeps_trace_and_makes_new_span() {
        let mut h = HeaderMap::new();
        h.insert(
            "traceparent",
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        traceparent(&mut h);
        let s = h.get("traceparent").unwrap().to_str().unwrap();
        assert!(s.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"), "{s}");
        assert!(!s.contains("00f067aa0ba902b7"));
        assert!(s.ends_with("-01"));
        let mut h = HeaderMap::new();
        h.insert("traceparent", HeaderValue::from_static("garbage"));
        traceparent(&mut h);
        let s = h.get("traceparent").unwrap().to_str().unwrap().to_string();
        assert_eq!(s.len(), 55);
        assert!(parse_traceparent(&s).is_some());
    }
}
