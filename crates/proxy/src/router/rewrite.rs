//! Path rewriting after a match (`rewrite.strip_prefix`, `rewrite.path`).
//!
//! Works on the path alone: the caller splits the query string off before
//! and appends it (`?` + query, unchanged) after, so rewrites never touch
//! query parameters.

use sy_config::{PathMatchSpec, RewriteSpec};

use super::Params;
use super::path::{normalize_prefix, parse_template};

/// Why a path could not be rewritten. [`check_rewrite`] at compile time
/// rules both out for a route, so at request time they signal a bug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RewriteError {
    /// The template names a capture the match did not produce.
    #[error("rewrite template refers to unknown capture `{0}`")]
    MissingParam(String),
    /// The template is malformed (unbalanced braces, no leading `/`).
    #[error("bad rewrite template: {0}")]
    BadTemplate(String),
}

/// The upstream path for `path` (raw, without query) under `rewrite`.
///
/// * `path` set: the template with each `{name}` (or `{*name}`) replaced by
///   the raw captured value; `strip_prefix` is then ignored.
/// * `strip_prefix` set: removed at a segment boundary, keeping a leading
///   `/`: with `/api`, `/api/users` → `/users`, `/api` → `/`; a path without
///   the prefix (`/apix`) is returned unchanged, as is every path for `/`.
/// * neither: `path` unchanged.
pub fn rewrite_path(
    rewrite: &RewriteSpec,
    path: &str,
    params: &Params<'_>,
) -> Result<String, RewriteError> {
    if let Some(template) = &rewrite.path {
        return substitute(template, params);
    }
    if let Some(prefix) = rewrite.strip_prefix.as_deref() {
        return Ok(strip_prefix(prefix, path).to_owned());
    }
    Ok(path.to_owned())
}

fn strip_prefix<'p>(prefix: &str, path: &'p str) -> &'p str {
    let prefix = normalize_prefix(prefix);
    if prefix.is_empty() || prefix == "/" {
        return path;
    }
    match path.strip_prefix(prefix) {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    }
}

/// Replaces `{name}` in `template`; literal text is copied as is.
fn substitute(template: &str, params: &Params<'_>) -> Result<String, RewriteError> {
    let mut out = String::with_capacity(template.len() + 32);
    for piece in pieces(template)? {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Capture(name) => out.push_str(
                params
                    .get(name)
                    .ok_or_else(|| RewriteError::MissingParam(name.to_owned()))?,
            ),
        }
    }
    Ok(out)
}

enum Piece<'t> {
    Text(&'t str),
    Capture(&'t str),
}

/// Splits a rewrite template into text and captures.
fn pieces(template: &str) -> Result<Vec<Piece<'_>>, RewriteError> {
    if !template.starts_with('/') {
        return Err(RewriteError::BadTemplate(format!(
            "`{template}` must start with `/`"
        )));
    }
    let mut out = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        let open = rest.find('{').unwrap_or(rest.len());
        let (text, tail) = rest.split_at(open);
        if text.contains('}') {
            return Err(RewriteError::BadTemplate(format!(
                "`{template}`: unbalanced `}}`"
            )));
        }
        if !text.is_empty() {
            out.push(Piece::Text(text));
        }
        if tail.is_empty() {
            break;
        }
        let Some(close) = tail.find('}') else {
            return Err(RewriteError::BadTemplate(format!(
                "`{template}`: unclosed `{{`"
            )));
        };
        let inner = tail.get(1..close).unwrap_or("");
        let name = inner.strip_prefix('*').unwrap_or(inner);
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(RewriteError::BadTemplate(format!(
                "`{template}`: bad capture name `{inner}`"
            )));
        }
        out.push(Piece::Capture(name));
        rest = tail.get(close + 1..).unwrap_or("");
    }
    Ok(out)
}

/// Compile-time check of a route's rewrite against its path condition: the
/// template parses, starts with `/`, and names only captures of the route's
/// `template` path; `path` and `strip_prefix` are not both set.
pub fn check_rewrite(rewrite: &RewriteSpec, path: Option<&PathMatchSpec>) -> Result<(), String> {
    if let Some(p) = &rewrite.strip_prefix
        && !p.starts_with('/')
    {
        return Err(format!("rewrite.strip_prefix: `{p}` must start with `/`"));
    }
    let Some(template) = &rewrite.path else {
        return Ok(());
    };
    if rewrite.strip_prefix.is_some() {
        return Err("rewrite: `path` and `strip_prefix` cannot both be set".to_owned());
    }
    let pieces = pieces(template).map_err(|e| format!("rewrite.path: {e}"))?;
    let captures = match path {
        Some(PathMatchSpec::Template(t)) => parse_template(t).map_err(|e| format!("path: {e}"))?,
        _ => Vec::new(),
    };
    let known = |name: &str| {
        captures.iter().any(|s| match s {
            super::path::Segment::Param(n) | super::path::Segment::CatchAll(n) => &**n == name,
            super::path::Segment::Literal(_) => false,
        })
    };
    for piece in pieces {
        if let Piece::Capture(name) = piece
            && !known(name)
        {
            return Err(format!(
                "rewrite.path: `{{{name}}}` is not captured by the route's path template"
            ));
        }
    }
    Ok(())
}
