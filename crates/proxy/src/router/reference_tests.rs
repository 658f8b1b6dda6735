//! Property-style test: the indexed router must pick the same route, with the
//! same captures, as a naive linear scan written straight from the rules in
//! the module docs, over random route tables and requests (fixed seeds).

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use sy_config::{MatchSpec, PathMatchSpec, ValueMatchSpec};

use super::*;

const SEGMENTS: &[&str] = &["a", "b", "users", "1", ""];
const HOSTS: &[&str] = &[
    "a.test",
    "b.a.test",
    "x.b.a.test",
    "*.a.test",
    "*.b.a.test",
    "*.test",
    "other.test",
];
const REQUEST_HOSTS: &[&str] = &[
    "a.test",
    "b.a.test",
    "x.b.a.test",
    "y.x.b.a.test",
    "other.test",
    "test",
    "zzz",
];
const METHODS: &[Method] = &[Method::GET, Method::POST, Method::DELETE];

/// A route as the reference sees it.
struct Spec {
    spec: MatchSpec,
    priority: i32,
}

fn pick<'a, T>(rng: &mut fastrand::Rng, items: &'a [T]) -> &'a T {
    &items[rng.usize(..items.len())]
}

fn random_path(rng: &mut fastrand::Rng, max: usize) -> String {
    let n = rng.usize(0..=max);
    if n == 0 {
        return "/".into();
    }
    (0..n)
        .map(|_| format!("/{}", pick(rng, SEGMENTS)))
        .collect()
}

fn random_template(rng: &mut fastrand::Rng) -> String {
    let n = rng.usize(1..=4);
    let mut out = String::new();
    for i in 0..n {
        let last = i + 1 == n;
        match rng.u8(0..10) {
            0..=4 => out.push_str(&format!("/{}", pick(rng, &SEGMENTS[..4]))),
            5..=7 => out.push_str(&format!("/{{p{i}}}")),
            _ if last => out.push_str("/{*rest}"),
            _ => out.push_str(&format!("/{{p{i}}}")),
        }
    }
    out
}

fn random_value_match(rng: &mut fastrand::Rng, name: &str, values: &[&str]) -> ValueMatchSpec {
    let base = ValueMatchSpec {
        name: name.into(),
        exact: None,
        regex: None,
        present: None,
    };
    match rng.u8(0..3) {
        0 => ValueMatchSpec {
            exact: Some(pick(rng, values).to_string()),
            ..base
        },
        1 => ValueMatchSpec {
            present: Some(true),
            ..base
        },
        _ => ValueMatchSpec {
            present: Some(false),
            ..base
        },
    }
}

fn random_route(rng: &mut fastrand::Rng) -> Spec {
    let mut spec = MatchSpec::default();
    if rng.u8(0..3) > 0 {
        for _ in 0..rng.usize(1..=2) {
            spec.hosts.push(pick(rng, HOSTS).to_string());
        }
    }
    if rng.bool() {
        for _ in 0..rng.usize(1..=2) {
            spec.methods.push(pick(rng, METHODS).as_str().to_owned());
        }
    }
    spec.path = match rng.u8(0..4) {
        0 => None,
        1 => Some(PathMatchSpec::Exact(random_path(rng, 3))),
        2 => {
            let mut p = random_path(rng, 3);
            if rng.u8(0..4) == 0 && p != "/" {
                p.push('/');
            }
            Some(PathMatchSpec::Prefix(p))
        }
        _ => Some(PathMatchSpec::Template(random_template(rng))),
    };
    if rng.u8(0..4) == 0 {
        spec.headers
            .push(random_value_match(rng, "x-a", &["1", "2"]));
    }
    if rng.u8(0..4) == 0 {
        spec.query.push(random_value_match(rng, "q", &["1", "a b"]));
    }
    let priority = *pick(rng, &[-1, 0, 0, 0, 0, 1]);
    Spec { spec, priority }
}

struct Request {
    host: Option<String>,
    method: Method,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
}

fn random_request(rng: &mut fastrand::Rng) -> Request {
    let host = match rng.u8(0..8) {
        0 => None,
        1 => Some(pick(rng, REQUEST_HOSTS).to_uppercase()),
        2 => Some(format!("{}:8080", pick(rng, REQUEST_HOSTS))),
        3 => Some(format!("{}.", pick(rng, REQUEST_HOSTS))),
        _ => Some(pick(rng, REQUEST_HOSTS).to_string()),
    };
    let mut path = random_path(rng, 5);
    if rng.u8(0..5) == 0 {
        path.push('/');
    }
    let query = pick(
        rng,
        &[
            None,
            Some("q=1"),
            Some("q=a+b"),
            Some("q=a%20b"),
            Some("x=1&q"),
            Some("q=2&q=1"),
        ],
    )
    .map(str::to_owned);
    let mut headers = HeaderMap::new();
    match rng.u8(0..3) {
        0 => {}
        1 => {
            headers.insert(
                HeaderName::from_static("x-a"),
                HeaderValue::from_static("1"),
            );
        }
        _ => {
            headers.insert(
                HeaderName::from_static("x-a"),
                HeaderValue::from_static("2"),
            );
        }
    }
    Request {
        host,
        method: pick(rng, METHODS).clone(),
        path,
        query,
        headers,
    }
}

// ----- the reference: one route at a time, straight from the rules -----

fn ref_host(raw: &str) -> String {
    let h = raw.to_ascii_lowercase();
    let h = match h.rsplit_once(':') {
        Some((a, _)) => a.to_owned(),
        None => h,
    };
    h.strip_suffix('.').map(str::to_owned).unwrap_or(h)
}

/// Best (class, suffix length) among the route's host patterns that match.
fn ref_host_match(spec: &MatchSpec, host: Option<&str>) -> Option<(u8, usize)> {
    if spec.hosts.is_empty() {
        return Some((0, 0));
    }
    let host = ref_host(host?);
    spec.hosts
        .iter()
        .filter_map(|p| match p.strip_prefix("*.") {
            Some(s) => (host.ends_with(&format!(".{s}")) && host.len() > s.len() + 1)
                .then_some((1, s.len())),
            None => (host == *p).then_some((2, 0)),
        })
        .max()
}

type PathKey = (u8, usize, usize, bool);
type Captures = Vec<(String, String)>;
/// Winning route index, captures, matched prefix.
type Outcome = (usize, Captures, usize);
type Key = (i32, PathKey, (u8, usize), usize, std::cmp::Reverse<usize>);

fn ref_path_match(spec: &MatchSpec, path: &str) -> Option<(PathKey, Captures, usize)> {
    match &spec.path {
        None => Some(((0, 0, 0, false), vec![], 0)),
        Some(PathMatchSpec::Exact(p)) => {
            (path == p).then(|| ((3, 0, 0, false), vec![], path.len()))
        }
        Some(PathMatchSpec::Prefix(p)) => {
            let p = if p.len() > 1 && p.ends_with('/') {
                &p[..p.len() - 1]
            } else {
                p.as_str()
            };
            let hit = if p == "/" {
                path.starts_with('/')
            } else {
                path == p || path.starts_with(&format!("{p}/"))
            };
            let covered = if p == "/" { 0 } else { p.len() };
            hit.then(|| ((1, p.len(), 0, false), vec![], covered))
        }
        Some(PathMatchSpec::Template(t)) => {
            let body = path.strip_prefix('/')?;
            let psegs: Vec<&str> = body.split('/').collect();
            let tsegs: Vec<&str> = t[1..].split('/').collect();
            let mut params = vec![];
            let mut literals = 0;
            let mut segments = 0;
            for (i, ts) in tsegs.iter().enumerate() {
                if let Some(name) = ts.strip_prefix("{*").and_then(|s| s.strip_suffix('}')) {
                    let rest = psegs.get(i..).map(|r| r.join("/")).unwrap_or_default();
                    params.push((name.to_owned(), rest));
                    // Each consumed segment plus its leading `/`.
                    let covered = psegs[..i].iter().map(|s| s.len() + 1).sum::<usize>();
                    return Some(((2, literals, segments, false), params, covered));
                }
                let seg = psegs.get(i)?;
                if let Some(name) = ts.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    if seg.is_empty() {
                        return None;
                    }
                    params.push((name.to_owned(), seg.to_string()));
                } else {
                    if seg != ts {
                        return None;
                    }
                    literals += 1;
                }
                segments += 1;
            }
            (psegs.len() == tsegs.len()).then_some((
                (2, literals, segments, true),
                params,
                path.len(),
            ))
        }
    }
}

fn ref_value(spec: &ValueMatchSpec, values: &[Vec<u8>]) -> bool {
    match (spec.present, &spec.exact) {
        (Some(p), _) => values.is_empty() != p,
        (None, Some(e)) => values.iter().any(|v| v == e.as_bytes()),
        _ => unreachable!("the generator makes exact or present only"),
    }
}

fn ref_decode(s: &str) -> Vec<u8> {
    let b = s.replace('+', " ").into_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Index of the winning route, its captures and matched prefix.
fn reference(routes: &[Spec], req: &Request) -> Option<Outcome> {
    let mut best: Option<(Key, Outcome)> = None;
    for (i, route) in routes.iter().enumerate() {
        let s = &route.spec;
        let Some(host_key) = ref_host_match(s, req.host.as_deref()) else {
            continue;
        };
        let Some((path_key, params, covered)) = ref_path_match(s, &req.path) else {
            continue;
        };
        if !s.methods.is_empty() && !s.methods.iter().any(|m| m == req.method.as_str()) {
            continue;
        }
        let headers_ok = s.headers.iter().all(|h| {
            let values: Vec<Vec<u8>> = req
                .headers
                .get_all(h.name.as_str())
                .iter()
                .map(|v| v.as_bytes().to_vec())
                .collect();
            ref_value(h, &values)
        });
        let query_ok = s.query.iter().all(|q| {
            let values: Vec<Vec<u8>> = req
                .query
                .as_deref()
                .unwrap_or("")
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| p.split_once('=').unwrap_or((p, "")))
                .filter(|(n, _)| ref_decode(n) == q.name.as_bytes())
                .map(|(_, v)| ref_decode(v))
                .collect();
            ref_value(q, &values)
        });
        if !headers_ok || !query_ok {
            continue;
        }
        let conditions = s.headers.len() + s.query.len() + usize::from(!s.methods.is_empty());
        let key = (
            route.priority,
            path_key,
            host_key,
            conditions,
            std::cmp::Reverse(i),
        );
        if best.as_ref().is_none_or(|(k, ..)| key > *k) {
            best = Some((key, (i, params, covered)));
        }
    }
    best.map(|(_, outcome)| outcome)
}

fn run(seed: u64, tables: usize, max_routes: usize, requests: usize) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut matched = 0;
    for _ in 0..tables {
        let routes: Vec<Spec> = (0..rng.usize(1..=max_routes))
            .map(|_| random_route(&mut rng))
            .collect();
        let mut builder = Router::builder();
        for (i, r) in routes.iter().enumerate() {
            builder.add(&r.spec, r.priority, i).unwrap();
        }
        let router = builder.build();
        for _ in 0..requests {
            let req = random_request(&mut rng);
            let rr = RouteRequest {
                host: req.host.as_deref(),
                method: &req.method,
                path: &req.path,
                query: req.query.as_deref(),
                headers: (&req.headers).into(),
            };
            let got = router.find(&rr).map(|m| {
                let params: Vec<(String, String)> = m
                    .params
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect();
                (*m.value, params, m.matched_prefix)
            });
            let want = reference(&routes, &req);
            if got != want {
                let table: Vec<String> = routes
                    .iter()
                    .enumerate()
                    .map(|(i, r)| format!("{i}: prio {} {:?}", r.priority, r.spec))
                    .collect();
                panic!(
                    "seed {seed}: host {:?} {} {} ?{:?} {:?}\n got {got:?}\nwant {want:?}\nroutes:\n{}",
                    req.host,
                    req.method,
                    req.path,
                    req.query,
                    req.headers,
                    table.join("\n")
                );
            }
            matched += usize::from(got.is_some());
        }
    }
    // The generator must produce matches, or the comparison proves little.
    assert!(matched > tables * requests / 5, "only {matched} matches");
}

#[test]
fn agrees_with_linear_reference_on_small_tables() {
    run(0x5eed_0001, 400, 12, 100);
}

#[test]
fn agrees_with_linear_reference_on_large_tables() {
    run(0x5eed_0002, 10, 400, 1000);
}
