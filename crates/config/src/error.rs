//! Configuration errors: each names the file, line, column and key path, and
//! says what is allowed. One load reports every problem it can find.

use std::fmt;

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// File name (or `<defaults>`, `<string>`).
    pub origin: String,
    /// 1-based line; 0 when unknown.
    pub line: usize,
    /// 1-based column; 0 when unknown.
    pub column: usize,
    /// Dotted path of the offending key, e.g. `routes[2].target.upstream`;
    /// empty for problems with the file as a whole (YAML syntax, `${VAR}`).
    pub path: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.origin, self.line, self.column)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem found in one file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// A single error without a position (e.g. the file cannot be read).
    pub(crate) fn whole_file(origin: &str, message: String) -> ConfigErrors {
        ConfigErrors(vec![ConfigError {
            origin: origin.into(),
            line: 0,
            column: 0,
            path: String::new(),
            message,
        }])
    }

    /// Order by position; errors without one (line 0) go last.
    pub(crate) fn sorted(mut self) -> ConfigErrors {
        self.0.sort_by_key(|e| (e.line == 0, e.line, e.column));
        self
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Split a serde_yaml_ng message into `(path, message)`.
///
/// serde_yaml_ng writes `routes[0].match: unknown field ... at line 3
/// column 5`. The location is reported separately, so it is cut; the path
/// prefix moves to `path`. For an unknown field the field itself is appended
/// to the path, so the path names the offending key, not its parent.
pub(crate) fn split_serde_message(raw: &str) -> (String, String) {
    let msg = strip_location(raw);
    let (path, msg) = match msg.split_once(": ") {
        Some((p, m)) if looks_like_path(p) => (p.to_owned(), m),
        _ => (String::new(), msg),
    };
    let path = match unknown_field(msg) {
        Some(field) if path.is_empty() => field.to_owned(),
        Some(field) => format!("{path}.{field}"),
        None => path,
    };
    (path, msg.to_owned())
}

/// Cut a trailing ` at line L column C` or ` at position N`.
fn strip_location(msg: &str) -> &str {
    let Some(cut) = msg.rfind(" at ") else {
        return msg;
    };
    let tail = &msg[cut + 4..];
    let words: Vec<&str> = tail.split(' ').collect();
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let is_location = match words.as_slice() {
        ["line", l, "column", c] => numeric(l) && numeric(c),
        ["position", p] => numeric(p),
        _ => false,
    };
    if is_location { &msg[..cut] } else { msg }
}

/// A serde_yaml_ng path: keys, `.` and `[n]`, no spaces or quotes.
fn looks_like_path(s: &str) -> bool {
    !s.is_empty() && !s.contains(char::is_whitespace) && !s.contains('`')
}

/// `unknown field `x`, expected ...` → `x`.
fn unknown_field(msg: &str) -> Option<&str> {
    let rest = msg.strip_prefix("unknown field `")?;
    rest.split_once('`').map(|(field, _)| field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_path_and_location() {
        let (path, msg) = split_serde_message(
            "routes[0].match: unknown field `hostz`, expected one of `hosts`, `methods` at line 4 column 7",
        );
        assert_eq!(path, "routes[0].match.hostz");
        assert_eq!(
            msg,
            "unknown field `hostz`, expected one of `hosts`, `methods`"
        );
    }

    #[test]
    fn keeps_messages_without_path() {
        let (path, msg) = split_serde_message(
            "invalid type: string \"x\", expected a sequence at line 1 column 12",
        );
        assert_eq!(path, "");
        assert_eq!(msg, "invalid type: string \"x\", expected a sequence");
        let (path, msg) = split_serde_message(
            "upstreams[0].timeouts.connect: `30` has no unit; write it like `250ms`",
        );
        assert_eq!(path, "upstreams[0].timeouts.connect");
        assert_eq!(msg, "`30` has no unit; write it like `250ms`");
    }

    #[test]
    fn display_has_origin_position_and_path() {
        let e = ConfigError {
            origin: "gw.yaml".into(),
            line: 3,
            column: 9,
            path: "routes[1].name".into(),
            message: "duplicate".into(),
        };
        assert_eq!(e.to_string(), "gw.yaml:3:9: routes[1].name: duplicate");
    }
}
