//! Where each value sits in the YAML text.
//!
//! serde forgets positions once a spec is built, so semantic errors (found
//! after parsing) are placed by a second, position-aware pass over the same
//! text with yaml-rust2's event parser. Paths use the same spelling as
//! validation errors: `routes[2].target.upstream`.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// 1-based line and column.
pub(crate) type Pos = (usize, usize);

/// Map from a dotted key path to the position of its value (or of its key
/// when the value is null or empty, so the caret lands on something visible).
#[derive(Debug, Default)]
pub(crate) struct Positions {
    map: HashMap<String, Pos>,
}

impl Positions {
    /// Parse `text`; on a YAML syntax error the map is simply partial (serde
    /// has already reported syntax errors with their own location).
    pub(crate) fn build(text: &str) -> Positions {
        let mut recv = Recorder::default();
        let mut parser = Parser::new_from_str(text);
        // A syntax error leaves what was recorded so far, which is still useful.
        let _partial = parser.load(&mut recv, false);
        Positions { map: recv.map }
    }

    /// Position for `path`, or of its nearest recorded ancestor when the key
    /// is absent from the file (a missing key is reported where its parent
    /// mapping is). `(0, 0)` when nothing at all is known.
    pub(crate) fn find(&self, path: &str) -> Pos {
        let mut p = path;
        loop {
            if let Some(pos) = self.map.get(p) {
                return *pos;
            }
            match parent(p) {
                Some(up) => p = up,
                None => return self.map.get("").copied().unwrap_or((0, 0)),
            }
        }
    }

    /// Whether the file spells out `path` (as opposed to it taking a default).
    #[cfg(test)]
    pub(crate) fn contains(&self, path: &str) -> bool {
        self.map.contains_key(path)
    }
}

/// `a.b[3].c` → `a.b[3]` → `a.b` → `a` → ``; `None` above the root.
fn parent(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    Some(path.rfind(['.', '[']).map_or("", |cut| &path[..cut]))
}

fn pos(mark: Marker) -> Pos {
    // yaml-rust2 lines are 1-based and columns 0-based.
    (mark.line(), mark.col() + 1)
}

/// One open collection while walking the event stream.
#[derive(Debug)]
enum Frame {
    /// A sequence and the index its next item gets.
    Seq { path: String, next: usize },
    /// A mapping; `key` is set between a key and its value.
    Map {
        path: String,
        key: Option<(String, Pos)>,
    },
}

#[derive(Debug, Default)]
struct Recorder {
    stack: Vec<Frame>,
    map: HashMap<String, Pos>,
}

impl Recorder {
    /// The path the next node takes, and the key's position if it is a
    /// mapping value. `None` means the node is a mapping key.
    fn next_path(&mut self) -> Option<(String, Option<Pos>)> {
        match self.stack.last_mut() {
            None => Some((String::new(), None)),
            Some(Frame::Seq { path, next }) => {
                let p = format!("{path}[{next}]");
                *next += 1;
                Some((p, None))
            }
            Some(Frame::Map { path, key }) => {
                let (k, kpos) = key.take()?;
                let p = if path.is_empty() {
                    k
                } else {
                    format!("{path}.{k}")
                };
                Some((p, Some(kpos)))
            }
        }
    }

    /// Record a scalar or alias node: either a mapping key or a value.
    fn leaf(&mut self, text: Option<(&str, TScalarStyle)>, at: Pos) {
        if let Some(Frame::Map {
            key: slot @ None, ..
        }) = self.stack.last_mut()
        {
            *slot = Some((text.map(|(t, _)| t.to_owned()).unwrap_or_default(), at));
            return;
        }
        if let Some((path, key_pos)) = self.next_path() {
            let is_null = matches!(text, Some(("" | "~" | "null", TScalarStyle::Plain)));
            let at = match key_pos {
                Some(k) if is_null => k,
                _ => at,
            };
            self.map.insert(path, at);
        }
    }

    /// A collection starts: as a value it is recorded and pushed; as a
    /// mapping key (complex keys, never used by our schema) it is pushed
    /// under a placeholder so its contents are ignored.
    fn open(&mut self, at: Pos, seq: bool) {
        let path = match self.next_path() {
            Some((p, _)) => {
                self.map.insert(p.clone(), at);
                p
            }
            None => "?".into(),
        };
        self.stack.push(if seq {
            Frame::Seq { path, next: 0 }
        } else {
            Frame::Map { path, key: None }
        });
    }
}

impl MarkedEventReceiver for Recorder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let at = pos(mark);
        match ev {
            Event::Scalar(text, style, _, _) => self.leaf(Some((&text, style)), at),
            Event::Alias(_) => self.leaf(None, at),
            Event::SequenceStart(..) => self.open(at, true),
            Event::MappingStart(..) => self.open(at, false),
            Event::SequenceEnd | Event::MappingEnd => {
                self.stack.pop();
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
upstreams:
  - name: a
    targets:
      - url: http://x:1
        weight: 2
routes:
  - name: r
    match: { path: { prefix: /api } }
    rewrite:
    target:
      upstream: a
";

    #[test]
    fn values_and_nested_paths() {
        let p = Positions::build(TEXT);
        assert_eq!(p.find("upstreams[0].name"), (2, 11));
        assert_eq!(p.find("upstreams[0].targets[0].url"), (4, 14));
        assert_eq!(p.find("upstreams[0].targets[0].weight"), (5, 17));
        assert_eq!(p.find("routes[0].match.path.prefix"), (8, 30));
        assert_eq!(p.find("routes[0].target.upstream"), (11, 17));
    }

    #[test]
    fn null_value_points_at_key_and_missing_key_at_parent() {
        let p = Positions::build(TEXT);
        assert_eq!(p.find("routes[0].rewrite"), (9, 5));
        assert!(!p.contains("routes[0].priority"));
        assert_eq!(p.find("routes[0].priority"), p.find("routes[0]"));
        assert_eq!(p.find("nothing.here"), p.find(""));
    }

    #[test]
    fn parent_paths() {
        assert_eq!(parent("a.b[3].c"), Some("a.b[3]"));
        assert_eq!(parent("a.b[3]"), Some("a.b"));
        assert_eq!(parent("a"), Some(""));
        assert_eq!(parent(""), None);
    }
}
