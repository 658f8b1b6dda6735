//! Parsing a Messages request body with Anthropic-style errors.
//!
//! Order of checks, the first failure reported: JSON syntax; top level is an
//! object; `model`, `messages` (and, for `messages`, `max_tokens`) present;
//! every typed field has the right type (the message names the dotted path,
//! e.g. `messages.1.content.0.source`); then rules serde cannot express
//! (value ranges, a named tool choice needs that tool).

use serde_json::Value;
use serde_path_to_error::Segment;

use super::error::RequestError;
use super::wire::{MessagesRequest, ToolChoice};

/// Which endpoint the body is for; they differ in what is required.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Messages,
    CountTokens,
}

/// Parse and validate a `POST /v1/messages` body.
pub fn parse_messages_request(body: &[u8]) -> Result<MessagesRequest, RequestError> {
    parse(body, Endpoint::Messages)
}

/// Parse and validate a `POST /v1/messages/count_tokens` body: the same
/// shape, without the required `max_tokens`.
pub fn parse_count_tokens_request(body: &[u8]) -> Result<MessagesRequest, RequestError> {
    parse(body, Endpoint::CountTokens)
}

fn parse(body: &[u8], endpoint: Endpoint) -> Result<MessagesRequest, RequestError> {
    let value: Value = crate::from_json(body).map_err(|e| RequestError {
        message: format!("The request body is not valid JSON: {e}"),
    })?;
    let Value::Object(map) = &value else {
        return Err(RequestError {
            message: "The request body must be a JSON object.".to_owned(),
        });
    };
    let mut required = vec!["model", "messages"];
    if endpoint == Endpoint::Messages {
        required.push("max_tokens");
    }
    for field in required {
        if map.get(field).is_none_or(Value::is_null) {
            return Err(RequestError::at(field, "Field required"));
        }
    }
    if map
        .get("messages")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
    {
        return Err(RequestError::at(
            "messages",
            "at least one message is required",
        ));
    }
    let request: MessagesRequest =
        serde_path_to_error::deserialize(value).map_err(|e| serde_error(&e))?;
    check_rules(&request, endpoint)?;
    Ok(request)
}

/// A typed-deserialization error, naming the dotted path.
fn serde_error(error: &serde_path_to_error::Error<serde_json::Error>) -> RequestError {
    let mut path = Vec::new();
    for segment in error.path() {
        match segment {
            Segment::Seq { index } => path.push(index.to_string()),
            Segment::Map { key } => path.push(key.clone()),
            Segment::Enum { variant } => path.push(variant.clone()),
            Segment::Unknown => path.push("?".to_owned()),
        }
    }
    // serde reports a missing field at its parent's path, and inside a
    // block (an internally tagged enum) the path stops at the block, so the
    // message keeps serde's wording: "messages.0: missing field `content`".
    let inner = error.inner().to_string();
    let shown = if path.is_empty() {
        "body".to_owned()
    } else {
        path.join(".")
    };
    // serde_json appends " at line L column C", which points into the
    // re-serialized value rather than the client's text; drop it.
    let why = match inner.rfind(" at line ") {
        Some(cut) => &inner[..cut],
        None => &inner,
    };
    RequestError::at(&shown, why)
}

fn check_rules(request: &MessagesRequest, endpoint: Endpoint) -> Result<(), RequestError> {
    if endpoint == Endpoint::Messages && request.max_tokens == Some(0) {
        return Err(RequestError::at(
            "max_tokens",
            "Input should be greater than or equal to 1",
        ));
    }
    if let Some(t) = request.temperature
        && !(0.0..=1.0).contains(&t)
    {
        return Err(RequestError::at(
            "temperature",
            "Input should be between 0 and 1",
        ));
    }
    if let Some(p) = request.top_p
        && !(0.0..=1.0).contains(&p)
    {
        return Err(RequestError::at("top_p", "Input should be between 0 and 1"));
    }
    let tools = request.tools.as_deref().unwrap_or(&[]);
    match &request.tool_choice {
        Some(ToolChoice::Any { .. }) if tools.is_empty() => {
            return Err(RequestError::at(
                "tool_choice",
                "tool_choice 'any' may only be specified while providing tools",
            ));
        }
        Some(ToolChoice::Tool { name, .. }) if !tools.iter().any(|t| &t.name == name) => {
            return Err(RequestError::at(
                "tool_choice",
                format!("Tool '{name}' not found in provided tools"),
            ));
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: &str) -> String {
        parse_messages_request(body.as_bytes()).unwrap_err().message
    }

    const MSG: &str = r#""messages":[{"role":"user","content":"hi"}]"#;

    #[test]
    fn required_fields() {
        assert_eq!(err(&format!("{{{MSG}}}")), "model: Field required");
        assert_eq!(
            err(&format!(r#"{{"model":"m",{MSG}}}"#)),
            "max_tokens: Field required"
        );
        assert_eq!(
            err(r#"{"model":"m","max_tokens":5}"#),
            "messages: Field required"
        );
        assert_eq!(
            err(r#"{"model":"m","max_tokens":5,"messages":[]}"#),
            "messages: at least one message is required"
        );
        // count_tokens does not need max_tokens.
        assert!(parse_count_tokens_request(format!(r#"{{"model":"m",{MSG}}}"#).as_bytes()).is_ok());
    }

    #[test]
    fn syntax_and_top_level() {
        assert!(err("{").starts_with("The request body is not valid JSON"));
        assert_eq!(err("[]"), "The request body must be a JSON object.");
    }

    #[test]
    fn typed_errors_name_the_dotted_path() {
        let e = err(
            r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"},{"role":"system","content":"x"}]}"#,
        );
        assert!(
            e.starts_with("messages.1.role: unknown variant `system`"),
            "{e}"
        );
        let e =
            err(r#"{"model":"m","max_tokens":"many","messages":[{"role":"user","content":"x"}]}"#);
        assert!(
            e.starts_with("max_tokens: invalid type: string \"many\""),
            "{e}"
        );
        assert!(!e.contains(" at line "), "{e}");
        let e = err(
            r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image","source":{"type":"base64"}}]}]}"#,
        );
        assert_eq!(e, "messages.0.content.1: missing field `media_type`");
        // A block of a type the gateway reads keeps its exact error; one of
        // another type is kept for Anthropic (see `native_blocks_are_kept_whole`).
        let e = err(
            r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":7}]}]}"#,
        );
        assert!(
            e.starts_with("messages.0.content.0: invalid type: integer `7`, expected a string"),
            "{e}"
        );
        let e = err(
            r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"text":"no type"}]}]}"#,
        );
        assert!(
            e.starts_with("messages.0.content.0: missing field `type`"),
            "{e}"
        );
        let e = err(r#"{"model":"m","max_tokens":5,"messages":[{"role":"user"}]}"#);
        assert_eq!(e, "messages.0: missing field `content`");
        let e = err(r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":7}]}"#);
        assert!(
            e.starts_with("messages.0.content: invalid type: integer `7`"),
            "{e}"
        );
    }

    #[test]
    fn rules() {
        let with = |extra: &str| err(&format!(r#"{{"model":"m","max_tokens":5,{MSG},{extra}}}"#));
        assert_eq!(
            with(r#""temperature":1.5"#),
            "temperature: Input should be between 0 and 1"
        );
        assert_eq!(
            with(r#""top_p":-1"#),
            "top_p: Input should be between 0 and 1"
        );
        assert!(with(r#""tool_choice":{"type":"any"}"#).starts_with("tool_choice:"));
        assert_eq!(
            with(
                r#""tools":[{"name":"a","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool","name":"b"}"#
            ),
            "tool_choice: Tool 'b' not found in provided tools"
        );
        assert_eq!(
            err(&format!(r#"{{"model":"m","max_tokens":0,{MSG}}}"#)),
            "max_tokens: Input should be greater than or equal to 1"
        );
    }
}
