//! Loading and validating configuration text.

use std::fmt;
use std::path::Path;

use crate::spec::ConfigSpec;

/// The embedded defaults: used when `switchyard serve` runs without a file.
pub const DEFAULT_CONFIG_YAML: &str = include_str!("defaults.yaml");

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// File name (or `<defaults>`, `<string>`).
    pub origin: String,
    /// 1-based line; 0 when unknown.
    pub line: usize,
    /// 1-based column; 0 when unknown.
    pub column: usize,
    /// Dotted path of the offending key, e.g. `routes[2].target.upstream`.
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

/// Every problem found in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

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

/// The embedded default configuration.
pub fn defaults() -> Result<ConfigSpec, ConfigErrors> {
    load_str(DEFAULT_CONFIG_YAML, "<defaults>", &|_| None)
}

/// Read, interpolate from the process environment, parse and validate a file.
pub fn load_file(path: &Path) -> Result<ConfigSpec, ConfigErrors> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors(vec![ConfigError {
            origin: origin.clone(),
            line: 0,
            column: 0,
            path: String::new(),
            message: format!("cannot read file: {e}"),
        }])
    })?;
    load_str(&text, &origin, &|k| std::env::var(k).ok())
}

/// Interpolate with `env`, parse and validate configuration text.
pub fn load_str(
    text: &str,
    origin: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ConfigSpec, ConfigErrors> {
    let text = interpolate(text, env).map_err(|errs| {
        ConfigErrors(
            errs.into_iter()
                .map(|(line, column, message)| ConfigError {
                    origin: origin.into(),
                    line,
                    column,
                    path: String::new(),
                    message,
                })
                .collect(),
        )
    })?;
    let spec: ConfigSpec = serde_yaml_ng::from_str(&text).map_err(|e| {
        let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
        ConfigErrors(vec![ConfigError {
            origin: origin.into(),
            line,
            column,
            path: String::new(),
            message: e.to_string(),
        }])
    })?;
    Ok(spec)
}

/// Replace `${VAR}` and `${VAR:-default}`; `$${` is a literal `${`.
/// Returns `(line, column, message)` for each unset variable without a default.
pub fn interpolate(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, Vec<(usize, usize, String)>> {
    let mut out = String::with_capacity(text.len());
    let mut errors = Vec::new();
    for (lineno, line) in text.split_inclusive('\n').enumerate() {
        let mut rest = line;
        let mut col = 1;
        while let Some(pos) = rest.find('$') {
            out.push_str(&rest[..pos]);
            col += rest[..pos].chars().count();
            let tail = &rest[pos..];
            if let Some(after) = tail.strip_prefix("$${") {
                out.push_str("${");
                rest = after;
                col += 3;
            } else if let Some(after) = tail.strip_prefix("${") {
                match after.find('}') {
                    Some(end) => {
                        let inner = &after[..end];
                        let (name, default) = match inner.split_once(":-") {
                            Some((n, d)) => (n, Some(d)),
                            None => (inner, None),
                        };
                        let valid = !name.is_empty()
                            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                        if !valid {
                            errors.push((lineno + 1, col, format!("`${{{inner}}}`: variable names are letters, digits and `_`")));
                        } else {
                            match (env(name), default) {
                                (Some(v), _) => out.push_str(&v),
                                (None, Some(d)) => out.push_str(d),
                                (None, None) => errors.push((
                                    lineno + 1,
                                    col,
                                    format!("environment variable `{name}` is not set (write `${{{name}:-default}}` for a default)"),
                                )),
                            }
                        }
                        col += 3 + inner.chars().count();
                        rest = &after[end + 1..];
                    }
                    None => {
                        errors.push((lineno + 1, col, "`${` without a closing `}`".into()));
                        out.push_str(tail);
                        rest = "";
                    }
                }
            } else {
                out.push('$');
                rest = &tail[1..];
                col += 1;
            }
        }
        out.push_str(rest);
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// The JSON Schema of the configuration file.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(ConfigSpec)).unwrap_or_default()
}
