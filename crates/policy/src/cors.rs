//! Cross-origin resource sharing (the Fetch standard's CORS protocol).
//!
//! Preflights are answered here, before authentication, because browsers
//! send them without credentials. For actual requests the allowed origin is
//! remembered in the request phase and the `Access-Control-*` headers are
//! written in the response phase, so they reach error responses too (a
//! script can then read a 401 or 429 instead of seeing an opaque failure).
//!
//! CORS is not access control: a disallowed origin on an actual request is
//! still proxied; the browser just withholds the response from the script.
//! Only preflights are refused (403), to make misconfigurations visible.

use std::collections::HashSet;

use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, HeaderName, HeaderValue, ORIGIN,
    VARY,
};
use http::{Method, Response, StatusCode, Uri};
use sy_config::CorsSpec;

use crate::context::RequestContext;
use crate::error::PolicyError;
use crate::policy::{Flow, Order, Policy, Step};

/// The `Access-Control-Allow-Origin` value chosen in the request phase.
#[derive(Debug, Clone)]
struct AllowedOrigin(HeaderValue);

/// Marks a request whose preflight this policy answered.
#[derive(Debug, Clone, Copy)]
struct AnsweredPreflight;

/// Which origins may call.
#[derive(Debug, Clone)]
enum Origins {
    /// `*`: any origin (only without credentials; checked at build).
    Any,
    /// Normalized `scheme://host[:port]` strings.
    List(HashSet<String>),
}

/// A compiled CORS policy. Header values are built once, at compile time.
#[derive(Debug, Clone)]
pub struct Cors {
    origins: Origins,
    /// `None`: `*` was configured, so the requested method is echoed.
    methods: Option<HashSet<Method>>,
    methods_value: Option<HeaderValue>,
    /// `None`: `*` was configured, so the requested headers are echoed.
    headers: Option<HashSet<HeaderName>>,
    headers_value: Option<HeaderValue>,
    expose_value: Option<HeaderValue>,
    credentials: bool,
    max_age: Option<HeaderValue>,
}

impl Cors {
    /// Compile `spec`; every problem is reported, prefixed with `cors`.
    pub fn new(spec: &CorsSpec) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        let origins = if spec.allow_origins.iter().any(|o| o == "*") {
            if spec.allow_credentials {
                errors.push(
                    "cors: allow_credentials cannot be combined with the `*` origin".to_string(),
                );
            }
            Origins::Any
        } else {
            let mut set = HashSet::new();
            for o in &spec.allow_origins {
                match normalize_origin(o) {
                    Some(n) => {
                        set.insert(n);
                    }
                    None => errors.push(format!(
                        "cors: `{o}` is not an origin; write it like `https://app.example.com` or `http://localhost:3000`"
                    )),
                }
            }
            Origins::List(set)
        };

        let methods = if spec.allow_methods.iter().any(|m| m == "*") {
            None
        } else {
            let mut set = HashSet::new();
            for m in &spec.allow_methods {
                match Method::from_bytes(m.to_ascii_uppercase().as_bytes()) {
                    Ok(m) => {
                        set.insert(m);
                    }
                    Err(_) => errors.push(format!("cors: `{m}` is not an HTTP method")),
                }
            }
            Some(set)
        };
        let headers = if spec.allow_headers.iter().any(|h| h == "*") {
            None
        } else {
            Some(header_names(
                "allow_headers",
                &spec.allow_headers,
                &mut errors,
            ))
        };
        let expose = header_names("expose_headers", &spec.expose_headers, &mut errors);

        let methods_value = methods
            .as_ref()
            .and_then(|_| join(spec.allow_methods.iter().map(|m| m.to_ascii_uppercase())));
        let headers_value = headers
            .as_ref()
            .and_then(|_| join(spec.allow_headers.iter().cloned()));
        let expose_value = if expose.is_empty() {
            None
        } else {
            join(spec.expose_headers.iter().cloned())
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Cors {
            origins,
            methods,
            methods_value,
            headers,
            headers_value,
            expose_value,
            credentials: spec.allow_credentials,
            max_age: spec.max_age.map(|d| HeaderValue::from(d.get().as_secs())),
        })
    }

    /// The `Access-Control-Allow-Origin` value for `origin`, if it may call:
    /// `*` for an open policy without credentials, else the origin echoed.
    fn allow(&self, origin: &HeaderValue) -> Option<HeaderValue> {
        match &self.origins {
            Origins::Any => Some(HeaderValue::from_static("*")),
            Origins::List(set) => {
                let o = origin.to_str().ok()?;
                normalize_origin(o)
                    .filter(|n| set.contains(n))
                    .map(|_| origin.clone())
            }
        }
    }

    /// Whether responses depend on the request's `Origin` (and so need
    /// `Vary: Origin` for caches).
    fn varies(&self) -> bool {
        !matches!(self.origins, Origins::Any)
    }

    /// Answer a preflight, or say why not.
    fn preflight(
        &self,
        req: &http::request::Parts,
        allowed: HeaderValue,
    ) -> Result<Flow, PolicyError> {
        let requested = req.headers.get(ACCESS_CONTROL_REQUEST_METHOD);
        let method = requested
            .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
            .ok_or_else(|| {
                PolicyError::BadRequest(
                    "CORS preflight: invalid Access-Control-Request-Method".into(),
                )
            })?;
        // Fetch never checks CORS-safelisted methods against the list.
        let safelisted = matches!(method, Method::GET | Method::HEAD | Method::POST);
        if let Some(set) = &self.methods
            && !safelisted
            && !set.contains(&method)
        {
            return Err(PolicyError::Forbidden(format!(
                "CORS preflight: method {method} is not allowed"
            )));
        }
        let requested_headers = req.headers.get(ACCESS_CONTROL_REQUEST_HEADERS);
        if let (Some(set), Some(list)) = (&self.headers, requested_headers) {
            let list = list.to_str().unwrap_or("");
            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let known = HeaderName::from_bytes(name.as_bytes()).is_ok_and(|n| set.contains(&n));
                if !known {
                    return Err(PolicyError::Forbidden(format!(
                        "CORS preflight: header `{name}` is not allowed"
                    )));
                }
            }
        }

        let mut res = Response::new(sy_http::empty());
        *res.status_mut() = StatusCode::NO_CONTENT;
        let h = res.headers_mut();
        h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
        let methods = match &self.methods_value {
            Some(v) => Some(v.clone()),
            None => requested.cloned(),
        };
        if let Some(v) = methods {
            h.insert(ACCESS_CONTROL_ALLOW_METHODS, v);
        }
        let headers = match (&self.headers, &self.headers_value) {
            (Some(_), v) => v.clone(),
            (None, _) => requested_headers.cloned(),
        };
        if let Some(v) = headers {
            h.insert(ACCESS_CONTROL_ALLOW_HEADERS, v);
        }
        if self.credentials {
            h.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if let Some(v) = &self.max_age {
            h.insert(ACCESS_CONTROL_MAX_AGE, v.clone());
        }
        h.insert(
            VARY,
            HeaderValue::from_static(
                "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
            ),
        );
        Ok(Flow::Respond(res))
    }
}

impl Policy for Cors {
    fn name(&self) -> &'static str {
        "cors"
    }

    fn order(&self) -> Order {
        Order::Cors
    }

    fn on_request<'a>(
        &'a self,
        req: &'a mut http::request::Parts,
        ctx: &'a mut RequestContext,
    ) -> Step<'a> {
        let Some(origin) = req.headers.get(ORIGIN) else {
            return Step::next();
        };
        let allowed = self.allow(origin);
        let is_preflight = req.method == Method::OPTIONS
            && req.headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD);
        if is_preflight {
            return Step::Ready(match allowed {
                Some(v) => {
                    ctx.extensions.insert(AnsweredPreflight);
                    self.preflight(req, v)
                }
                None => Err(PolicyError::Forbidden(
                    "CORS preflight: origin is not allowed".into(),
                )),
            });
        }
        if let Some(v) = allowed {
            ctx.extensions.insert(AllowedOrigin(v));
        }
        Step::next()
    }

    fn on_response(&self, res: &mut http::response::Parts, ctx: &RequestContext) {
        // A preflight we answered already carries everything.
        if ctx.extensions.get::<AnsweredPreflight>().is_some() {
            return;
        }
        let h = &mut res.headers;
        if self.varies() && !vary_has_origin(h) {
            h.append(VARY, HeaderValue::from_static("Origin"));
        }
        // The gateway owns CORS on this route: upstream opinions are dropped.
        h.remove(ACCESS_CONTROL_ALLOW_ORIGIN);
        h.remove(ACCESS_CONTROL_ALLOW_CREDENTIALS);
        h.remove(ACCESS_CONTROL_EXPOSE_HEADERS);
        let Some(AllowedOrigin(origin)) = ctx.extensions.get::<AllowedOrigin>() else {
            return;
        };
        h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        if self.credentials {
            h.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if let Some(v) = &self.expose_value {
            h.insert(ACCESS_CONTROL_EXPOSE_HEADERS, v.clone());
        }
    }
}

/// `scheme://host[:port]` with the scheme and host lower-cased and a default
/// port dropped, so `HTTPS://App.Example.com:443` equals
/// `https://app.example.com`. `None` for anything that is not an origin
/// (paths, user info, `null`).
fn normalize_origin(s: &str) -> Option<String> {
    let uri: Uri = s.parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let authority = uri.authority()?;
    if authority.as_str().contains('@') {
        return None;
    }
    if !matches!(
        uri.path_and_query().map(|p| p.as_str()),
        None | Some("") | Some("/")
    ) {
        return None;
    }
    let host = authority.host().to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    let default_port = match scheme.as_str() {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    };
    Some(match uri.port_u16() {
        Some(p) if Some(p) != default_port => format!("{scheme}://{host}:{p}"),
        _ => format!("{scheme}://{host}"),
    })
}

/// Parse header names from a config list, reporting bad ones.
fn header_names(field: &str, names: &[String], errors: &mut Vec<String>) -> HashSet<HeaderName> {
    let mut set = HashSet::new();
    for n in names {
        match HeaderName::from_bytes(n.as_bytes()) {
            Ok(h) => {
                set.insert(h);
            }
            Err(_) => errors.push(format!("cors: {field}: `{n}` is not a header name")),
        }
    }
    set
}

/// `a, b, c` as a header value; `None` for an empty list or bad characters
/// (the latter already reported by the caller's validation).
fn join(items: impl Iterator<Item = String>) -> Option<HeaderValue> {
    let s = items.collect::<Vec<_>>().join(", ");
    if s.is_empty() {
        None
    } else {
        HeaderValue::from_str(&s).ok()
    }
}

/// Whether a `Vary` header already names `Origin` (or `*`).
fn vary_has_origin(h: &http::HeaderMap) -> bool {
    h.get_all(VARY).iter().any(|v| {
        v.to_str()
            .unwrap_or("")
            .split(',')
            .any(|t| t.trim().eq_ignore_ascii_case("origin") || t.trim() == "*")
    })
}

#[cfg(test)]
mod tests;
