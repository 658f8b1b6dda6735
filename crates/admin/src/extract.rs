//! Request extractors: the JSON body (Content-Type, size, syntax, then types
//! with the failing field's path, then the input type's own [`Validate`]
//! rules), query strings (same field errors), and `If-Match`.
//!
//! Order of checks, so each client mistake gets one stable status:
//! 415 (not JSON) → 413 (over [`MAX_BODY`]) → 400 (malformed JSON) → 422
//! (wrong type, unknown or missing field, out-of-range value).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, IF_MATCH};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{ApiError, FieldError};
use crate::strict::Strict;

/// The largest request body accepted: 1 MiB.
pub const MAX_BODY: usize = 1024 * 1024;
/// Longest name (tenant, consumer, key, product, user, resource).
pub const MAX_NAME: usize = 64;
/// Longest description, reason or display text.
pub const MAX_TEXT: usize = 4096;
/// Largest `metadata` object, as compact JSON.
pub const MAX_METADATA: usize = 16 * 1024;

/// Value rules serde cannot express (lengths, patterns, ranges). Every
/// problem is pushed so the client can fix them all in one go.
pub trait Validate {
    /// Pushes every problem found onto `errors`.
    fn validate(&self, errors: &mut Vec<FieldError>);
}

/// A JSON body of type `T`, deserialized with field paths and validated.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        if !is_json(
            req.headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
        ) {
            return Err(ApiError::unsupported_media_type());
        }
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY as u64) {
            return Err(ApiError::too_large(MAX_BODY));
        }
        let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY)
            .await
            .map_err(|_| ApiError::too_large(MAX_BODY))?;
        let value: T = parse_json(&bytes)?;
        let mut errors = Vec::new();
        value.validate(&mut errors);
        if errors.is_empty() {
            Ok(JsonBody(value))
        } else {
            Err(ApiError::validation(errors))
        }
    }
}

/// `application/json` or any `+json` type, parameters ignored.
fn is_json(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return false };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses `bytes` as `T`: syntax errors are 400, data errors 422 with the
/// path of the field that failed.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // serde lets a struct be read from an array; a body must be an object.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') && serde_json::from_slice::<Value>(bytes).is_ok() {
        return Err(ApiError::field("", "invalid type: expected a JSON object"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    // Strict: nor may a nested field documented as an object be an array.
    let value = serde_path_to_error::deserialize(Strict(&mut de)).map_err(|e| {
        let path = path_text(&e.path().to_string());
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                ApiError::field(path, strip_position(&inner.to_string()))
            }
            _ => ApiError::bad_request(format!("malformed JSON: {inner}")),
        }
    })?;
    de.end()
        .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?;
    Ok(value)
}

/// serde_path_to_error writes the root as `.`; we write it as the empty path.
fn path_text(path: &str) -> String {
    if path == "." {
        String::new()
    } else {
        path.to_owned()
    }
}

/// Drops serde_json's ` at line 1 column 30` suffix: the path says where.
fn strip_position(msg: &str) -> String {
    match msg.rsplit_once(" at line ") {
        Some((head, tail)) if tail.contains(" column ") => head.to_owned(),
        _ => msg.to_owned(),
    }
}

/// Query parameters of type `T`; wrong types and unknown parameters are 422
/// naming the parameter, then `T`'s [`Validate`] rules run.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<S, T> FromRequestParts<S> for QueryParams<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        let value: T = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = path_text(&e.path().to_string());
            ApiError::field(path, e.into_inner().to_string())
        })?;
        let mut errors = Vec::new();
        value.validate(&mut errors);
        if errors.is_empty() {
            Ok(QueryParams(value))
        } else {
            Err(ApiError::validation(errors))
        }
    }
}

/// `If-Match`: absent (or `*`) means "whatever the current version is"
/// (last write wins); otherwise a list of entity tags, compared strongly
/// with the entity's `"<version>"` ETag. A weak (`W/`) or unparsable tag
/// matches nothing, so it yields 412 as RFC 9110 says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// No header, or `*`.
    Any,
    /// The versions named by strong tags (possibly none).
    Versions(Vec<i64>),
}

impl IfMatch {
    /// Parses the header values.
    pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> IfMatch {
        let mut seen = false;
        let mut versions = Vec::new();
        for value in values {
            for tag in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                seen = true;
                if tag == "*" {
                    return IfMatch::Any;
                }
                let parsed = tag
                    .strip_prefix('"')
                    .and_then(|t| t.strip_suffix('"'))
                    .and_then(|t| t.parse::<i64>().ok());
                if let Some(v) = parsed {
                    versions.push(v);
                }
            }
        }
        if seen {
            IfMatch::Versions(versions)
        } else {
            IfMatch::Any
        }
    }

    /// The `expected_version` to hand the store for an entity now at
    /// `current`: `None` when any version will do, `Some(current)` when a
    /// listed tag matches (the store re-checks it atomically), and 412
    /// with the current version when none does.
    pub fn expected(&self, current: i64) -> Result<Option<i64>, ApiError> {
        match self {
            IfMatch::Any => Ok(None),
            IfMatch::Versions(v) if v.contains(&current) => Ok(Some(current)),
            IfMatch::Versions(_) => Err(ApiError::precondition_failed(current)),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let values = parts
            .headers
            .get_all(IF_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok());
        Ok(IfMatch::parse(values))
    }
}

/// The strong ETag of an entity at `version`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// Pushes an error unless `value` is 1..=`max` characters of
/// `[A-Za-z0-9._-]` starting with a letter or digit.
pub fn check_name(errors: &mut Vec<FieldError>, field: &str, value: &str, max: usize) {
    let ok_first = value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let ok_rest = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !ok_first || !ok_rest || value.chars().count() > max {
        errors.push(FieldError {
            field: field.to_owned(),
            message: format!(
                "must be 1 to {max} characters of letters, digits, `.`, `_` and `-`, \
                 starting with a letter or digit"
            ),
        });
    }
}

/// Pushes an error unless `value` is a tenant slug, `^[a-z0-9][a-z0-9-]{0,62}$`.
pub fn check_slug(errors: &mut Vec<FieldError>, field: &str, value: &str) {
    if !sy_store::is_slug(value) {
        errors.push(FieldError {
            field: field.to_owned(),
            message: "must match ^[a-z0-9][a-z0-9-]{0,62}$".into(),
        });
    }
}

/// Pushes an error when `value` is longer than `max` characters.
pub fn check_len(errors: &mut Vec<FieldError>, field: &str, value: &str, max: usize) {
    if value.chars().count() > max {
        errors.push(FieldError {
            field: field.to_owned(),
            message: format!("must be at most {max} characters"),
        });
    }
}

/// Pushes an error when `metadata` is larger than [`MAX_METADATA`] as JSON.
pub fn check_metadata(errors: &mut Vec<FieldError>, field: &str, metadata: &Map<String, Value>) {
    let size = serde_json::to_vec(metadata)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > MAX_METADATA {
        errors.push(FieldError {
            field: field.to_owned(),
            message: format!("must be at most {MAX_METADATA} bytes as JSON, got {size}"),
        });
    }
}

/// Pushes the limits' own range errors (negative spend) under `field`.
pub fn check_limits(errors: &mut Vec<FieldError>, field: &str, limits: &sy_config::LimitsSpec) {
    if let Err(found) = limits.check() {
        for (name, message) in found {
            errors.push(FieldError {
                field: format!("{field}.{name}"),
                message,
            });
        }
    }
}

/// Deserializes a field that distinguishes absent (`None`), `null`
/// (`Some(None)`) and a value (`Some(Some(v))`), for PATCH bodies.
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(de).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only parsed")]
    struct Input {
        #[serde(default)]
        limits: sy_config::LimitsSpec,
        #[serde(default)]
        tags: Vec<String>,
    }

    fn field_of(e: &ApiError) -> &str {
        &e.detail.fields.as_ref().unwrap()[0].field
    }

    #[test]
    fn wrong_types_name_the_path() {
        let e = parse_json::<Input>(br#"{"limits":{"requests_per_minute":"x"}}"#).unwrap_err();
        assert_eq!(e.status.as_u16(), 422);
        assert_eq!(field_of(&e), "limits.requests_per_minute");
        assert_eq!(
            e.detail.fields.as_ref().unwrap()[0].message,
            "invalid type: string \"x\", expected u64"
        );
        let e = parse_json::<Input>(br#"{"tags":["a",2]}"#).unwrap_err();
        assert_eq!(field_of(&e), "tags[1]");
    }

    #[test]
    fn unknown_fields_are_422_and_syntax_is_400() {
        let e = parse_json::<Input>(br#"{"limits":{"rpm":1}}"#).unwrap_err();
        assert_eq!(e.status.as_u16(), 422);
        assert!(field_of(&e).starts_with("limits"), "{e:?}");
        assert!(e.detail.message.contains("unknown field"));
        let e = parse_json::<Input>(br#"{"nope":1}"#).unwrap_err();
        assert_eq!(e.status.as_u16(), 422);
        for bad in [&b"{"[..], b"", b"{\"tags\":[]} x", b"nul"] {
            assert_eq!(parse_json::<Input>(bad).unwrap_err().status.as_u16(), 400);
        }
        let e = parse_json::<Input>(b"[]").unwrap_err();
        assert_eq!(e.status.as_u16(), 422);
    }

    #[test]
    fn content_types() {
        assert!(is_json(Some("application/json")));
        assert!(is_json(Some("Application/JSON; charset=utf-8")));
        assert!(is_json(Some("application/merge-patch+json")));
        assert!(!is_json(Some("text/plain")));
        assert!(!is_json(None));
    }

    #[test]
    fn if_match_parsing_and_matching() {
        assert_eq!(IfMatch::parse([]), IfMatch::Any);
        assert_eq!(IfMatch::parse(["*"]), IfMatch::Any);
        assert_eq!(
            IfMatch::parse(["\"3\", \"4\""]),
            IfMatch::Versions(vec![3, 4])
        );
        assert_eq!(IfMatch::parse(["W/\"3\""]), IfMatch::Versions(vec![]));
        assert_eq!(IfMatch::parse(["\"3\""]).expected(3), Ok(Some(3)));
        assert_eq!(IfMatch::Any.expected(3), Ok(None));
        let e = IfMatch::parse(["garbage"]).expected(3).unwrap_err();
        assert_eq!(e.status.as_u16(), 412);
        assert_eq!(e.detail.current_version, Some(3));
        assert_eq!(etag(3), "\"3\"");
    }

    #[test]
    fn value_checks() {
        let mut errors = Vec::new();
        check_name(&mut errors, "name", "ok-name_1.x", MAX_NAME);
        check_slug(&mut errors, "slug", "acme-1");
        check_len(&mut errors, "d", "short", MAX_TEXT);
        assert!(errors.is_empty());
        check_name(&mut errors, "a", "-x", MAX_NAME);
        check_name(&mut errors, "b", &"x".repeat(65), MAX_NAME);
        check_name(&mut errors, "c", "", MAX_NAME);
        check_slug(&mut errors, "d", "Acme");
        check_len(&mut errors, "e", &"x".repeat(MAX_TEXT + 1), MAX_TEXT);
        let mut big = Map::new();
        big.insert("k".into(), Value::String("v".repeat(MAX_METADATA)));
        check_metadata(&mut errors, "metadata", &big);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["a", "b", "c", "d", "e", "metadata"]);
    }
}
