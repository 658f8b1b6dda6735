//! Finding the client's address behind trusted proxies.

use std::net::IpAddr;

use http::HeaderName;
use sy_config::Cidr;
use sy_http::FieldsRef;

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The client IP: the TCP peer, unless the peer is a trusted proxy, in which
/// case `X-Forwarded-For` is walked from the right (the hop nearest to us)
/// past every trusted address; the first untrusted one is the client. A
/// client can prepend anything to the header, so the left end is never
/// believed on its own.
pub fn resolve(peer: IpAddr, headers: FieldsRef<'_>, trusted: &[Cidr]) -> (IpAddr, bool) {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|c| c.0.contains(&canonical(*ip)));
    if trusted.is_empty() || !is_trusted(&peer) {
        return (peer, false);
    }
    let mut client = peer;
    let values: Vec<&[u8]> = headers.get_all(&X_FORWARDED_FOR).collect();
    for value in values.into_iter().rev() {
        let Ok(text) = std::str::from_utf8(value) else {
            break;
        };
        for hop in text.rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip;
                    if !is_trusted(&ip) {
                        return (ip, true);
                    }
                }
                Err(_) => return (client, true),
            }
        }
    }
    (client, true)
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue};

    fn cidrs(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn untrusted_peer_is_the_client() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("1.1.1.1"));
        let (ip, trusted) = resolve(
            "9.9.9.9".parse().unwrap(),
            (&h).into(),
            &cidrs(&["10.0.0.0/8"]),
        );
        assert_eq!(ip.to_string(), "9.9.9.9");
        assert!(!trusted);
    }

    #[test]
    fn walks_past_trusted_hops_from_the_right() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 2.2.2.2, 10.0.0.5"),
        );
        let (ip, _) = resolve(
            "10.0.0.1".parse().unwrap(),
            (&h).into(),
            &cidrs(&["10.0.0.0/8"]),
        );
        assert_eq!(
            ip.to_string(),
            "2.2.2.2",
            "spoofed left-most entry must be ignored"
        );
    }

    #[test]
    fn mapped_ipv6_peer_matches_ipv4_rule() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("3.3.3.3"));
        let (ip, _) = resolve(
            "::ffff:10.0.0.1".parse().unwrap(),
            (&h).into(),
            &cidrs(&["10.0.0.0/8"]),
        );
        assert_eq!(ip.to_string(), "3.3.3.3");
    }
}
