//! Parsing a `POST /v1/embeddings` body with OpenAI-style errors.

use serde_json::Value;

use super::parse::{RequestError, object_with_model, serde_error};
use crate::embeddings::{EmbeddingInput, EmbeddingsRequest};

/// Parse and validate an embeddings body: JSON object, `model` a string,
/// `input` present and not empty, typed fields of the right type,
/// `dimensions` at least 1.
pub fn parse_embeddings_request(body: &[u8]) -> Result<EmbeddingsRequest, RequestError> {
    let value = object_with_model(body)?;
    match value.get("input") {
        None | Some(Value::Null) => return Err(RequestError::missing("input")),
        Some(Value::String(_) | Value::Array(_)) => {}
        Some(other) => {
            return Err(RequestError::invalid_type(
                "input",
                "a string or an array",
                other,
            ));
        }
    }
    let request: EmbeddingsRequest = serde_path_to_error::deserialize(value).map_err(|e| {
        let error = serde_error(&e);
        if error.param.as_deref() == Some("input") {
            RequestError::invalid_value(
                "input",
                "expected a string, an array of strings, an array of integers or an array of arrays of integers.",
            )
        } else {
            error
        }
    })?;
    let empty = match &request.input {
        EmbeddingInput::Text(t) => t.is_empty(),
        EmbeddingInput::Texts(ts) => ts.is_empty() || ts.iter().any(String::is_empty),
        EmbeddingInput::Tokens(ids) => ids.is_empty(),
        EmbeddingInput::TokenArrays(all) => all.is_empty() || all.iter().any(Vec::is_empty),
    };
    if empty {
        return Err(RequestError::invalid_value(
            "input",
            "inputs must not be empty.",
        ));
    }
    if request.dimensions == Some(0) {
        return Err(RequestError::invalid_value(
            "dimensions",
            "expected an integer of at least 1.",
        ));
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embeddings::EncodingFormat;

    #[test]
    fn parses_every_field() {
        let r = parse_embeddings_request(
            br#"{"model":"m","input":["a","b"],"encoding_format":"base64","dimensions":8,"user":"u","x":1}"#,
        )
        .unwrap();
        assert_eq!(r.input.items().len(), 2);
        assert_eq!(r.encoding_format, Some(EncodingFormat::Base64));
        assert_eq!(r.dimensions, Some(8));
        assert_eq!(r.extra.get("x"), Some(&serde_json::json!(1)));
    }

    #[test]
    fn refusals_name_the_parameter() {
        let param = |body: &str| parse_embeddings_request(body.as_bytes()).unwrap_err().param;
        assert_eq!(param(r#"{"model":"m"}"#).as_deref(), Some("input"));
        assert_eq!(param(r#"{"input":"a"}"#).as_deref(), Some("model"));
        assert_eq!(
            param(r#"{"model":"m","input":""}"#).as_deref(),
            Some("input")
        );
        assert_eq!(
            param(r#"{"model":"m","input":[true]}"#).as_deref(),
            Some("input")
        );
        assert_eq!(
            param(r#"{"model":"m","input":"a","encoding_format":"hex"}"#).as_deref(),
            Some("encoding_format")
        );
        assert_eq!(
            param(r#"{"model":"m","input":"a","dimensions":0}"#).as_deref(),
            Some("dimensions")
        );
    }
}
