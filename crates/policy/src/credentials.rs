//! Taking a credential (an API key or a bearer token) out of a request, for
//! the authentication policies (`key_auth`, `jwt`, `oauth2_introspection`):
//! the first one found is used, and every place one can travel is scrubbed
//! before the request goes upstream, whether or not it was the one used.

use http::header::{AUTHORIZATION, HeaderName};
use http::uri::PathAndQuery;

use crate::error::PolicyError;

/// Where a token policy accepts its token besides `Authorization: Bearer`.
#[derive(Debug, Clone, Default)]
pub(crate) struct TokenSources {
    /// A header carrying the token (its whole value, or `Bearer <token>`).
    pub(crate) header: Option<HeaderName>,
    /// A query parameter carrying the token.
    pub(crate) query_param: Option<Box<str>>,
}

impl TokenSources {
    /// Take the token out of `req`: `Authorization: Bearer`, then the
    /// configured header, then the query parameter. All of them are removed.
    pub(crate) fn take(
        &self,
        req: &mut http::request::Parts,
    ) -> Result<Option<String>, PolicyError> {
        let mut token = take_bearer(req);
        if let Some(name) = &self.header {
            let header_token = req
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| bearer_token(v.as_bytes()).unwrap_or(v.trim()))
                .filter(|t| !t.is_empty())
                .map(str::to_owned);
            token = token.or(header_token);
            req.headers.remove(name);
        }
        if let Some(param) = &self.query_param {
            let query_token = strip_query_param(req, param)?;
            token = token.or(query_token);
        }
        Ok(token)
    }
}

/// The configured query parameter, `None` when unset or empty.
pub(crate) fn query_param(configured: Option<&str>) -> Option<Box<str>> {
    configured.filter(|p| !p.is_empty()).map(Box::from)
}

/// The credential `take` found, or 401 `missing` when there was none.
pub(crate) fn require(
    taken: Result<Option<String>, PolicyError>,
    missing: &str,
) -> Result<String, PolicyError> {
    taken?.ok_or_else(|| PolicyError::Unauthorized(missing.into()))
}

/// The token of the first `Authorization: Bearer` header, which is then
/// removed with every other `Authorization` header. Without a bearer token
/// the headers are left alone (Basic is for the upstream).
pub(crate) fn take_bearer(req: &mut http::request::Parts) -> Option<String> {
    let token = req
        .headers
        .get_all(AUTHORIZATION)
        .iter()
        .find_map(|v| bearer_token(v.as_bytes()))
        .map(str::to_owned);
    if token.is_some() {
        req.headers.remove(AUTHORIZATION);
    }
    token
}

/// The token of an `Authorization: Bearer <token>` value (scheme matched
/// case-insensitively), or `None` for other schemes and empty tokens.
///
/// On bytes: a field value is ASCII in practice, and decoding and trimming
/// it as Unicode text first cost several times the rest of key lookup
/// (whitespace here is the field's own: spaces and tabs).
fn bearer_token(value: &[u8]) -> Option<&str> {
    let v = value.trim_ascii();
    let space = v.iter().position(|&b| b == b' ')?;
    let (scheme, token) = (v.get(..space)?, v.get(space..)?.trim_ascii());
    if !scheme.eq_ignore_ascii_case(b"bearer") || token.is_empty() {
        return None;
    }
    std::str::from_utf8(token).ok()
}

/// Remove every `param=…` pair from the query, keeping the others byte for
/// byte and in order; returns the first non-empty value, percent-decoded.
/// `+` is kept literally: keys and tokens are URL-safe, and form decoding
/// would turn a literal `+` into a space.
pub(crate) fn strip_query_param(
    req: &mut http::request::Parts,
    param: &str,
) -> Result<Option<String>, PolicyError> {
    let Some(query) = req.uri.query() else {
        return Ok(None);
    };
    let mut found = None;
    let mut kept = Vec::new();
    let mut total = 0;
    for pair in query.split('&') {
        total += 1;
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if percent_decode(name).as_deref() == Some(param) {
            if found.is_none() {
                found = percent_decode(value).filter(|v| !v.is_empty());
            }
        } else {
            kept.push(pair);
        }
    }
    if kept.len() == total {
        return Ok(found);
    }
    let path = req.uri.path();
    let pq = if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    };
    let malformed = || PolicyError::BadRequest("malformed request URI".into());
    let pq = PathAndQuery::try_from(pq).map_err(|_| malformed())?;
    let mut parts = req.uri.clone().into_parts();
    parts.path_and_query = Some(pq);
    req.uri = http::Uri::from_parts(parts).map_err(|_| malformed())?;
    Ok(found)
}

/// `%XX` decoding into UTF-8; `None` if the result is not UTF-8 or an escape
/// is malformed.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3)?;
            let hi = (hex[0] as char).to_digit(16)?;
            let lo = (hex[1] as char).to_digit(16)?;
            out.push(u8::try_from(hi * 16 + lo).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::parts;

    #[test]
    fn helpers() {
        assert_eq!(bearer_token(b"Bearer  abc "), Some("abc"));
        assert_eq!(
            bearer_token(b" bEARER\tx \tabc\t"),
            None,
            "the scheme ends at a space"
        );
        assert_eq!(bearer_token(b"\tbEARER \tabc\t"), Some("abc"));
        assert_eq!(bearer_token(b"Basic abc"), None);
        assert_eq!(bearer_token(b"Bearer"), None);
        assert_eq!(bearer_token(b"Bearer   "), None);
        assert_eq!(bearer_token(b"Bearer \xff"), None, "not text");
        assert_eq!(percent_decode("a%2Fb").as_deref(), Some("a/b"));
        assert_eq!(percent_decode("a+b").as_deref(), Some("a+b"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
    }

    #[test]
    fn every_source_is_scrubbed_and_bearer_wins() {
        let sources = TokenSources {
            header: Some(HeaderName::from_static("x-jwt")),
            query_param: Some("access_token".into()),
        };
        let mut req = parts(
            "GET",
            "/p?a=1&access_token=q%2Dtok&b=2",
            &[("authorization", "Bearer  b-tok "), ("x-jwt", "h-tok")],
        );
        assert_eq!(sources.take(&mut req).unwrap().as_deref(), Some("b-tok"));
        assert!(req.headers.get("authorization").is_none());
        assert!(req.headers.get("x-jwt").is_none());
        assert_eq!(req.uri, "/p?a=1&b=2");

        let mut req = parts(
            "GET",
            "/p?access_token=q%2Dtok",
            &[("x-jwt", "Bearer h-tok")],
        );
        assert_eq!(sources.take(&mut req).unwrap().as_deref(), Some("h-tok"));
        assert_eq!(req.uri, "/p");

        let mut req = parts("GET", "/p?access_token=q%2Dtok", &[]);
        assert_eq!(sources.take(&mut req).unwrap().as_deref(), Some("q-tok"));
    }

    #[test]
    fn other_schemes_are_left_for_the_upstream() {
        let mut req = parts("GET", "/", &[("authorization", "Basic dXNlcjpwdw==")]);
        assert_eq!(TokenSources::default().take(&mut req).unwrap(), None);
        assert_eq!(req.headers["authorization"], "Basic dXNlcjpwdw==");
    }

    #[test]
    fn a_missing_credential_is_a_401_naming_how_to_send_one() {
        let err = require(Ok(None), "send one").unwrap_err();
        assert!(matches!(&err, PolicyError::Unauthorized(m) if m == "send one"));
        assert_eq!(require(Ok(Some("t".into())), "x").unwrap(), "t");
        assert_eq!(query_param(Some("")), None);
        assert_eq!(query_param(Some("k")).as_deref(), Some("k"));
    }
}
