//! Table-driven tests of every match kind, precedence rule and rewrite.

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use sy_config::{MatchSpec, PathMatchSpec, ValueMatchSpec};

use super::*;

// ----- helpers -----

/// A route for the tables: name, priority, match.
pub(super) struct R {
    name: &'static str,
    priority: i32,
    spec: MatchSpec,
}

pub(super) fn r(name: &'static str) -> R {
    R {
        name,
        priority: 0,
        spec: MatchSpec::default(),
    }
}

impl R {
    fn prio(mut self, p: i32) -> Self {
        self.priority = p;
        self
    }
    fn hosts(mut self, h: &[&str]) -> Self {
        self.spec.hosts = h.iter().map(|s| s.to_string()).collect();
        self
    }
    fn methods(mut self, m: &[&str]) -> Self {
        self.spec.methods = m.iter().map(|s| s.to_string()).collect();
        self
    }
    fn exact(mut self, p: &str) -> Self {
        self.spec.path = Some(PathMatchSpec::Exact(p.into()));
        self
    }
    fn prefix(mut self, p: &str) -> Self {
        self.spec.path = Some(PathMatchSpec::Prefix(p.into()));
        self
    }
    pub(super) fn template(mut self, p: &str) -> Self {
        self.spec.path = Some(PathMatchSpec::Template(p.into()));
        self
    }
    fn header(mut self, v: ValueMatchSpec) -> Self {
        self.spec.headers.push(v);
        self
    }
    fn query(mut self, v: ValueMatchSpec) -> Self {
        self.spec.query.push(v);
        self
    }
}

fn vm(name: &str) -> ValueMatchSpec {
    ValueMatchSpec {
        name: name.into(),
        exact: None,
        regex: None,
        present: None,
    }
}
fn v_exact(name: &str, v: &str) -> ValueMatchSpec {
    ValueMatchSpec {
        exact: Some(v.into()),
        ..vm(name)
    }
}
fn v_regex(name: &str, v: &str) -> ValueMatchSpec {
    ValueMatchSpec {
        regex: Some(v.into()),
        ..vm(name)
    }
}
fn v_present(name: &str, p: bool) -> ValueMatchSpec {
    ValueMatchSpec {
        present: Some(p),
        ..vm(name)
    }
}

pub(super) fn build(routes: Vec<R>) -> Router<&'static str> {
    let mut b = Router::builder();
    for route in routes {
        b.add(&route.spec, route.priority, route.name)
            .unwrap_or_else(|e| panic!("{}: {e}", route.name));
    }
    b.build()
}

/// A request: `"GET host /path?query"`; host `-` means none. Headers as
/// `name: value` pairs.
pub(super) struct Q {
    method: Method,
    host: Option<String>,
    pub(super) path: String,
    query: Option<String>,
    headers: HeaderMap,
}

pub(super) fn q(line: &str) -> Q {
    let mut parts = line.splitn(3, ' ');
    let method = Method::from_bytes(parts.next().unwrap_or("GET").as_bytes()).unwrap();
    let host = parts.next().filter(|h| *h != "-").map(str::to_owned);
    let target = parts.next().unwrap_or("/");
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (target.to_owned(), None),
    };
    Q {
        method,
        host,
        path,
        query,
        headers: HeaderMap::new(),
    }
}

impl Q {
    fn h(mut self, name: &'static str, value: &str) -> Self {
        self.headers.append(
            HeaderName::from_static(name),
            HeaderValue::from_str(value).unwrap(),
        );
        self
    }
    pub(super) fn req(&self) -> RouteRequest<'_> {
        RouteRequest {
            host: self.host.as_deref(),
            method: &self.method,
            path: &self.path,
            query: self.query.as_deref(),
            headers: (&self.headers).into(),
        }
    }
}

fn find(router: &Router<&'static str>, req: &Q) -> Option<&'static str> {
    router.find(&req.req()).map(|m| *m.value)
}

/// Runs a table of `(request, expected route)` against the routes.
fn check(routes: Vec<R>, cases: &[(&str, Option<&str>)]) {
    let router = build(routes);
    for (line, want) in cases {
        assert_eq!(find(&router, &q(line)), *want, "request `{line}`");
    }
}

// ----- match kinds -----

#[test]
fn exact_path() {
    check(
        vec![r("a").exact("/a"), r("slash").exact("/a/")],
        &[
            ("GET - /a", Some("a")),
            ("GET - /a/", Some("slash")),
            ("GET - /a/b", None),
            ("GET - /A", None),
            ("GET - /ab", None),
            ("GET - /", None),
        ],
    );
}

#[test]
fn prefix_at_segment_boundary() {
    check(
        vec![r("api").prefix("/api"), r("v1").prefix("/api/v1/")],
        &[
            ("GET - /api", Some("api")),
            ("GET - /api/", Some("api")),
            ("GET - /api/x", Some("api")),
            ("GET - /apix", None),
            ("GET - /api/v1", Some("v1")),
            ("GET - /api/v1/models", Some("v1")),
            ("GET - /api/v10", Some("api")),
            ("GET - /", None),
        ],
    );
}

#[test]
fn root_prefix_matches_every_path() {
    check(
        vec![r("root").prefix("/")],
        &[
            ("GET - /", Some("root")),
            ("GET - /x", Some("root")),
            ("GET - /x/y/z", Some("root")),
            ("GET - //", Some("root")),
            // Not origin form: only exact and path-less routes.
            ("OPTIONS - *", None),
        ],
    );
}

#[test]
fn path_less_route_matches_anything() {
    check(
        vec![r("any")],
        &[
            ("GET - /", Some("any")),
            ("OPTIONS - *", Some("any")),
            ("GET - ", Some("any")),
        ],
    );
}

#[test]
fn templates_capture_segments() {
    let router = build(vec![
        r("user").template("/users/{id}"),
        r("orders").template("/users/{id}/orders/{*rest}"),
        r("pair").template("/{a}/{b}"),
    ]);
    type Case<'a> = (&'a str, Option<&'a str>, &'a [(&'a str, &'a str)]);
    let cases: &[Case<'_>] = &[
        ("GET - /users/42", Some("user"), &[("id", "42")]),
        ("GET - /users/a%2Fb", Some("user"), &[("id", "a%2Fb")]),
        (
            "GET - /users/42/orders/7/items",
            Some("orders"),
            &[("id", "42"), ("rest", "7/items")],
        ),
        (
            "GET - /users/42/orders/",
            Some("orders"),
            &[("id", "42"), ("rest", "")],
        ),
        (
            "GET - /users/42/orders",
            Some("orders"),
            &[("id", "42"), ("rest", "")],
        ),
        ("GET - /x/y", Some("pair"), &[("a", "x"), ("b", "y")]),
        // `{id}` (and `{b}` of `/{a}/{b}`) needs a non-empty segment.
        ("GET - /users/", None, &[]),
        ("GET - /users", None, &[]),
        ("GET - /users/42/x", None, &[]),
    ];
    for (line, want, params) in cases {
        let req = q(line);
        let m = router.find(&req.req());
        assert_eq!(m.as_ref().map(|m| *m.value), *want, "{line}");
        if let Some(m) = m {
            let got: Vec<(&str, &str)> = m.params.iter().collect();
            assert_eq!(got, *params, "{line}");
            assert_eq!(m.params.len(), params.len());
            for (k, v) in *params {
                assert_eq!(m.params.get(k), Some(*v), "{line} {k}");
            }
            assert_eq!(m.params.get("nope"), None);
        }
    }
}

#[test]
fn catch_all_at_root() {
    let router = build(vec![r("all").template("/{*path}")]);
    for (path, rest) in [("/", ""), ("/a", "a"), ("/a/b/", "a/b/")] {
        let req = q(&format!("GET - {path}"));
        let m = router.find(&req.req()).unwrap();
        assert_eq!(m.params.get("path"), Some(rest), "{path}");
        assert_eq!(m.matched_prefix, 0);
    }
}

#[test]
fn matched_prefix_per_kind() {
    let router = build(vec![
        r("exact").exact("/e/x"),
        r("prefix").prefix("/p/"),
        r("tpl").template("/t/{id}"),
        r("rest").template("/c/{id}/{*rest}"),
        r("any").hosts(&["any.test"]),
    ]);
    let cases = [
        ("GET - /e/x", "exact", 4),
        ("GET - /p", "prefix", 2),
        ("GET - /p/a/b", "prefix", 2),
        ("GET - /t/1", "tpl", 4),
        ("GET - /c/1/z/y", "rest", 4),
        ("GET any.test /whatever", "any", 0),
    ];
    for (line, name, len) in cases {
        let req = q(line);
        let m = router.find(&req.req()).unwrap();
        assert_eq!((*m.value, m.matched_prefix), (name, len), "{line}");
    }
}

// ----- hosts -----

#[test]
fn hosts_exact_wildcard_port_case() {
    check(
        vec![
            r("exact").hosts(&["api.example.com"]),
            r("wild").hosts(&["*.example.com"]),
            r("deep").hosts(&["*.eu.example.com"]),
            r("v6").hosts(&["[::1]"]),
            r("dot").hosts(&["Trailing.Example.ORG."]),
        ],
        &[
            ("GET api.example.com /", Some("exact")),
            ("GET API.Example.COM:8443 /", Some("exact")),
            ("GET api.example.com. /", Some("exact")),
            ("GET api.example.com.:80 /", Some("exact")),
            ("GET a.example.com /", Some("wild")),
            ("GET a.b.example.com /", Some("wild")),
            ("GET x.eu.example.com /", Some("deep")),
            ("GET eu.example.com /", Some("wild")),
            ("GET example.com /", None),
            ("GET .example.com /", None),
            ("GET notexample.com /", None),
            ("GET [::1]:8080 /", Some("v6")),
            ("GET [::1] /", Some("v6")),
            ("GET trailing.example.org /", Some("dot")),
            ("GET - /", None),
            ("GET :80 /", None),
        ],
    );
}

#[test]
fn long_upper_case_host_is_normalised() {
    let long = format!("{}.example.com", "A".repeat(300));
    let router = build(vec![
        r("wild").hosts(&["*.example.com"]),
        r("long").hosts(&[&long.to_lowercase()]),
    ]);
    assert_eq!(
        find(&router, &q(&format!("GET {long}:443 /"))),
        Some("long")
    );
    assert_eq!(find(&router, &q(&format!("GET B{long} /"))), Some("wild"));
}

#[test]
fn route_with_several_hosts_ranks_by_the_matching_one() {
    // `multi` is exact for a.test but only a wildcard for b.test, where the
    // exact `b` route is more specific.
    check(
        vec![
            r("multi").hosts(&["*.test", "a.test"]),
            r("b").hosts(&["b.test"]),
            r("wild").hosts(&["*.test"]),
        ],
        &[
            ("GET a.test /", Some("multi")),
            ("GET b.test /", Some("b")),
            ("GET c.test /", Some("multi")),
        ],
    );
}

// ----- methods, headers, query -----

#[test]
fn method_lists() {
    check(
        vec![
            r("read").methods(&["GET", "head"]).prefix("/"),
            r("write").methods(&["POST", "PUT"]).prefix("/"),
        ],
        &[
            ("GET - /x", Some("read")),
            ("HEAD - /x", Some("read")),
            ("POST - /x", Some("write")),
            ("PUT - /x", Some("write")),
            ("DELETE - /x", None),
        ],
    );
}

#[test]
fn headers_exact_regex_present_absent() {
    let router = build(vec![
        r("exact").header(v_exact("x-env", "prod")),
        r("regex").header(v_regex("X-Version", "v[0-9]+")),
        r("absent")
            .header(v_present("authorization", false))
            .prefix("/open"),
        r("present").header(v_present("authorization", true)),
    ]);
    let cases = [
        (q("GET - /").h("x-env", "prod"), Some("exact")),
        (q("GET - /").h("x-env", "Prod"), None),
        (
            q("GET - /").h("x-env", "staging").h("x-env", "prod"),
            Some("exact"),
        ),
        (q("GET - /").h("x-version", "v12"), Some("regex")),
        // Anchored at both ends.
        (q("GET - /").h("x-version", "xv12"), None),
        (q("GET - /").h("x-version", "v12-beta"), None),
        (q("GET - /").h("authorization", "Bearer x"), Some("present")),
        (
            q("GET - /open/x").h("authorization", "Bearer x"),
            Some("present"),
        ),
        (q("GET - /open/x"), Some("absent")),
        (q("GET - /"), None),
    ];
    for (req, want) in &cases {
        assert_eq!(find(&router, req), *want, "{} {:?}", req.path, req.headers);
    }
}

#[test]
fn regex_alternation_is_anchored_as_a_whole() {
    let router = build(vec![r("alt").header(v_regex("x-a", "a|b"))]);
    assert_eq!(find(&router, &q("GET - /").h("x-a", "b")), Some("alt"));
    assert_eq!(find(&router, &q("GET - /").h("x-a", "ab")), None);
    assert_eq!(find(&router, &q("GET - /").h("x-a", "xb")), None);
}

#[test]
fn query_conditions_are_percent_decoded() {
    check(
        vec![
            r("exact").query(v_exact("q", "a b/c")),
            r("name").query(v_exact("my key", "1")),
            r("regex").query(v_regex("v", "[0-9]+")),
            r("flag").query(v_present("debug", true)),
            r("absent")
                .query(v_present("debug", false))
                .prefix("/plain"),
        ],
        &[
            ("GET - /?q=a%20b%2Fc", Some("exact")),
            ("GET - /?q=a+b/c", Some("exact")),
            ("GET - /?x=1&q=a%20b%2fc&y", Some("exact")),
            ("GET - /?q=a%20b", None),
            ("GET - /?my%20key=1", Some("name")),
            ("GET - /?my+key=1", Some("name")),
            ("GET - /?v=%31%32", Some("regex")),
            ("GET - /?v=12x", None),
            ("GET - /?v=1&v=x", Some("regex")),
            ("GET - /?debug", Some("flag")),
            ("GET - /?debug=", Some("flag")),
            ("GET - /?debugger=1", None),
            ("GET - /plain?x=1", Some("absent")),
            ("GET - /plain?debug=0", Some("flag")),
            ("GET - /plain", Some("absent")),
            ("GET - /?q=%zz&&=&%", None),
        ],
    );
}

#[test]
fn percent_decoding_edge_cases() {
    use super::conditions::percent_decode;
    assert_eq!(&*percent_decode("abc"), b"abc");
    assert_eq!(&*percent_decode("a%41+%4a"), b"aA J");
    assert_eq!(&*percent_decode("%"), b"%");
    assert_eq!(&*percent_decode("%4"), b"%4");
    assert_eq!(&*percent_decode("%g1%ff"), b"%g1\xff");
}

// ----- precedence -----

#[test]
fn priority_beats_specificity() {
    check(
        vec![
            r("exact").exact("/a/b").hosts(&["h.test"]),
            r("catch").prefix("/").prio(10),
            r("neg").exact("/z").prio(-1),
        ],
        &[
            ("GET h.test /a/b", Some("catch")),
            ("GET - /z", Some("catch")),
        ],
    );
    check(
        vec![r("neg").prefix("/").prio(-1), r("zero").prefix("/")],
        &[("GET - /", Some("zero"))],
    );
}

#[test]
fn path_specificity_order() {
    // exact > template > prefix > none, regardless of config order.
    check(
        vec![
            r("none"),
            r("prefix").prefix("/a"),
            r("template").template("/a/{x}"),
            r("exact").exact("/a/b"),
        ],
        &[
            ("GET - /a/b", Some("exact")),
            ("GET - /a/c", Some("template")),
            ("GET - /a", Some("prefix")),
            ("GET - /b", Some("none")),
        ],
    );
}

#[test]
fn template_specificity_order() {
    check(
        vec![
            r("params").template("/{a}/{b}/{c}"),
            r("rest").template("/a/{*rest}"),
            r("one_literal").template("/a/{b}/{c}"),
            r("two_literals").template("/a/{b}/c"),
            r("short").template("/a/{b}"),
        ],
        &[
            // More literal segments first.
            ("GET - /a/x/c", Some("two_literals")),
            ("GET - /a/x/y", Some("one_literal")),
            // Same literal count: more segments first (catch-all not counted).
            ("GET - /a/x", Some("short")),
            ("GET - /a/x/y/z", Some("rest")),
            ("GET - /q/x/y", Some("params")),
        ],
    );
    // Equal literals and segments: no catch-all beats catch-all.
    check(
        vec![
            r("rest").template("/a/{b}/{*rest}"),
            r("plain").template("/a/{b}"),
        ],
        &[("GET - /a/x", Some("plain")), ("GET - /a/x/", Some("rest"))],
    );
}

#[test]
fn longer_prefix_wins() {
    check(
        vec![
            r("root").prefix("/"),
            r("a").prefix("/a"),
            r("ab").prefix("/a/b"),
            r("abc").prefix("/a/b/c/"),
        ],
        &[
            ("GET - /a/b/c/d", Some("abc")),
            ("GET - /a/b/cd", Some("ab")),
            ("GET - /a/bc", Some("a")),
            ("GET - /b", Some("root")),
        ],
    );
}

#[test]
fn host_specificity_after_path() {
    check(
        vec![
            r("any").prefix("/"),
            r("wild").prefix("/").hosts(&["*.example.com"]),
            r("deeper").prefix("/").hosts(&["*.api.example.com"]),
            r("exact").prefix("/").hosts(&["x.api.example.com"]),
            // A more specific path beats a more specific host.
            r("path").exact("/p"),
        ],
        &[
            ("GET x.api.example.com /", Some("exact")),
            ("GET y.api.example.com /", Some("deeper")),
            ("GET y.example.com /", Some("wild")),
            ("GET other.test /", Some("any")),
            ("GET x.api.example.com /p", Some("path")),
        ],
    );
}

#[test]
fn more_conditions_win_after_host() {
    check(
        vec![
            r("plain").prefix("/"),
            r("method").prefix("/").methods(&["GET"]),
            r("two")
                .prefix("/")
                .methods(&["GET"])
                .header(v_present("x-a", true)),
            r("host").prefix("/").hosts(&["h.test"]),
        ],
        &[
            ("GET - /", Some("method")),
            ("POST - /", Some("plain")),
            // The host outranks the condition count.
            ("GET h.test /", Some("host")),
        ],
    );
    let router = build(vec![
        r("plain").prefix("/"),
        r("method").prefix("/").methods(&["GET"]),
        r("two")
            .prefix("/")
            .methods(&["GET"])
            .header(v_present("x-a", true)),
    ]);
    assert_eq!(find(&router, &q("GET - /").h("x-a", "1")), Some("two"));
}

#[test]
fn config_order_breaks_ties() {
    check(
        vec![
            r("first").prefix("/a"),
            r("second").prefix("/a/"),
            r("third").prefix("/a"),
        ],
        &[("GET - /a/x", Some("first"))],
    );
    check(
        vec![
            r("first").template("/u/{id}"),
            r("second").template("/u/{name}"),
        ],
        &[("GET - /u/1", Some("first"))],
    );
}

#[test]
fn falls_through_to_next_candidate_when_conditions_fail() {
    check(
        vec![
            r("post").exact("/x").methods(&["POST"]),
            r("hdr").exact("/x").header(v_exact("x-a", "1")),
            r("tpl").template("/{p}"),
            r("wild_get").hosts(&["*.test"]).methods(&["GET"]),
            r("fallback"),
        ],
        &[
            ("POST h.test /x", Some("post")),
            ("GET h.test /x", Some("tpl")),
            ("GET h.test /x/y", Some("wild_get")),
            ("DELETE h.test /x/y", Some("fallback")),
        ],
    );
}

#[test]
fn no_match() {
    check(
        vec![
            r("a").exact("/a").hosts(&["a.test"]),
            r("b").prefix("/b").methods(&["POST"]),
        ],
        &[
            ("GET a.test /b", None),
            ("GET b.test /a", None),
            ("GET - /b", None),
            ("GET - /c", None),
        ],
    );
    let empty = build(vec![]);
    assert!(empty.is_empty());
    assert_eq!(find(&empty, &q("GET - /")), None);
}

// ----- validation -----

#[test]
fn bad_specs_are_rejected_with_the_field() {
    let cases: Vec<(R, &str)> = vec![
        (r("x").hosts(&["*"]), "hosts[0]"),
        (r("x").hosts(&["a.*.com"]), "hosts[0]"),
        (r("x").hosts(&["ok.test", "h.test:80"]), "hosts[1]"),
        (r("x").hosts(&[""]), "hosts[0]"),
        (r("x").methods(&["GE T"]), "methods[0]"),
        (r("x").exact("a"), "path"),
        (r("x").prefix("/a?b"), "path"),
        (r("x").template("/a/{"), "path"),
        (r("x").template("/a/x{id}"), "path"),
        (r("x").template("/{*rest}/a"), "path"),
        (r("x").template("/{id}/{id}"), "path"),
        (r("x").template("/{a-b}"), "path"),
        (r("x").header(vm("x-a")), "headers[0]"),
        (
            r("x").header(ValueMatchSpec {
                present: Some(true),
                ..v_exact("x-a", "1")
            }),
            "headers[0]",
        ),
        (r("x").header(v_exact("bad name", "1")), "headers[0].name"),
        (r("x").header(v_regex("x-a", "(")), "headers[0]"),
        (r("x").query(v_exact("", "1")), "query[0].name"),
        (r("x").query(v_regex("a", "[")), "query[0]"),
    ];
    for (route, field) in cases {
        let mut b: RouterBuilder<()> = RouterBuilder::new();
        let err = b.add(&route.spec, 0, ()).expect_err(field);
        assert!(err.starts_with(field), "{err} should start with {field}");
        assert!(b.is_empty());
    }
}

// ----- robustness -----

#[test]
fn odd_inputs_never_panic() {
    let router = build(vec![
        r("t").template("/{a}/{*b}"),
        r("p").prefix("/x"),
        r("e").exact("/"),
        r("h").hosts(&["*.test"]).template("/{a}"),
    ]);
    let paths = [
        "",
        "/",
        "//",
        "///",
        "/x//",
        "x",
        "*",
        "/é/ü",
        "/%",
        "/%zz/..",
        &"/a".repeat(5000),
    ];
    let hosts = [
        None,
        Some(""),
        Some(":"),
        Some("["),
        Some("]:"),
        Some("[::1"),
        Some("."),
        Some(".."),
        Some("É.test"),
        Some("a.test:"),
    ];
    let queries = [
        None,
        Some(""),
        Some("&"),
        Some("="),
        Some("%"),
        Some("a=%f"),
    ];
    let headers = HeaderMap::new();
    for p in paths {
        for h in hosts {
            for qs in queries {
                let req = RouteRequest {
                    host: h,
                    method: &Method::GET,
                    path: p,
                    query: qs,
                    headers: (&headers).into(),
                };
                let _ = router.find(&req);
            }
        }
    }
    let req = RouteRequest {
        host: Some("a.test"),
        method: &Method::GET,
        path: "/x",
        query: None,
        headers: (&headers).into(),
    };
    assert_eq!(router.find(&req).map(|m| *m.value), Some("h"));
}

#[test]
fn many_captures_spill_to_the_heap() {
    let template: String = (0..20).map(|i| format!("/{{p{i}}}")).collect();
    let path: String = (0..20).map(|i| format!("/v{i}")).collect();
    let mut b = Router::builder();
    b.add(&r("x").template(&template).spec, 0, "deep").unwrap();
    let router = b.build();
    let headers = HeaderMap::new();
    let req = RouteRequest {
        host: None,
        method: &Method::GET,
        path: &path,
        query: None,
        headers: (&headers).into(),
    };
    let m = router.find(&req).unwrap();
    assert_eq!(m.params.len(), 20);
    assert_eq!(m.params.get("p0"), Some("v0"));
    assert_eq!(m.params.get("p19"), Some("v19"));
}
