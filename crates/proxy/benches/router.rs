//! Route lookup cost with 10 and 10,000 routes.
//!
//! Both tables mix exact paths, prefixes, templates (with and without a
//! catch-all), exact hosts, wildcard hosts and any-host routes in the same
//! proportions. Each iteration looks up the next request of a list of
//! 10,000 that hits every route in turn (so lookups touch the whole table,
//! not one hot entry); both tables use a list of the same length, so the
//! harness's own memory reads are the same and the ratio is the table's.
//! A second group looks up requests no route matches. The criterion figure
//! is the time per lookup.
//!
//! Run: `cargo bench -p sy-proxy --bench router`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use http::{HeaderMap, Method};
use sy_config::{MatchSpec, PathMatchSpec};
use sy_proxy::router::{RouteRequest, Router};

/// A request in owned form; turned into a `RouteRequest` per lookup.
struct Req {
    host: String,
    method: Method,
    path: String,
}

/// Route `i` of a table of `n` and a request that hits it.
fn route(i: usize, n: usize) -> (MatchSpec, Req) {
    let host_groups = (n / 20).max(1);
    let g = i % host_groups;
    let (hosts, host) = match i % 3 {
        0 => (
            vec![format!("api{g}.example.com")],
            format!("API{g}.example.com:443"),
        ),
        1 => (
            vec![format!("*.t{g}.example.com")],
            format!("x.t{g}.example.com"),
        ),
        _ => (vec![], "www.example.org".to_owned()),
    };
    let (path, req_path) = match i % 4 {
        0 => (
            PathMatchSpec::Exact(format!("/v1/svc{i}/status")),
            format!("/v1/svc{i}/status"),
        ),
        1 => (
            PathMatchSpec::Prefix(format!("/svc{i}")),
            format!("/svc{i}/some/deeper/path"),
        ),
        2 => (
            PathMatchSpec::Template(format!("/svc{i}/users/{{id}}/orders/{{*rest}}")),
            format!("/svc{i}/users/u-123/orders/o-9/items"),
        ),
        _ => (
            PathMatchSpec::Template(format!("/api/svc{i}/{{id}}")),
            format!("/api/svc{i}/42"),
        ),
    };
    let methods = if i.is_multiple_of(5) {
        vec!["GET".to_owned(), "POST".to_owned()]
    } else {
        vec![]
    };
    let spec = MatchSpec {
        hosts,
        methods,
        path: Some(path),
        headers: vec![],
        query: vec![],
    };
    (
        spec,
        Req {
            host,
            method: Method::GET,
            path: req_path,
        },
    )
}

/// Requests each table is looked up with: the same number for every table,
/// so the harness reads the same amount of request memory per lookup and
/// only the table's size differs between the figures.
const REQUESTS: usize = 10_000;

fn table(n: usize) -> Result<(Router<usize>, Vec<Req>), String> {
    let mut builder = Router::builder();
    for i in 0..n {
        builder.add(&route(i, n).0, 0, i)?;
    }
    // Request `k` hits route `k % n`; each is its own allocation, as each
    // request of the 10,000-route table is.
    let hits = (0..REQUESTS).map(|k| route(k % n, n).1).collect();
    Ok((builder.build(), hits))
}

fn lookup(router: &Router<usize>, req: &Req, headers: &HeaderMap) -> Option<usize> {
    let r = RouteRequest {
        host: Some(&req.host),
        method: &req.method,
        path: &req.path,
        query: None,
        headers: headers.into(),
    };
    router.find(&r).map(|m| *m.value + m.params.len())
}

/// `ROUTER_LOOKUPS=N ROUTER_TABLE=n`: build table `n`, do `N` hit lookups and
/// exit, without criterion. For counting under valgrind, where wall time
/// means nothing: run twice with different `N` and divide the difference
/// (`bench/router-cache.sh` does this), so the table's construction cancels.
fn fixed_count(lookups: usize, n: usize) -> Result<(), String> {
    let headers = HeaderMap::new();
    let (router, hits) = table(n)?;
    let mut found = 0usize;
    for k in 0..lookups {
        found += usize::from(lookup(&router, black_box(&hits[k % hits.len()]), &headers).is_some());
    }
    if found != lookups {
        return Err(format!(
            "{} of {lookups} lookups found no route",
            lookups - found
        ));
    }
    Ok(())
}

fn main() -> Result<(), String> {
    if let Ok(lookups) = std::env::var("ROUTER_LOOKUPS") {
        let lookups = lookups
            .parse()
            .map_err(|e| format!("ROUTER_LOOKUPS: {e}"))?;
        let n = std::env::var("ROUTER_TABLE")
            .map_err(|_| "ROUTER_TABLE is required with ROUTER_LOOKUPS".to_owned())?
            .parse()
            .map_err(|e| format!("ROUTER_TABLE: {e}"))?;
        return fixed_count(lookups, n);
    }
    let mut c = Criterion::default().configure_from_args();
    let headers = HeaderMap::new();
    let mut hits_group = c.benchmark_group("router_hit");
    hits_group.throughput(Throughput::Elements(1));
    let mut tables = Vec::new();
    for n in [10, 10_000] {
        let (router, hits) = table(n)?;
        // Every request must find a route, or the figure measures misses.
        if let Some(i) = (0..hits.len()).find(|&i| lookup(&router, &hits[i], &headers).is_none()) {
            return Err(format!("request {i} of table {n} found no route"));
        }
        let mut next = 0;
        hits_group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                next = (next + 1) % hits.len();
                black_box(lookup(&router, black_box(&hits[next]), &headers))
            })
        });
        tables.push((n, router));
    }
    hits_group.finish();

    let misses = [
        Req {
            host: "api0.example.com".into(),
            method: Method::GET,
            path: "/v1/nothing/here".into(),
        },
        Req {
            host: "nobody.example.net".into(),
            method: Method::DELETE,
            path: "/svcx/users".into(),
        },
    ];
    let mut miss_group = c.benchmark_group("router_miss");
    miss_group.throughput(Throughput::Elements(1));
    for (n, router) in &tables {
        let mut next = 0;
        miss_group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                next = (next + 1) % misses.len();
                black_box(lookup(router, black_box(&misses[next]), &headers))
            })
        });
    }
    miss_group.finish();
    c.final_summary();
    Ok(())
}
