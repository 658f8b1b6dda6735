//! Path patterns, the per-host path index and the lookup walk over it.
//!
//! Paths are split into segments after the leading `/`: `/a/b` is `a`, `b`;
//! `/` is one empty segment; `/a/` is `a` and an empty segment. A trie node
//! sits at a segment boundary, so a prefix stored at a node matches exactly
//! the paths that reach the node — that is the segment-boundary rule.

use sy_config::PathMatchSpec;

use super::PathRank;
use super::hash::FastMap;
use super::inline::InlineVec;

/// A candidate list: route ranks, ascending. Most lists hold one route,
/// which then sits inside the node instead of behind a pointer (one cache
/// miss less per candidate on large tables).
#[derive(Debug, Clone, Default)]
pub(crate) enum Ranks {
    #[default]
    Empty,
    One(u32),
    Many(Vec<u32>),
}

impl Ranks {
    /// Appends `rank`; callers insert in ascending rank order.
    pub(crate) fn push(&mut self, rank: u32) {
        *self = match std::mem::take(self) {
            Self::Empty => Self::One(rank),
            Self::One(r) => Self::Many(vec![r, rank]),
            Self::Many(mut rs) => {
                rs.push(rank);
                Self::Many(rs)
            }
        };
    }

    pub(crate) fn as_slice(&self) -> &[u32] {
        match self {
            Self::Empty => &[],
            Self::One(r) => std::slice::from_ref(r),
            Self::Many(rs) => rs,
        }
    }
}

/// One template segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Literal(Box<str>),
    /// `{name}`: one non-empty segment.
    Param(Box<str>),
    /// `{*name}`: the rest of the path; only last.
    CatchAll(Box<str>),
}

/// A compiled path condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PathPattern {
    Any,
    Exact(Box<str>),
    /// Normalised prefix (no trailing `/` unless it is `/`) and its segments.
    Prefix {
        prefix: Box<str>,
        segments: Vec<Box<str>>,
    },
    Template(Vec<Segment>),
}

impl PathPattern {
    pub(crate) fn parse(spec: &PathMatchSpec) -> Result<Self, String> {
        let raw = match spec {
            PathMatchSpec::Exact(p) | PathMatchSpec::Prefix(p) | PathMatchSpec::Template(p) => p,
        };
        if !raw.starts_with('/') {
            return Err(format!("`{raw}` must start with `/`"));
        }
        if raw.contains(['?', '#']) {
            return Err(format!(
                "`{raw}`: a path cannot contain `?` or `#` (use a query condition)"
            ));
        }
        Ok(match spec {
            PathMatchSpec::Exact(p) => Self::Exact(p.as_str().into()),
            PathMatchSpec::Prefix(p) => {
                let prefix = normalize_prefix(p);
                Self::Prefix {
                    segments: split(prefix).map(Into::into).collect(),
                    prefix: prefix.into(),
                }
            }
            PathMatchSpec::Template(t) => Self::Template(parse_template(t)?),
        })
    }

    pub(crate) fn rank(&self) -> PathRank {
        match self {
            Self::Any => PathRank::Any,
            Self::Exact(_) => PathRank::Exact,
            Self::Prefix { prefix, .. } => PathRank::Prefix(prefix.len()),
            Self::Template(segs) => PathRank::Template {
                literals: segs
                    .iter()
                    .filter(|s| matches!(s, Segment::Literal(_)))
                    .count(),
                segments: segs
                    .iter()
                    .filter(|s| !matches!(s, Segment::CatchAll(_)))
                    .count(),
                no_catch_all: !matches!(segs.last(), Some(Segment::CatchAll(_))),
            },
        }
    }

    /// Names of the captures, in the order the lookup records them.
    pub(crate) fn capture_names(&self) -> Box<[Box<str>]> {
        let Self::Template(segs) = self else {
            return Box::default();
        };
        segs.iter()
            .filter_map(|s| match s {
                Segment::Param(n) | Segment::CatchAll(n) => Some(n.clone()),
                Segment::Literal(_) => None,
            })
            .collect()
    }
}

/// `/api/` → `/api`; `/` stays `/`. Only one slash is dropped, so `/a//`
/// keeps its empty segment.
pub(crate) fn normalize_prefix(p: &str) -> &str {
    match p.strip_suffix('/') {
        Some(rest) if !rest.is_empty() => rest,
        _ => p,
    }
}

/// Segments of a normalised prefix: none for `/`.
fn split(prefix: &str) -> impl Iterator<Item = &str> {
    prefix
        .get(1..)
        .filter(|s| !s.is_empty())
        .into_iter()
        .flat_map(|s| s.split('/'))
}

/// Parses `/users/{id}/files/{*rest}`. Braces must enclose a whole segment;
/// names are ASCII letters, digits and `_`, and unique.
pub(crate) fn parse_template(t: &str) -> Result<Vec<Segment>, String> {
    let body = t.get(1..).unwrap_or("");
    let parts: Vec<&str> = body.split('/').collect();
    let mut out = Vec::with_capacity(parts.len());
    let mut names: Vec<&str> = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let Some(inner) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) else {
            if part.contains(['{', '}']) {
                return Err(format!(
                    "`{t}`: `{{name}}` must be a whole segment, found `{part}`"
                ));
            }
            out.push(Segment::Literal((*part).into()));
            continue;
        };
        let (name, catch_all) = match inner.strip_prefix('*') {
            Some(n) => (n, true),
            None => (inner, false),
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!(
                "`{t}`: bad capture name `{inner}` (letters, digits, `_`)"
            ));
        }
        if names.contains(&name) {
            return Err(format!("`{t}`: capture `{name}` appears twice"));
        }
        names.push(name);
        if catch_all {
            if i + 1 != parts.len() {
                return Err(format!("`{t}`: `{{*{name}}}` must be the last segment"));
            }
            out.push(Segment::CatchAll(name.into()));
        } else {
            out.push(Segment::Param(name.into()));
        }
    }
    Ok(out)
}

/// Path index of one host bucket. Every list holds ranks in ascending order
/// (entries are inserted in rank order).
#[derive(Debug, Default)]
pub(crate) struct PathIndex {
    exact: FastMap<Box<str>, Ranks>,
    trie: Node,
    /// Whether the trie holds anything; skips the walk when not.
    has_trie: bool,
    any: Ranks,
}

/// A segment boundary.
#[derive(Debug, Default)]
struct Node {
    literal: FastMap<Box<str>, Node>,
    param: Option<Box<Node>>,
    /// Prefix routes ending here.
    prefix: Ranks,
    /// Templates (without catch-all) ending here.
    template: Ranks,
    /// Templates whose catch-all starts here.
    catch_all: Ranks,
}

impl PathIndex {
    pub(crate) fn insert(&mut self, pattern: &PathPattern, rank: u32) {
        match pattern {
            PathPattern::Any => self.any.push(rank),
            PathPattern::Exact(p) => self.exact.entry(p.clone()).or_default().push(rank),
            PathPattern::Prefix { segments, .. } => {
                self.has_trie = true;
                let mut node = &mut self.trie;
                for s in segments {
                    node = node.literal.entry(s.clone()).or_default();
                }
                node.prefix.push(rank);
            }
            PathPattern::Template(segs) => {
                self.has_trie = true;
                let mut node = &mut self.trie;
                for s in segs {
                    node = match s {
                        Segment::Literal(l) => node.literal.entry(l.clone()).or_default(),
                        Segment::Param(_) => node.param.get_or_insert_with(Box::default),
                        Segment::CatchAll(_) => {
                            node.catch_all.push(rank);
                            return;
                        }
                    };
                }
                node.template.push(rank);
            }
        }
    }
}

/// A list of candidates that all matched the host and path the same way.
/// Offsets are `u32` to keep the per-lookup arrays small; the router refuses
/// paths longer than `u32::MAX` up front.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Group<'r> {
    /// Ranks, ascending; `cursor` is the next one to try.
    pub(crate) ranks: &'r [u32],
    pub(crate) cursor: u32,
    /// This group's captures in `Collector::caps`.
    pub(crate) caps_start: u32,
    pub(crate) caps_len: u32,
    /// Byte range of a catch-all capture.
    pub(crate) rest: Option<(u32, u32)>,
    /// See `RouteMatch::matched_prefix`.
    pub(crate) matched_prefix: u32,
}

impl Group<'_> {
    /// The next rank to try, if any is left.
    pub(crate) fn head(&self) -> Option<u32> {
        self.ranks.get(self.cursor as usize).copied()
    }
}

/// Gathers candidate groups for one request.
pub(crate) struct Collector<'r, 'q> {
    path: &'q str,
    pub(crate) groups: InlineVec<Group<'r>, 8>,
    /// Captures of all template groups, as byte ranges of `path`.
    pub(crate) caps: InlineVec<(u32, u32), 8>,
    /// Captures along the current trie branch.
    stack: InlineVec<(u32, u32), 8>,
}

/// `usize` → `u32`; the router checked the path length first.
fn off(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl<'r, 'q> Collector<'r, 'q> {
    /// `path` must be at most `u32::MAX` bytes long.
    pub(crate) fn new(path: &'q str) -> Self {
        Self {
            path,
            groups: InlineVec::default(),
            caps: InlineVec::default(),
            stack: InlineVec::default(),
        }
    }

    /// Adds every group of `index` that matches the path.
    pub(crate) fn collect(&mut self, index: &'r PathIndex) {
        if !index.exact.is_empty()
            && let Some(ranks) = index.exact.get(self.path)
        {
            self.push(ranks.as_slice(), None, self.path.len(), false);
        }
        if index.has_trie && self.path.starts_with('/') {
            self.walk(&index.trie, 0);
        }
        if !index.any.as_slice().is_empty() {
            self.push(index.any.as_slice(), None, 0, false);
        }
    }

    fn push(
        &mut self,
        ranks: &'r [u32],
        rest: Option<(u32, u32)>,
        matched_prefix: usize,
        with_caps: bool,
    ) {
        let caps_start = off(self.caps.as_slice().len());
        let mut caps_len = 0;
        if with_caps {
            caps_len = off(self.stack.as_slice().len());
            for &c in self.stack.as_slice() {
                self.caps.push(c);
            }
        }
        let matched_prefix = off(matched_prefix);
        self.groups.push(Group {
            ranks,
            cursor: 0,
            caps_start,
            caps_len,
            rest,
            matched_prefix,
        });
    }

    /// Visits `node`, reached at byte `pos` of the path (at a `/` or the end).
    /// Depth is bounded by the trie, not by the path.
    fn walk(&mut self, node: &'r Node, pos: usize) {
        let len = self.path.len();
        if !node.prefix.as_slice().is_empty() {
            self.push(node.prefix.as_slice(), None, pos, false);
        }
        if !node.catch_all.as_slice().is_empty() {
            let rest = if pos >= len {
                (len, len)
            } else {
                (pos + 1, len)
            };
            self.push(
                node.catch_all.as_slice(),
                Some((off(rest.0), off(rest.1))),
                pos,
                true,
            );
        }
        if pos >= len {
            if !node.template.as_slice().is_empty() {
                self.push(node.template.as_slice(), None, len, true);
            }
            return;
        }
        let start = pos + 1;
        let tail = self.path.get(start..).unwrap_or("");
        let end = tail.find('/').map_or(len, |i| start + i);
        let seg = self.path.get(start..end).unwrap_or("");
        if !node.literal.is_empty()
            && let Some(child) = node.literal.get(seg)
        {
            self.walk(child, end);
        }
        if let Some(child) = &node.param
            && !seg.is_empty()
        {
            self.stack.push((off(start), off(end)));
            self.walk(child, end);
            self.stack.pop();
        }
    }
}
