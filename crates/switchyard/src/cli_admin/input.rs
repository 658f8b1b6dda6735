//! Request bodies from flags: the `--body-json` / `--body-file` escape
//! hatch as the base, then each given flag set on top, plus passwords read
//! from stdin or the terminal (never from a flag, which `ps` would show).

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use serde_json::{Map, Value};

/// A JSON object given as a flag value (a clap value parser, so a typo is a
/// usage error).
pub fn json_object(s: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(s) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err("must be a JSON object, `{...}`".to_owned()),
        Err(e) => Err(format!("not valid JSON: {e}")),
    }
}

/// The API's name of a value-enum flag's value (the names are the API's).
pub fn api_name<T: ValueEnum>(v: &T) -> String {
    v.to_possible_value()
        .map(|p| p.get_name().to_owned())
        .unwrap_or_default()
}

/// The whole request body, for fields no flag covers.
#[derive(Debug, Clone, Args)]
pub struct BodyArgs {
    /// The request body as a JSON object; flags given too are set on top.
    #[arg(long, value_name = "JSON", value_parser = json_object, conflicts_with = "body_file")]
    pub body_json: Option<Map<String, Value>>,
    /// Read the request body (a JSON object) from this file; `-` reads stdin.
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,
}

impl BodyArgs {
    /// Whether the body comes from stdin.
    pub fn uses_stdin(&self) -> bool {
        self.body_file.as_deref() == Some(std::path::Path::new("-"))
    }
}

/// `limits` and `metadata`, the nested fields most entities share.
#[derive(Debug, Clone, Args)]
pub struct Nested {
    /// Limits as a JSON object, e.g. `{"requests_per_minute":600,"tokens_per_day":100000}`
    /// (replaces the whole set).
    #[arg(long, value_name = "JSON", value_parser = json_object)]
    pub limits_json: Option<Map<String, Value>>,
    /// Free-form labels as a JSON object (replaces the whole map).
    #[arg(long, value_name = "JSON", value_parser = json_object)]
    pub metadata_json: Option<Map<String, Value>>,
}

/// A request body under construction.
#[derive(Debug, Default)]
pub struct Fields(Map<String, Value>);

impl Fields {
    /// Starts from `--body-json` / `--body-file`, else from `{}`.
    pub fn from_body(body: BodyArgs) -> anyhow::Result<Fields> {
        if let Some(m) = body.body_json {
            return Ok(Fields(m));
        }
        let Some(path) = body.body_file else {
            return Ok(Fields::default());
        };
        let text = if path.as_os_str() == "-" {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("reading the body from stdin")?;
            s
        } else {
            std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?
        };
        json_object(&text)
            .map(Fields)
            .map_err(|e| anyhow::anyhow!("--body-file {}: {e}", path.display()))
    }

    /// Sets `key` when `value` is given.
    pub fn opt(mut self, key: &str, value: Option<impl Into<Value>>) -> Fields {
        if let Some(v) = value {
            self.0.insert(key.to_owned(), v.into());
        }
        self
    }

    /// Sets `key` to `value` (which may be `null`).
    pub fn set(mut self, key: &str, value: Value) -> Fields {
        self.0.insert(key.to_owned(), value);
        self
    }

    /// Sets `limits` and `metadata` when given.
    pub fn nested(self, n: Nested) -> Fields {
        self.opt("limits", n.limits_json)
            .opt("metadata", n.metadata_json)
    }

    /// Whether `key` is set.
    pub fn has(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// The body.
    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

/// A password: the first line of stdin with `--password-stdin`, else typed
/// at the terminal without echo; an error when neither is possible.
pub fn password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the password from stdin")?;
        let line = s.lines().next().unwrap_or("").to_owned();
        if line.is_empty() {
            bail!("--password-stdin: stdin is empty");
        }
        return Ok(line);
    }
    if !std::io::stdin().is_terminal() {
        bail!("no password: pipe it in with --password-stdin");
    }
    let mut err = std::io::stderr();
    write!(err, "Password: ")?;
    err.flush()?;
    let echo_off = stty("-echo");
    let mut line = String::new();
    let read = std::io::stdin().read_line(&mut line);
    if echo_off {
        stty("echo");
        writeln!(err)?;
    }
    read.context("reading the password")?;
    let line = line.trim_end_matches(['\r', '\n']).to_owned();
    if line.is_empty() {
        bail!("no password given");
    }
    Ok(line)
}

/// Runs `stty <arg>` on the terminal that is stdin; whether it worked.
fn stty(arg: &str) -> bool {
    std::process::Command::new("stty")
        .arg(arg)
        .stdin(std::process::Stdio::inherit())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn flags_go_on_top_of_the_body() {
        let body = BodyArgs {
            body_json: Some(json_object(r#"{"name":"a","docs":"d"}"#).unwrap()),
            body_file: None,
        };
        let v = Fields::from_body(body)
            .unwrap()
            .opt("name", Some("b"))
            .opt("description", None::<String>)
            .set("expires_at", Value::Null)
            .into_value();
        assert_eq!(v, json!({"name": "b", "docs": "d", "expires_at": null}));
        assert!(json_object("[1]").is_err());
        assert!(json_object("{").is_err());
    }
}
