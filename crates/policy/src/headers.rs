//! Request and response header transforms: remove → rename → set → add.
//!
//! Names and values are parsed once, when the route compiles, so a request
//! only moves ready-made `HeaderName`/`HeaderValue`s. Headers that frame the
//! message or pick its destination (`Host`, `Content-Length`,
//! `Transfer-Encoding`, `Connection`) are refused at compile time: changing
//! them here could desynchronise the proxy and the upstream (request
//! smuggling). `Host` is rewritten by the route's `rewrite.host` instead.

use http::HeaderMap;
use http::header::{CONNECTION, CONTENT_LENGTH, HOST, HeaderName, HeaderValue, TRANSFER_ENCODING};
use sy_config::HeaderTransformSpec;

use crate::context::RequestContext;
use crate::policy::{Order, Policy, Step};

/// One compiled transform.
#[derive(Debug, Clone, Default)]
struct Transform {
    remove: Vec<HeaderName>,
    rename: Vec<(HeaderName, HeaderName)>,
    set: Vec<(HeaderName, HeaderValue)>,
    add: Vec<(HeaderName, HeaderValue)>,
}

impl Transform {
    /// Compile `spec`, naming `field` (`request_headers`) in errors and
    /// refusing the `reserved` names.
    fn new(
        spec: &HeaderTransformSpec,
        field: &str,
        reserved: &[HeaderName],
    ) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        let mut name = |n: &str| match HeaderName::from_bytes(n.as_bytes()) {
            Ok(h) if reserved.contains(&h) => {
                errors.push(format!(
                    "{field}: `{n}` cannot be changed by a header transform"
                ));
                None
            }
            Ok(h) => Some(h),
            Err(_) => {
                errors.push(format!("{field}: `{n}` is not a header name"));
                None
            }
        };
        let remove = spec.remove.iter().filter_map(|n| name(n)).collect();
        let rename = spec
            .rename
            .iter()
            .filter_map(|(a, b)| Some((name(a)?, name(b)?)))
            .collect();
        let set: Vec<_> = spec
            .set
            .iter()
            .filter_map(|(n, v)| Some((name(n)?, v)))
            .collect();
        let add: Vec<_> = spec
            .add
            .iter()
            .filter_map(|(n, v)| Some((name(n)?, v)))
            .collect();
        let mut value = |n: HeaderName, v: &String| match HeaderValue::from_str(v) {
            Ok(v) => Some((n, v)),
            Err(_) => {
                errors.push(format!(
                    "{field}: the value for `{n}` has characters a header cannot carry"
                ));
                None
            }
        };
        let set = set.into_iter().filter_map(|(n, v)| value(n, v)).collect();
        let add = add.into_iter().filter_map(|(n, v)| value(n, v)).collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Transform {
            remove,
            rename,
            set,
            add,
        })
    }

    /// Apply to `h` in the documented order. A rename moves every value of
    /// the old name and replaces any existing values of the new one; a
    /// rename of an absent header does nothing.
    fn apply(&self, h: &mut HeaderMap) {
        for n in &self.remove {
            h.remove(n);
        }
        for (from, to) in &self.rename {
            if !h.contains_key(from) {
                continue;
            }
            let values: Vec<HeaderValue> = h.get_all(from).iter().cloned().collect();
            h.remove(from);
            h.remove(to);
            for v in values {
                h.append(to.clone(), v);
            }
        }
        for (n, v) in &self.set {
            h.insert(n.clone(), v.clone());
        }
        for (n, v) in &self.add {
            h.append(n.clone(), v.clone());
        }
    }
}

/// Changes to the request headers sent upstream.
#[derive(Debug, Clone)]
pub struct RequestHeaders(Transform);

impl RequestHeaders {
    /// Compile the route's `request_headers`.
    pub fn new(spec: &HeaderTransformSpec) -> Result<Self, Vec<String>> {
        Transform::new(
            spec,
            "request_headers",
            &[HOST, CONTENT_LENGTH, TRANSFER_ENCODING, CONNECTION],
        )
        .map(RequestHeaders)
    }
}

impl Policy for RequestHeaders {
    fn name(&self) -> &'static str {
        "request_headers"
    }

    fn order(&self) -> Order {
        Order::Transform
    }

    /// No response phase.
    fn reads_response(&self) -> bool {
        false
    }

    fn on_request<'a>(
        &'a self,
        req: &'a mut http::request::Parts,
        _ctx: &'a mut RequestContext,
    ) -> Step<'a> {
        self.0.apply(&mut req.headers);
        Step::next()
    }
}

/// Changes to the response headers sent to the client. Runs on every
/// response, including the gateway's own errors.
#[derive(Debug, Clone)]
pub struct ResponseHeaders(Transform);

impl ResponseHeaders {
    /// Compile the route's `response_headers`.
    pub fn new(spec: &HeaderTransformSpec) -> Result<Self, Vec<String>> {
        Transform::new(
            spec,
            "response_headers",
            &[CONTENT_LENGTH, TRANSFER_ENCODING, CONNECTION],
        )
        .map(ResponseHeaders)
    }
}

impl Policy for ResponseHeaders {
    fn name(&self) -> &'static str {
        "response_headers"
    }

    fn order(&self) -> Order {
        Order::Transform
    }

    fn on_response(&self, res: &mut http::response::Parts, _ctx: &RequestContext) {
        self.0.apply(&mut res.headers);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::test_util::{ctx_from, parts, response};

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn spec(
        remove: &[&str],
        rename: &[(&str, &str)],
        set: &[(&str, &str)],
        add: &[(&str, &str)],
    ) -> HeaderTransformSpec {
        HeaderTransformSpec {
            remove: remove.iter().map(|s| s.to_string()).collect(),
            rename: map(rename),
            set: map(set),
            add: map(add),
        }
    }

    #[tokio::test]
    async fn request_transform_runs_remove_rename_set_add_in_order() {
        // Each step sees the previous one's result: `x-a` is removed before
        // the rename could move it, and `add` appends after `set` replaced.
        let p = RequestHeaders::new(&spec(
            &["x-a", "cookie"],
            &[("x-a", "x-z"), ("x-old", "x-new")],
            &[("x-new", "set"), ("x-env", "prod")],
            &[("x-env", "extra")],
        ))
        .unwrap();
        let mut req = parts(
            "GET",
            "/",
            &[
                ("x-a", "1"),
                ("cookie", "s=1"),
                ("x-old", "o1"),
                ("x-old", "o2"),
                ("x-env", "dev"),
            ],
        );
        p.on_request(&mut req, &mut ctx_from("10.0.0.1"))
            .await
            .unwrap();
        let h = &req.headers;
        assert!(h.get("x-a").is_none() && h.get("x-z").is_none() && h.get("cookie").is_none());
        assert!(h.get("x-old").is_none());
        assert_eq!(h.get_all("x-new").iter().collect::<Vec<_>>(), ["set"]);
        assert_eq!(
            h.get_all("x-env").iter().collect::<Vec<_>>(),
            ["prod", "extra"]
        );
    }

    #[test]
    fn rename_moves_all_values_and_replaces_the_target() {
        let t = Transform::new(&spec(&[], &[("x-from", "x-to")], &[], &[]), "t", &[]).unwrap();
        let mut res = response(&[("x-from", "a"), ("x-from", "b"), ("x-to", "old")]);
        t.apply(&mut res.headers);
        assert_eq!(
            res.headers.get_all("x-to").iter().collect::<Vec<_>>(),
            ["a", "b"]
        );
        let mut res = response(&[("x-to", "kept")]);
        t.apply(&mut res.headers);
        assert_eq!(
            res.headers["x-to"], "kept",
            "renaming an absent header changes nothing"
        );
    }

    #[test]
    fn response_transform_applies_on_response() {
        let p = ResponseHeaders::new(&spec(&["server"], &[], &[("x-frame-options", "DENY")], &[]))
            .unwrap();
        let mut res = response(&[("server", "upstream/1.0")]);
        p.on_response(&mut res, &ctx_from("10.0.0.1"));
        assert!(res.headers.get("server").is_none());
        assert_eq!(res.headers["x-frame-options"], "DENY");
    }

    #[test]
    fn bad_and_reserved_names_are_all_reported() {
        let errors = RequestHeaders::new(&spec(
            &["bad name"],
            &[("host", "x-host")],
            &[("content-length", "1"), ("x-ok", "line\nbreak")],
            &[],
        ))
        .unwrap_err();
        assert_eq!(
            errors,
            [
                "request_headers: `bad name` is not a header name",
                "request_headers: `host` cannot be changed by a header transform",
                "request_headers: `content-length` cannot be changed by a header transform",
                "request_headers: the value for `x-ok` has characters a header cannot carry",
            ]
        );
        // `Host` is fine on responses (it has no meaning there).
        assert!(ResponseHeaders::new(&spec(&["host"], &[], &[], &[])).is_ok());
    }

    #[test]
    fn a_chain_reads_the_response_only_with_a_response_transform() {
        use std::sync::Arc;

        use crate::Policy;
        use crate::body_limit::BodyLimit;
        use crate::policy::PolicyChain;

        let transform = spec(&["x-a"], &[], &[], &[]);
        let request = Arc::new(RequestHeaders::new(&transform).unwrap()) as Arc<dyn Policy>;
        let limit = Arc::new(BodyLimit::new(10)) as Arc<dyn Policy>;
        let chain = PolicyChain::new(vec![request, limit]);
        assert!(!chain.reads_response());
        let response = Arc::new(ResponseHeaders::new(&transform).unwrap()) as Arc<dyn Policy>;
        assert!(chain.with(response).reads_response());
        assert!(!PolicyChain::default().reads_response());
    }
}
