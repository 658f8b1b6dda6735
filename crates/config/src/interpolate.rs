//! `${VAR}` interpolation, and the map from positions in the interpolated
//! text back to the file the user wrote.
//!
//! Interpolation runs before YAML parsing, so every later error is found in
//! the interpolated text. A value longer or shorter than its `${VAR}` shifts
//! the rest of its line; [`SourceMap`] undoes that shift so errors point at
//! what the user sees in their editor.

use crate::positions::Pos;

/// One unset or malformed variable: 1-based line and column of its `$`, and
/// what is wrong.
pub type InterpolationError = (usize, usize, String);

/// Replace `${VAR}` and `${VAR:-default}`; `$${` is a literal `${`. A `$`
/// not followed by `{` is kept as is.
///
/// Returns `(line, column, message)` for each unset variable without a
/// default and each malformed reference, all of them, in file order.
pub fn interpolate(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, Vec<InterpolationError>> {
    interpolate_mapped(text, env).map(|(out, _)| out)
}

/// A run of output that starts at `out` and came from `src`. A verbatim run
/// maps column by column; a substituted value maps wholly to its `${`.
#[derive(Debug, Clone, Copy)]
struct Segment {
    out: Pos,
    src: Pos,
    verbatim: bool,
}

/// Maps positions in interpolated text back to the original text.
#[derive(Debug, Default)]
pub(crate) struct SourceMap {
    /// Sorted by `out`.
    segments: Vec<Segment>,
}

impl SourceMap {
    /// The original position of `p`; `(0, 0)` (unknown) stays unknown.
    pub(crate) fn to_source(&self, p: Pos) -> Pos {
        if p == (0, 0) {
            return p;
        }
        let i = self.segments.partition_point(|s| s.out <= p);
        let Some(seg) = i.checked_sub(1).and_then(|i| self.segments.get(i)) else {
            return p;
        };
        if seg.verbatim && seg.out.0 == p.0 {
            (seg.src.0, seg.src.1 + (p.1 - seg.out.1))
        } else {
            seg.src
        }
    }
}

/// Output text that tracks its own line and column.
struct Out {
    text: String,
    line: usize,
    col: usize,
}

impl Out {
    fn push(&mut self, s: &str) {
        self.text.push_str(s);
        for c in s.chars() {
            if c == '\n' {
                self.line += 1;
                self.col = 1;
            } else {
                self.col += 1;
            }
        }
    }
    fn at(&self) -> Pos {
        (self.line, self.col)
    }
}

/// [`interpolate`], also returning the [`SourceMap`] of the result.
pub(crate) fn interpolate_mapped(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, SourceMap), Vec<InterpolationError>> {
    let mut out = Out {
        text: String::with_capacity(text.len()),
        line: 1,
        col: 1,
    };
    let mut map = SourceMap::default();
    let mut errors = Vec::new();
    for (lineno, line) in text.split_inclusive('\n').enumerate() {
        let lineno = lineno + 1;
        let mut rest = line;
        let mut col = 1;
        map.segments.push(Segment {
            out: out.at(),
            src: (lineno, col),
            verbatim: true,
        });
        while let Some(pos) = rest.find('$') {
            out.push(&rest[..pos]);
            col += rest[..pos].chars().count();
            let tail = &rest[pos..];
            if let Some(after) = tail.strip_prefix("$${") {
                out.push("${");
                rest = after;
                col += 3;
            } else if let Some(after) = tail.strip_prefix("${") {
                let Some(end) = after.find('}') else {
                    errors.push((lineno, col, "`${` without a closing `}`".into()));
                    out.push(tail);
                    rest = "";
                    break;
                };
                let inner = &after[..end];
                map.segments.push(Segment {
                    out: out.at(),
                    src: (lineno, col),
                    verbatim: false,
                });
                match lookup(inner, env) {
                    Ok(value) => out.push(&value),
                    Err(message) => errors.push((lineno, col, message)),
                }
                col += 3 + inner.chars().count();
                rest = &after[end + 1..];
            } else {
                out.push("$");
                rest = &tail[1..];
                col += 1;
                continue;
            }
            map.segments.push(Segment {
                out: out.at(),
                src: (lineno, col),
                verbatim: true,
            });
        }
        out.push(rest);
    }
    if errors.is_empty() {
        Ok((out.text, map))
    } else {
        Err(errors)
    }
}

/// The value of one `${inner}`, where `inner` is `NAME` or `NAME:-default`.
fn lookup(inner: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let (name, default) = match inner.split_once(":-") {
        Some((n, d)) => (n, Some(d)),
        None => (inner, None),
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "`${{{inner}}}`: variable names are letters, digits and `_`"
        ));
    }
    match (env(name), default) {
        (Some(v), _) => Ok(v),
        (None, Some(d)) => Ok(d.to_owned()),
        (None, None) => Err(format!(
            "environment variable `{name}` is not set (write `${{{name}:-default}}` for a default)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(k: &str) -> Option<String> {
        match k {
            "HOST" => Some("backend.internal".into()),
            "TWO" => Some("a\nb".into()),
            _ => None,
        }
    }

    #[test]
    fn substitutes_defaults_and_literals() {
        let out = interpolate("a: ${HOST}\nb: ${PORT:-8080}\nc: $${HOST} $5\n", &env).unwrap();
        assert_eq!(out, "a: backend.internal\nb: 8080\nc: ${HOST} $5\n");
    }

    #[test]
    fn reports_every_error_with_position() {
        let errs = interpolate(
            "a: ${NOPE}\nb: x ${bad-name} ${ALSO_NOPE}\nc: ${OPEN\n",
            &env,
        )
        .unwrap_err();
        let at: Vec<(usize, usize)> = errs.iter().map(|e| (e.0, e.1)).collect();
        assert_eq!(at, [(1, 4), (2, 6), (2, 18), (3, 4)]);
        assert!(errs[0].2.contains("`NOPE` is not set"));
        assert!(errs[1].2.contains("letters, digits and `_`"));
        assert!(errs[3].2.contains("without a closing"));
    }

    #[test]
    fn source_map_undoes_length_changes() {
        // `${HOST}` (7 chars) becomes 16 chars; `$${` (3) becomes `${` (2).
        let (out, map) = interpolate_mapped("u: ${HOST} x: 1\nv: $${y} z\n", &env).unwrap();
        let line1: Vec<&str> = out.lines().collect();
        let x_out = line1[0].find("x:").unwrap() + 1;
        assert_eq!(map.to_source((1, x_out)), (1, 12));
        assert_eq!(
            map.to_source((1, 8)),
            (1, 4),
            "inside a value maps to its dollar sign"
        );
        let z_out = line1[1].find('z').unwrap() + 1;
        assert_eq!(map.to_source((2, z_out)), (2, 10));
        assert_eq!(map.to_source((2, 1)), (2, 1));
    }

    #[test]
    fn source_map_survives_values_with_newlines() {
        let (_, map) = interpolate_mapped("a: \"${TWO}\"\nb: 1\n", &env).unwrap();
        assert_eq!(map.to_source((2, 1)), (1, 5), "second line of the value");
        assert_eq!(map.to_source((2, 2)), (1, 11), "the closing quote");
        assert_eq!(map.to_source((3, 4)), (2, 4));
    }
}
