//! Loading configuration text: interpolate, parse, validate, and place every
//! error at its line and column in the text the user wrote.
//!
//! The steps stop at the first stage that fails, because later stages need
//! the earlier ones' output: all `${VAR}` errors, else the first structural
//! (serde) error, else every semantic error.

use std::path::Path;

use crate::error::{ConfigError, ConfigErrors, split_serde_message};
use crate::interpolate::{SourceMap, interpolate_mapped};
use crate::positions::Positions;
use crate::spec::ConfigSpec;
use crate::validate::validate;

/// The embedded defaults: used when `switchyard serve` runs without a file.
pub const DEFAULT_CONFIG_YAML: &str = include_str!("defaults.yaml");

/// The embedded default configuration.
pub fn defaults() -> Result<ConfigSpec, ConfigErrors> {
    load_str(DEFAULT_CONFIG_YAML, "<defaults>", &|_| None)
}

/// Read, interpolate from the process environment, parse and validate a file.
pub fn load_file(path: &Path) -> Result<ConfigSpec, ConfigErrors> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigErrors::whole_file(&origin, format!("cannot read file: {e}")))?;
    load_str(&text, &origin, &|k| std::env::var(k).ok())
}

/// Interpolate with `env`, parse and validate configuration text. `origin`
/// names the text in errors (a file name, `<string>`, ...).
pub fn load_str(
    text: &str,
    origin: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ConfigSpec, ConfigErrors> {
    let (text, map) = interpolate_mapped(text, env).map_err(|errs| {
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
    let spec = parse(&text, origin, &map)?;
    let violations = validate(&spec);
    if violations.is_empty() {
        return Ok(spec);
    }
    let positions = Positions::build(&text);
    let errors = violations
        .into_iter()
        .map(|v| {
            let (line, column) = map.to_source(positions.find(&v.path));
            ConfigError {
                origin: origin.into(),
                line,
                column,
                path: v.path,
                message: v.message,
            }
        })
        .collect();
    Err(ConfigErrors(errors).sorted())
}

/// Structural parse. An empty file (or one of only comments) means "all
/// defaults", like `{}`.
fn parse(text: &str, origin: &str, map: &SourceMap) -> Result<ConfigSpec, ConfigErrors> {
    let blank = text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim() == "---");
    let text = if blank { "{}" } else { text };
    // Enums are written as one-key maps (`target: { upstream: api }`), the
    // same shape as JSON and the JSON Schema, rather than YAML tags.
    let de = serde_yaml_ng::Deserializer::from_str(text);
    serde_yaml_ng::with::singleton_map_recursive::deserialize(de).map_err(
        |e: serde_yaml_ng::Error| {
            let at = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            let (line, column) = map.to_source(at);
            let (path, message) = split_serde_message(&e.to_string());
            ConfigErrors(vec![ConfigError {
                origin: origin.into(),
                line,
                column,
                path,
                message,
            }])
        },
    )
}

/// Write `spec` as YAML in the shape [`load_str`] reads (enums as one-key
/// maps, e.g. `target: { upstream: api }`), for tools that edit a config.
/// A `${` inside a value is written as `$${`, so loading the text again
/// gives back the same value rather than interpolating it. Comments and
/// `${VAR}` references of the original file are not preserved.
pub fn to_yaml(spec: &ConfigSpec) -> Result<String, serde_yaml_ng::Error> {
    let mut buf = Vec::new();
    let mut ser = serde_yaml_ng::Serializer::new(&mut buf);
    serde_yaml_ng::with::singleton_map_recursive::serialize(spec, &mut ser)?;
    let text = String::from_utf8(buf)
        .map_err(|e| <serde_yaml_ng::Error as serde::ser::Error>::custom(e.to_string()))?;
    Ok(text.replace("${", "$${"))
}

/// The JSON Schema (draft 2020-12) of the configuration file, with every
/// field's description and default; editors use it for completion.
pub fn json_schema() -> serde_json::Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(ConfigSpec)).unwrap_or_default();
    if let Some(obj) = schema.as_object_mut() {
        obj.insert("title".into(), "Switchyard configuration".into());
    }
    schema
}
