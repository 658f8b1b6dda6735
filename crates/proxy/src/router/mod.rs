//! The route matcher: picks the one route that serves a request.
//!
//! A [`Router`] is built once per snapshot from every route's [`MatchSpec`]
//! and then only read. A lookup never scans the route table: routes are
//! indexed by host (exact map, wildcard-suffix map, any host) and, inside each
//! host bucket, by path (exact map, and a segment trie holding prefixes and
//! templates). The lookup gathers the lists of structurally matching
//! candidates, each already sorted by precedence, merges them in precedence
//! order and returns the first candidate whose remaining conditions (method,
//! headers, query) hold. Cost therefore grows with the path's depth and the
//! number of candidates that share the request's host and path, not with the
//! size of the table.
//!
//! # Precedence
//!
//! 1. Higher explicit `priority` wins.
//! 2. Then the more specific route, compared field by field (first difference
//!    decides):
//!    1. path: `exact` > `template` > `prefix` > no path condition.
//!       Between templates: more literal segments, then more segments (a
//!       final catch-all does not count), then no catch-all over catch-all.
//!       Between prefixes: the longer prefix (after dropping a trailing `/`),
//!       so `/` is the least specific prefix but still beats no path.
//!    2. host: exact host > wildcard (longer suffix first, so `*.a.example.com`
//!       beats `*.example.com`) > any host. For a route listing several hosts,
//!       the pattern that matched the request counts.
//!    3. conditions: more header + query conditions plus one for a method
//!       list wins.
//! 3. Then configuration order: the route added first wins.
//!
//! # Matching rules
//!
//! * Host: the request's host is normalised (port removed, ASCII lower case,
//!   one trailing dot removed). `*.example.com` matches one or more leading
//!   labels (`a.example.com`, `a.b.example.com`) but not `example.com`.
//!   A request without a host matches only routes without hosts.
//! * Path: matched on the raw path as received, never percent-decoded.
//!   Decoding before matching would let `/admin` and `/%61dmin` or `/a%2Fb`
//!   and `/a/b` name the same route while the upstream may see them as
//!   different resources (a classic smuggling gap); the proxy rejects
//!   ambiguous paths (dot segments, bad escapes) before routing, and the
//!   router compares bytes. Paths that do not start with `/` (`*`,
//!   authority form) only match `exact` routes and routes without a path.
//! * Prefix: at a segment boundary: `/api` (or `/api/`) matches `/api`,
//!   `/api/` and `/api/x`, not `/apix`; `/` matches every path.
//! * Template: `/users/{id}/orders/{*rest}`. `{name}` matches exactly one
//!   non-empty segment; a final `{*rest}` matches the remainder, which may be
//!   empty (`/files/{*p}` matches `/files`, `/files/` and `/files/a/b`).
//!   Captures are raw (still percent-encoded), so they can be put back into a
//!   rewritten path unchanged.
//! * Method: one of the listed methods (names upper-cased at build time).
//! * Headers: name case-insensitive; `exact` and `regex` hold when any value
//!   of the header matches; regexes are anchored at both ends.
//! * Query: parameters are split on `&` and `=` and percent-decoded (`+` is a
//!   space, as in HTML forms) before comparison; a parameter without `=` has
//!   an empty value; `exact` and `regex` hold when any occurrence matches.

mod conditions;
mod hash;
mod host;
pub(crate) mod inline;
mod path;
mod rewrite;

#[cfg(test)]
mod reference_tests;
#[cfg(test)]
mod rewrite_tests;
#[cfg(test)]
mod tests;

use std::cmp::Reverse;

use http::Method;
use sy_config::MatchSpec;
use sy_http::FieldsRef;

use conditions::Conditions;
use hash::FastMap;
use host::HostPattern;
use inline::InlineVec;
use path::{Collector, Group, PathIndex, PathPattern};

pub use rewrite::{RewriteError, check_rewrite, rewrite_path};

/// What the router looks at in a request. All fields borrow from the
/// request; nothing is copied unless the host needs lower-casing and is
/// longer than 256 bytes.
#[derive(Debug, Clone, Copy)]
pub struct RouteRequest<'a> {
    /// Host as received (`Host` header or URI authority): may contain a port,
    /// upper case or a trailing dot; the router normalises it.
    pub host: Option<&'a str>,
    /// Request method.
    pub method: &'a Method,
    /// Raw path, without the query string.
    pub path: &'a str,
    /// Raw query string, without the `?`.
    pub query: Option<&'a str>,
    /// Request headers, in a map or as lines.
    pub headers: FieldsRef<'a>,
}

/// The route chosen for a request.
#[derive(Debug)]
pub struct RouteMatch<'r, T> {
    /// The value given to [`RouterBuilder::add`] for the route.
    pub value: &'r T,
    /// Position of the route in the order of [`RouterBuilder::add`] calls.
    pub index: usize,
    /// Values captured by a `template` path; empty for other path kinds.
    pub params: Params<'r>,
    /// Byte length of the request path covered by the route's path pattern:
    /// the whole path for `exact` and complete `template` matches; the part
    /// before the remainder for `prefix` (`/api` on `/api/x` → 4; `/` → 0) and
    /// catch-all templates; 0 without a path condition. `&path[matched_prefix..]`
    /// is empty or starts with `/`.
    pub matched_prefix: usize,
}

/// Values captured by a template match, by name. Values are raw
/// (percent-encoded as received); they are copied into one string, so a match
/// with captures costs one allocation and one without costs none.
#[derive(Debug, Clone, Default)]
pub struct Params<'r> {
    names: &'r [Box<str>],
    values: String,
    ends: InlineVec<usize, 8>,
}

impl<'r> Params<'r> {
    /// The value captured as `name` (`{name}` or `{*name}` in the template).
    pub fn get(&self, name: &str) -> Option<&str> {
        let i = self.names.iter().position(|n| &**n == name)?;
        self.value_at(i)
    }

    /// Number of captures.
    pub fn len(&self) -> usize {
        self.ends.as_slice().len()
    }

    /// Whether nothing was captured.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `(name, value)` pairs in template order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.names
            .iter()
            .enumerate()
            .filter_map(|(i, n)| Some((&**n, self.value_at(i)?)))
    }

    fn value_at(&self, i: usize) -> Option<&str> {
        let ends = self.ends.as_slice();
        let end = *ends.get(i)?;
        let start = if i == 0 { 0 } else { *ends.get(i - 1)? };
        self.values.get(start..end)
    }
}

/// Collects routes, then builds the immutable [`Router`].
#[derive(Debug)]
pub struct RouterBuilder<T> {
    routes: Vec<Pending<T>>,
}

/// A route as added, before ranks are known.
#[derive(Debug)]
struct Pending<T> {
    value: T,
    priority: i32,
    hosts: Vec<HostPattern>,
    path: PathPattern,
    conditions: Conditions,
}

impl<T> Default for RouterBuilder<T> {
    fn default() -> Self {
        Self { routes: Vec::new() }
    }
}

impl<T> RouterBuilder<T> {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a route. Routes added earlier win ties (see the module docs).
    /// Fails with a message naming the offending field (`hosts[1]: ...`) on
    /// a malformed host, method, path pattern, header name or regex; nothing
    /// is added then.
    pub fn add(&mut self, spec: &MatchSpec, priority: i32, value: T) -> Result<(), String> {
        if u32::try_from(self.routes.len()).is_err() {
            return Err("too many routes".to_owned());
        }
        let mut hosts: Vec<HostPattern> = Vec::with_capacity(spec.hosts.len());
        for (i, h) in spec.hosts.iter().enumerate() {
            let pattern = HostPattern::parse(h).map_err(|e| format!("hosts[{i}]: {e}"))?;
            if !hosts.contains(&pattern) {
                hosts.push(pattern);
            }
        }
        let path = match &spec.path {
            Some(p) => PathPattern::parse(p).map_err(|e| format!("path: {e}"))?,
            None => PathPattern::Any,
        };
        let conditions = Conditions::compile(spec)?;
        self.routes.push(Pending {
            value,
            priority,
            hosts,
            path,
            conditions,
        });
        Ok(())
    }

    /// Number of routes added so far.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether no route was added.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Ranks every (route, host pattern) pair by precedence and builds the
    /// indexes. Infallible: everything that can fail was checked by `add`.
    pub fn build(self) -> Router<T> {
        // One entry per (route, host pattern); a route without hosts has one.
        struct Entry {
            route: u32,
            host: Option<usize>,
            key: (Reverse<i32>, Reverse<Specificity>, u32),
        }
        let mut entries = Vec::new();
        for (r, p) in self.routes.iter().enumerate() {
            let route = u32::try_from(r).unwrap_or(u32::MAX);
            let path = p.path.rank();
            let conditions = p.conditions.count();
            let mut push = |host: Option<usize>, host_rank: HostRank| {
                let spec = Specificity {
                    path,
                    host: host_rank,
                    conditions,
                };
                entries.push(Entry {
                    route,
                    host,
                    key: (Reverse(p.priority), Reverse(spec), route),
                });
            };
            if p.hosts.is_empty() {
                push(None, HostRank::Any);
            }
            for (i, h) in p.hosts.iter().enumerate() {
                push(Some(i), h.rank());
            }
        }
        entries.sort_by_key(|e| e.key);

        let mut router = Router {
            routes: Vec::with_capacity(self.routes.len()),
            entries: Vec::with_capacity(entries.len()),
            exact_hosts: FastMap::default(),
            wildcard_hosts: FastMap::default(),
            wildcard_labels: 0,
            any_host: PathIndex::default(),
        };
        for (rank, e) in entries.iter().enumerate() {
            let rank = u32::try_from(rank).unwrap_or(u32::MAX);
            let Some(p) = self.routes.get(e.route as usize) else {
                continue;
            };
            let bucket = match e.host.and_then(|i| p.hosts.get(i)) {
                None => &mut router.any_host,
                Some(HostPattern::Exact(h)) => router.exact_hosts.entry(h.clone()).or_default(),
                Some(HostPattern::Wildcard(s)) => {
                    router.wildcard_labels |= host::label_bit(s);
                    router.wildcard_hosts.entry(s.clone()).or_default()
                }
            };
            bucket.insert(&p.path, rank);
            router.entries.push(e.route);
        }
        for p in self.routes {
            router.routes.push(Route {
                names: p.path.capture_names(),
                value: p.value,
                conditions: p.conditions,
            });
        }
        router
    }
}

/// How specific a route is; larger is more specific. The derived order
/// compares path, then host, then the condition count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Specificity {
    path: PathRank,
    host: HostRank,
    conditions: u32,
}

/// Path part of [`Specificity`]; later variants are more specific.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum PathRank {
    /// No path condition.
    Any,
    /// Prefix of this many bytes (trailing `/` dropped).
    Prefix(usize),
    /// Template: literal segments, segments before any catch-all, and
    /// whether it has no catch-all.
    Template {
        literals: usize,
        segments: usize,
        no_catch_all: bool,
    },
    /// Exact path.
    Exact,
}

/// Host part of [`Specificity`]; later variants are more specific.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum HostRank {
    /// No host condition.
    Any,
    /// Wildcard with a suffix of this many bytes.
    Wildcard(usize),
    /// Exact host.
    Exact,
}

/// A compiled route.
#[derive(Debug)]
struct Route<T> {
    value: T,
    /// Capture names of a template path, in capture order.
    names: Box<[Box<str>]>,
    conditions: Conditions,
}

/// The immutable route table. Lookups take `&self` and allocate only for
/// template captures (and for lower-casing a host longer than 256 bytes).
#[derive(Debug)]
pub struct Router<T> {
    routes: Vec<Route<T>>,
    /// Route index by rank (0 = highest precedence).
    entries: Vec<u32>,
    exact_hosts: FastMap<Box<str>, PathIndex>,
    /// Keyed by the suffix after `*.`.
    wildcard_hosts: FastMap<Box<str>, PathIndex>,
    /// Bit `n` set: some wildcard suffix has `n` labels (63: 63 or more).
    /// Lets a lookup skip suffixes no wildcard could be keyed by.
    wildcard_labels: u64,
    any_host: PathIndex,
}

impl<T> Router<T> {
    /// A builder; same as [`RouterBuilder::new`].
    pub fn builder() -> RouterBuilder<T> {
        RouterBuilder::new()
    }

    /// Number of routes.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// The highest-precedence route whose every condition holds, if any.
    pub fn find<'r>(&'r self, req: &RouteRequest<'_>) -> Option<RouteMatch<'r, T>> {
        // Offsets are kept as `u32`; no real path comes near 4 GiB.
        if u32::try_from(req.path.len()).is_err() {
            return None;
        }
        let mut buf = [0u8; 256];
        let host = req.host.and_then(|h| host::normalize(h, &mut buf));
        let mut c = Collector::new(req.path);
        if let Some(h) = host.as_deref() {
            if !self.exact_hosts.is_empty()
                && let Some(b) = self.exact_hosts.get(h)
            {
                c.collect(b);
            }
            if self.wildcard_labels != 0 {
                for suffix in host::wildcard_suffixes(h) {
                    if self.wildcard_labels & host::label_bit(suffix) == 0 {
                        continue;
                    }
                    if let Some(b) = self.wildcard_hosts.get(suffix) {
                        c.collect(b);
                    }
                }
            }
        }
        c.collect(&self.any_host);

        // Merge the sorted candidate lists: always try the lowest rank next.
        let groups = c.groups.as_mut_slice();
        loop {
            let mut best: Option<(usize, u32)> = None;
            for (i, g) in groups.iter().enumerate() {
                if let Some(rank) = g.head()
                    && best.is_none_or(|(_, b)| rank < b)
                {
                    best = Some((i, rank));
                }
            }
            let (gi, rank) = best?;
            let group = groups.get_mut(gi)?;
            let index = *self.entries.get(rank as usize)? as usize;
            let route = self.routes.get(index)?;
            if route.conditions.matches(req) {
                let params = build_params(&route.names, group, c.caps.as_slice(), req.path);
                return Some(RouteMatch {
                    value: &route.value,
                    index,
                    params,
                    matched_prefix: group.matched_prefix as usize,
                });
            }
            group.cursor += 1;
        }
    }
}

/// Copies a group's captures out of the request path.
fn build_params<'r>(
    names: &'r [Box<str>],
    g: &Group<'_>,
    caps: &[(u32, u32)],
    path: &str,
) -> Params<'r> {
    if names.is_empty() {
        return Params::default();
    }
    let mut p = Params {
        names,
        values: String::new(),
        ends: InlineVec::default(),
    };
    let start = g.caps_start as usize;
    let own = caps.get(start..start + g.caps_len as usize).unwrap_or(&[]);
    for &(s, e) in own.iter().chain(g.rest.iter()) {
        p.values
            .push_str(path.get(s as usize..e as usize).unwrap_or(""));
        p.ends.push(p.values.len());
    }
    p
}
