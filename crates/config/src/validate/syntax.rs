//! Small grammars checked by validation: HTTP tokens, header names and
//! values, host names, base URLs and path templates. Each returns a message
//! saying what is allowed, ready to put in an error.

use std::net::Ipv6Addr;

/// RFC 9110 `tchar`: what header names and method names are made of.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// A header name: a non-empty token.
pub(crate) fn header_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a header name cannot be empty".into());
    }
    match name.chars().find(|c| !is_tchar(*c)) {
        Some(c) => Err(format!(
            "`{name}` is not a valid header name: `{}` is not allowed (letters, digits and !#$%&'*+-.^_`|~)",
            c.escape_default()
        )),
        None => Ok(()),
    }
}

/// A header value: visible ASCII, spaces and tabs; no line breaks.
pub(crate) fn header_value(value: &str) -> Result<(), String> {
    match value
        .chars()
        .find(|c| !(*c == ' ' || *c == '\t' || c.is_ascii_graphic()))
    {
        Some(c) => Err(format!(
            "not a valid header value: `{}` is not allowed (visible ASCII, space and tab only)",
            c.escape_default()
        )),
        None => Ok(()),
    }
}

/// An HTTP method: a token without lower-case letters (`GET`, `PURGE`).
pub(crate) fn method(m: &str) -> Result<(), String> {
    if m.is_empty() || !m.chars().all(is_tchar) {
        return Err(format!(
            "`{m}` is not an HTTP method; write a token like `GET` or `POST`"
        ));
    }
    if m.chars().any(|c| c.is_ascii_lowercase()) {
        return Err(format!(
            "methods are case-sensitive and upper case: write `{}`",
            m.to_ascii_uppercase()
        ));
    }
    Ok(())
}

/// A DNS host name or IPv4 address: dot-separated labels of letters, digits
/// and `-`, each 1 to 63 long and not starting or ending with `-`.
pub(crate) fn hostname(h: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("`{h}` is not a valid host name: {why}"));
    if h.is_empty() {
        return bad("it is empty");
    }
    if h.len() > 253 {
        return bad("longer than 253 characters");
    }
    for label in h.split('.') {
        if label.is_empty() {
            return bad("empty label (two dots, or a leading or trailing dot)");
        }
        if label.len() > 63 {
            return bad("a label is longer than 63 characters");
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return bad("labels are letters, digits and `-`");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return bad("a label cannot start or end with `-`");
        }
    }
    Ok(())
}

/// A route host: a host name, a bracketed IPv6 address, or `*.suffix` where
/// the wildcard stands for one or more leading labels.
pub(crate) fn host_pattern(h: &str) -> Result<(), String> {
    if let Some(v6) = h.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return v6
            .parse::<Ipv6Addr>()
            .map(|_| ())
            .map_err(|_| format!("`{h}` is not a valid IPv6 address"));
    }
    if let Some(suffix) = h.strip_prefix("*.") {
        if suffix.contains('*') {
            return Err(format!(
                "`{h}`: `*` is allowed only as the whole first label, like `*.example.com`"
            ));
        }
        return hostname(suffix);
    }
    if h.contains('*') {
        return Err(format!(
            "`{h}`: `*` is allowed only as the whole first label, like `*.example.com`"
        ));
    }
    if h.contains(':') {
        return Err(format!(
            "`{h}`: hosts are matched without the port; write just the name"
        ));
    }
    hostname(h)
}

/// A parsed `http(s)://host[:port]` base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BaseUrl {
    /// `http` or `https`.
    pub(crate) scheme: &'static str,
    /// Host, lower case; IPv6 without brackets.
    pub(crate) host: String,
    /// Port; the scheme's default when not written.
    pub(crate) port: u16,
    /// The path after the authority (`""` or `/...`).
    pub(crate) path: String,
}

/// Parse an absolute `http://` or `https://` URL with an optional path.
/// Queries, fragments and `user@` are refused: they have no meaning here and
/// usually hide a mistake or a leaked credential.
pub(crate) fn http_url(url: &str) -> Result<BaseUrl, String> {
    let (scheme, rest, default_port) = if let Some(r) = url.strip_prefix("http://") {
        ("http", r, 80)
    } else if let Some(r) = url.strip_prefix("https://") {
        ("https", r, 443)
    } else {
        return Err(format!("`{url}` must start with `http://` or `https://`"));
    };
    if url.contains(['?', '#']) {
        return Err(format!("`{url}`: no query or fragment allowed"));
    }
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if authority.contains('@') {
        return Err(format!(
            "`{url}`: no `user@` allowed; send credentials in headers"
        ));
    }
    let (host, port) = split_host_port(authority).map_err(|why| format!("`{url}`: {why}"))?;
    let port = match port {
        None => default_port,
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => return Err(format!("`{url}`: port must be a number from 1 to 65535")),
        },
    };
    Ok(BaseUrl {
        scheme,
        host: host.to_ascii_lowercase(),
        port,
        path: path.into(),
    })
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), String> {
    if authority.is_empty() {
        return Err("a host is required".into());
    }
    if let Some(rest) = authority.strip_prefix('[') {
        let (v6, after) = rest.split_once(']').ok_or("unclosed `[` in the host")?;
        v6.parse::<Ipv6Addr>()
            .map_err(|_| format!("`{v6}` is not an IPv6 address"))?;
        return match after {
            "" => Ok((v6, None)),
            _ => after
                .strip_prefix(':')
                .map(|p| (v6, Some(p)))
                .ok_or_else(|| "junk after `]`".into()),
        };
    }
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    hostname(host)?;
    Ok((host, port))
}

/// An identifier: a letter or `_`, then letters, digits and `_`.
pub(crate) fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Check a path template (`/users/{id}/files/{*rest}`) and return its
/// capture names in order.
pub(crate) fn template_captures(t: &str) -> Result<Vec<String>, String> {
    let Some(body) = t.strip_prefix('/') else {
        return Err(format!("`{t}` must start with `/`"));
    };
    let segments: Vec<&str> = body.split('/').collect();
    let mut names: Vec<String> = Vec::new();
    for (i, seg) in segments.iter().enumerate() {
        let Some(inner) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
            if seg.contains(['{', '}']) {
                return Err(format!(
                    "segment `{seg}`: a capture must be a whole segment, like `/{{id}}`, not part of one"
                ));
            }
            continue;
        };
        let (name, rest) = match inner.strip_prefix('*') {
            Some(name) => (name, true),
            None => (inner, false),
        };
        if rest && i + 1 != segments.len() {
            return Err(format!("`{{*{name}}}` must be the last segment"));
        }
        if !is_ident(name) {
            return Err(format!(
                "`{seg}`: capture names are letters, digits and `_`, not starting with a digit"
            ));
        }
        if names.iter().any(|n| n == name) {
            return Err(format!("capture `{name}` appears twice"));
        }
        names.push(name.to_owned());
    }
    Ok(names)
}

/// The `{name}` placeholders of a rewrite path.
pub(crate) fn placeholders(p: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    let mut rest = p;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err("`}` without an opening `{`".into());
        }
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or("`{` without a closing `}`")?;
        let name = &after[..close];
        if !is_ident(name) {
            return Err(format!(
                "`{{{name}}}`: placeholders are `{{name}}` with a capture name"
            ));
        }
        names.push(name);
        rest = &after[close + 1..];
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_headers() {
        assert!(header_name("x-request-id").is_ok());
        assert!(header_name("X Bad").is_err());
        assert!(header_name("").is_err());
        assert!(header_value("text/html; q=0.9").is_ok());
        assert!(header_value("a\r\nb").is_err());
        assert!(method("PURGE").is_ok());
        assert!(method("get").unwrap_err().contains("write `GET`"));
        assert!(method("GE T").is_err());
    }

    #[test]
    fn hosts() {
        assert!(host_pattern("api.example.com").is_ok());
        assert!(host_pattern("*.example.com").is_ok());
        assert!(host_pattern("[::1]").is_ok());
        assert!(host_pattern("api.*.com").is_err());
        assert!(host_pattern("*").is_err());
        assert!(host_pattern("-a.com").is_err());
        assert!(host_pattern("a..com").is_err());
        assert!(host_pattern("a.com:80").is_err());
    }

    #[test]
    fn urls() {
        let u = http_url("https://API.example.com").unwrap();
        assert_eq!(
            (u.scheme, u.host.as_str(), u.port, u.path.as_str()),
            ("https", "api.example.com", 443, "")
        );
        assert_eq!(http_url("http://[::1]:8081/").unwrap().port, 8081);
        assert_eq!(http_url("http://h:9/v1").unwrap().path, "/v1");
        assert!(http_url("ftp://h").is_err());
        assert!(http_url("http://h?x=1").is_err());
        assert!(http_url("http://u:p@h").is_err());
        assert!(http_url("http://h:0").is_err());
        assert!(http_url("http://h:99999").is_err());
        assert!(http_url("http://").is_err());
    }

    #[test]
    fn templates() {
        assert_eq!(
            template_captures("/u/{id}/f/{*rest}").unwrap(),
            ["id", "rest"]
        );
        assert!(template_captures("u/{id}").is_err());
        assert!(
            template_captures("/u/{*rest}/x")
                .unwrap_err()
                .contains("last")
        );
        assert!(
            template_captures("/u/{id}/{id}")
                .unwrap_err()
                .contains("twice")
        );
        assert!(
            template_captures("/u/a{id}")
                .unwrap_err()
                .contains("whole segment")
        );
        assert!(template_captures("/u/{1d}").is_err());
        assert_eq!(placeholders("/v2/{id}/x/{rest}").unwrap(), ["id", "rest"]);
        assert!(placeholders("/v2/{id").is_err());
        assert!(placeholders("/v2/{*rest}").is_err());
    }
}
