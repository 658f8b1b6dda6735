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
    check_rules(&request)?;
    Ok(request)
}

/// [`parse_embeddings_request`], and the body itself when it says exactly
/// what the request does: decoded strictly (a member given twice, which
/// the lenient decode reads as its last value, refuses it), so an
/// OpenAI-format upstream can be sent the client's bytes with only `model`
/// replaced ([`super::with_model`]) instead of the inputs encoded again.
pub fn parse_embeddings_request_with_source(
    body: &[u8],
) -> Result<(EmbeddingsRequest, Option<&[u8]>), RequestError> {
    if let Ok(request) = crate::from_json::<EmbeddingsRequest>(body) {
        check_rules(&request)?;
        return Ok((request, Some(body)));
    }
    parse_embeddings_request(body).map(|request| (request, None))
}

/// What serde cannot express: no empty input, `dimensions` at least 1.
fn check_rules(request: &EmbeddingsRequest) -> Result<(), RequestError> {
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embeddings::EncodingFormat;

    /// A body decoded strictly comes back as the source to send on; one
    /// whose `model` is given twice is decoded leniently (its last value)
    /// and is not sent on, so an upstream never reads the other one.
    #[test]
    fn the_source_is_kept_only_for_a_strict_body() {
        let body = br#"{"input": ["a"], "model": "m", "dimensions": 8}"#;
        let (r, source) = parse_embeddings_request_with_source(body).unwrap();
        assert_eq!((r.model.as_str(), source), ("m", Some(&body[..])));
        let twice = br#"{"model":"virtual","input":"a","model":"m"}"#;
        let (r, source) = parse_embeddings_request_with_source(twice).unwrap();
        assert_eq!((r.model.as_str(), source), ("m", None));
        for bad in [
            &br#"{"model":"m","input":""}"#[..],
            br#"{"model":"m","input":"a","dimensions":0}"#,
            br#"{"model":"m"}"#,
        ] {
            assert!(parse_embeddings_request_with_source(bad).is_err());
        }
    }

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
