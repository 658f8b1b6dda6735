//! Parsing a Chat Completions request body with OpenAI-style errors.
//!
//! Order of checks, each reported as soon as it fails (as OpenAI does, one
//! error per response): JSON syntax; top level is an object; `model` present
//! and a string; `messages` present, an array, not empty; every typed field
//! has the right type (the offending path is named, e.g.
//! `messages[1].role`); then rules serde cannot express (a tool message
//! needs `tool_call_id`, `stream_options` needs `stream`, value ranges).

use serde_json::Value;

use super::error::ErrorBody;
use crate::chat::{ChatRequest, Role};

/// A request the dialect refuses: always HTTP 400, type
/// `invalid_request_error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RequestError {
    /// What is wrong, naming the parameter.
    pub message: String,
    /// The parameter at fault (`model`, `messages[0].content`), if any.
    pub param: Option<String>,
    /// OpenAI's code: `missing_required_parameter`, `invalid_type`,
    /// `invalid_value`, `empty_array`, or none for syntax errors.
    pub code: Option<&'static str>,
}

impl RequestError {
    pub(crate) fn new(
        message: String,
        param: Option<String>,
        code: Option<&'static str>,
    ) -> RequestError {
        RequestError {
            message,
            param,
            code,
        }
    }

    pub(crate) fn missing(param: &str) -> RequestError {
        RequestError::new(
            format!("Missing required parameter: '{param}'."),
            Some(param.to_owned()),
            Some("missing_required_parameter"),
        )
    }

    pub(crate) fn invalid_type(param: &str, expected: &str, got: &Value) -> RequestError {
        RequestError::new(
            format!(
                "Invalid type for '{param}': expected {expected}, but got {} instead.",
                kind(got)
            ),
            Some(param.to_owned()),
            Some("invalid_type"),
        )
    }

    pub(crate) fn invalid_value(param: &str, why: &str) -> RequestError {
        RequestError::new(
            format!("Invalid value for '{param}': {why}"),
            Some(param.to_owned()),
            Some("invalid_value"),
        )
    }

    /// The OpenAI error body for this error.
    pub fn to_body(&self) -> ErrorBody {
        ErrorBody::new(
            self.message.clone(),
            "invalid_request_error",
            self.param.clone(),
            self.code.map(str::to_owned),
        )
    }
}

/// Parse and validate a Chat Completions body.
///
/// A valid body is decoded straight into [`ChatRequest`]; only when that
/// fails (or `messages` is empty) is the body read again, step by step, to
/// name what is wrong the way OpenAI does. Tracking the path of every
/// field on the way, for an error most requests never have, cost about as
/// much as the decoding itself.
pub fn parse_chat_request(body: &[u8]) -> Result<ChatRequest, RequestError> {
    parse_chat_request_with_source(body).map(|(request, _)| request)
}

/// [`parse_chat_request`], with `body` given back as the request's source
/// when it was decoded strictly: each typed member once (a repeated one is
/// an error there), so the body says what the request says and may be sent
/// on with only its model replaced ([`super::with_model`]). A body read by
/// the lenient second pass, which takes a repeated member's last value,
/// has no source.
pub fn parse_chat_request_with_source(
    body: &[u8],
) -> Result<(ChatRequest, Option<&[u8]>), RequestError> {
    if let Ok(request) = crate::from_json::<ChatRequest>(body)
        && !request.messages.is_empty()
    {
        check_rules(&request)?;
        return Ok((request, Some(body)));
    }
    parse_explained(body).map(|request| (request, None))
}

/// The checks in order, each with OpenAI's error (see the module docs).
fn parse_explained(body: &[u8]) -> Result<ChatRequest, RequestError> {
    let value = object_with_model(body)?;
    match value.get("messages") {
        None | Some(Value::Null) => return Err(RequestError::missing("messages")),
        Some(Value::Array(items)) if items.is_empty() => {
            return Err(RequestError::new(
                "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead."
                    .to_owned(),
                Some("messages".to_owned()),
                Some("empty_array"),
            ));
        }
        Some(Value::Array(_)) => {}
        Some(other) => return Err(RequestError::invalid_type("messages", "an array", other)),
    }

    let request: ChatRequest =
        serde_path_to_error::deserialize(value).map_err(|e| serde_error(&e))?;
    check_rules(&request)?;
    Ok(request)
}

/// The body as a JSON object whose `model` is a string (the checks every
/// OpenAI endpoint starts with).
pub(crate) fn object_with_model(body: &[u8]) -> Result<Value, RequestError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        RequestError::new(
            format!("We could not parse the JSON body of your request: {e}."),
            None,
            None,
        )
    })?;
    let Value::Object(map) = &value else {
        return Err(RequestError::new(
            format!(
                "Invalid request body: expected a JSON object, but got {} instead.",
                kind(&value)
            ),
            None,
            Some("invalid_type"),
        ));
    };
    match map.get("model") {
        None | Some(Value::Null) => Err(RequestError::missing("model")),
        Some(Value::String(_)) => Ok(value),
        Some(other) => Err(RequestError::invalid_type("model", "a string", other)),
    }
}

/// Turn a typed-deserialization error into an OpenAI error naming the path.
pub(crate) fn serde_error(error: &serde_path_to_error::Error<serde_json::Error>) -> RequestError {
    let path = error.path().to_string();
    let inner = error.inner().to_string();
    // serde reports a missing field at its parent's path.
    if let Some(rest) = inner.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or_default();
        let param = if path == "." {
            field.to_owned()
        } else {
            format!("{path}.{field}")
        };
        return RequestError::missing(&param);
    }
    let param = (path != ".").then_some(path);
    let shown = param.as_deref().unwrap_or("body");
    let code = if inner.starts_with("invalid type") {
        "invalid_type"
    } else {
        "invalid_value"
    };
    let message = if code == "invalid_type" {
        format!("Invalid type for '{shown}': {inner}.")
    } else {
        format!("Invalid value for '{shown}': {inner}.")
    };
    RequestError::new(message, param, Some(code))
}

/// Rules beyond types.
fn check_rules(request: &ChatRequest) -> Result<(), RequestError> {
    for (i, message) in request.messages.iter().enumerate() {
        let needs_content = !matches!(message.role, Role::Assistant);
        if needs_content && message.content.is_none() {
            return Err(RequestError::missing(&format!("messages[{i}].content")));
        }
        if message.role == Role::Assistant
            && message.content.is_none()
            && message.tool_calls.is_none()
        {
            return Err(RequestError::missing(&format!("messages[{i}].content")));
        }
        if message.role == Role::Tool && message.tool_call_id.is_none() {
            return Err(RequestError::missing(&format!(
                "messages[{i}].tool_call_id"
            )));
        }
    }
    if let Some(t) = request.temperature
        && !(0.0..=2.0).contains(&t)
    {
        return Err(RequestError::invalid_value(
            "temperature",
            "expected a number between 0 and 2.",
        ));
    }
    if let Some(p) = request.top_p
        && !(0.0..=1.0).contains(&p)
    {
        return Err(RequestError::invalid_value(
            "top_p",
            "expected a number between 0 and 1.",
        ));
    }
    if let Some(n) = request.n
        && !(1..=128).contains(&n)
    {
        return Err(RequestError::invalid_value(
            "n",
            "expected an integer between 1 and 128.",
        ));
    }
    if request.stream_options.is_some() && !request.is_stream() {
        return Err(RequestError::new(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.".to_owned(),
            Some("stream_options".to_owned()),
            Some("invalid_value"),
        ));
    }
    if request.tool_choice.is_some() && request.tools().is_empty() {
        return Err(RequestError::invalid_value(
            "tool_choice",
            "'tool_choice' is only allowed when 'tools' are specified.",
        ));
    }
    Ok(())
}

/// A JSON value's kind, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a decimal",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{ContentPart, MessageContent};

    fn err(body: &str) -> RequestError {
        parse_chat_request(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn syntax_error_has_position() {
        let e = err("{\"model\": ");
        assert_eq!(e.param, None);
        assert_eq!(e.code, None);
        assert!(e.message.contains("line 1 column 10"), "{}", e.message);
    }

    #[test]
    fn missing_and_wrong_top_level() {
        let e = err(r#"{"messages":[{"role":"user","content":"hi"}]}"#);
        assert_eq!(
            (e.param.as_deref(), e.code),
            (Some("model"), Some("missing_required_parameter"))
        );
        assert_eq!(e.message, "Missing required parameter: 'model'.");
        let e = err(r#"{"model":"m"}"#);
        assert_eq!(e.param.as_deref(), Some("messages"));
        let e = err(r#"{"model":1,"messages":[]}"#);
        assert_eq!(
            e.message,
            "Invalid type for 'model': expected a string, but got an integer instead."
        );
        let e = err(r#"{"model":"m","messages":[]}"#);
        assert_eq!(
            (e.param.as_deref(), e.code),
            (Some("messages"), Some("empty_array"))
        );
        let e = err("[1]");
        assert_eq!(e.code, Some("invalid_type"));
    }

    #[test]
    fn typed_field_errors_name_the_path() {
        let e =
            err(r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":"hot"}"#);
        assert_eq!(
            (e.param.as_deref(), e.code),
            (Some("temperature"), Some("invalid_type"))
        );
        assert!(
            e.message
                .starts_with("Invalid type for 'temperature': invalid type: string \"hot\""),
            "{}",
            e.message
        );
        let e = err(
            r#"{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"robot","content":"x"}]}"#,
        );
        assert_eq!(
            (e.param.as_deref(), e.code),
            (Some("messages[1].role"), Some("invalid_value"))
        );
        let e = err(r#"{"model":"m","messages":[{"content":"hi"}]}"#);
        assert_eq!(e.param.as_deref(), Some("messages[0].role"));
        assert_eq!(e.code, Some("missing_required_parameter"));
    }

    #[test]
    fn content_is_text_or_parts_and_a_bad_one_is_named_where_it_is() {
        let ok = |body: &str| parse_chat_request(body.as_bytes()).unwrap().messages;
        let text = ok(r#"{"model":"m","messages":[{"role":"user","content":"hi \u00e9"}]}"#);
        assert_eq!(text[0].content, Some(MessageContent::Text("hi é".into())));
        let parts = ok(
            r#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"input_audio","input_audio":{"data":"x"}}]}]}"#,
        );
        let Some(MessageContent::Parts(parts)) = &parts[0].content else {
            panic!("{parts:?}")
        };
        assert_eq!(parts[0], ContentPart::text("a"));
        assert!(
            matches!(&parts[1], ContentPart::Other(extra) if extra.contains_key("input_audio"))
        );

        let e = err(r#"{"model":"m","messages":[{"role":"user","content":5}]}"#);
        assert_eq!(
            (e.param.as_deref(), e.code),
            (Some("messages[0].content"), Some("invalid_type"))
        );
        assert!(
            e.message
                .contains("expected a string or an array of content parts"),
            "{}",
            e.message
        );
        let e = err(r#"{"model":"m","messages":[{"role":"user","content":{"text":"hi"}}]}"#);
        assert_eq!(
            (e.param.as_deref(), e.code),
            (Some("messages[0].content"), Some("invalid_type"))
        );
        // A known part of the wrong shape is refused, not passed on.
        let part = |p: &str| {
            err(&format!(
                r#"{{"model":"m","messages":[{{"role":"user","content":[{{"type":"text","text":"ok"}},{p}]}}]}}"#
            ))
        };
        let e = part(r#"{"type":"text","text":7}"#);
        assert_eq!(
            (e.param.as_deref(), e.code),
            (Some("messages[0].content[1]"), Some("invalid_type")),
            "{}",
            e.message
        );
        let e = part(r#"{"type":"text"}"#);
        assert_eq!(
            (e.param.as_deref(), e.code),
            (
                Some("messages[0].content[1].text"),
                Some("missing_required_parameter")
            )
        );
        let e = part(r#"{"type":"image_url","image_url":{"detail":"low"}}"#);
        assert_eq!(e.param.as_deref(), Some("messages[0].content[1]"));
        assert!(e.message.contains("url"), "{}", e.message);
    }

    #[test]
    fn rules() {
        let e = err(r#"{"model":"m","messages":[{"role":"user"}]}"#);
        assert_eq!(e.param.as_deref(), Some("messages[0].content"));
        let e = err(r#"{"model":"m","messages":[{"role":"tool","content":"42"}]}"#);
        assert_eq!(e.param.as_deref(), Some("messages[0].tool_call_id"));
        let e = err(
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":true}}"#,
        );
        assert_eq!(e.param.as_deref(), Some("stream_options"));
        let e =
            err(r#"{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"auto"}"#);
        assert_eq!(e.param.as_deref(), Some("tool_choice"));
        let e = err(r#"{"model":"m","messages":[{"role":"user","content":"x"}],"n":0}"#);
        assert_eq!(e.param.as_deref(), Some("n"));
    }

    #[test]
    fn valid_request_parses() {
        let req = parse_chat_request(
            br#"{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":"1"}],"stream":true,"stream_options":{"include_usage":true}}"#,
        )
        .unwrap();
        assert!(req.include_usage());
    }

    /// The direct decoding and the step-by-step one agree on every body:
    /// the same request when valid, the same error when not (duplicate
    /// keys, which only the direct decoding refuses, fall back to the
    /// step-by-step reading and its last-one-wins rule).
    #[test]
    fn the_fast_path_changes_no_outcome() {
        let bodies = [
            r#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#,
            r#"{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"t"},{"type":"image_url","image_url":{"url":"https://x/y.png","detail":"low"}}],"name":"n"}],"temperature":0.5,"max_tokens":7,"seed":3,"user":"u","x_vendor":{"a":[1,2.5,null]}}"#,
            r#"{"model":"m","model":"n","messages":[{"role":"user","content":"x"}]}"#,
            r#"{"model":"m","messages":[]}"#,
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"n":0}"#,
            r#"{"model":"m","messages":[{"role":"wizard","content":"x"}]}"#,
            r#"{"model":1,"messages":[{"role":"user","content":"x"}]}"#,
            r#"{"messages":[{"role":"user","content":"x"}]}"#,
            r#"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":"hot"}"#,
            r#"[1]"#,
            r#"{"model":"m","messages":[{"role":"user","content":"x"}]} x"#,
        ];
        for body in bodies {
            assert_eq!(
                parse_chat_request(body.as_bytes()),
                parse_explained(body.as_bytes()),
                "{body}"
            );
        }
        let dup = parse_chat_request(bodies[2].as_bytes()).unwrap();
        assert_eq!(dup.model, "n");
    }
}
