//! Anthropic's error body:
//! `{"type":"error","error":{"type":...,"message":...},"request_id":...}`.
//!
//! Anthropic SDKs pick the exception class from the HTTP status and show
//! `error.message`; `error.type` names the kind for code that inspects it.
//! The same `{"type":"error","error":{..}}` object is the data of a
//! mid-stream `error` event.

use serde::{Deserialize, Serialize};

/// The error envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Always `error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The error.
    pub error: ErrorDetail,
    /// The gateway's request id, for support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// The error itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Kind, e.g. `invalid_request_error`; see [`error_type_for_status`].
    #[serde(rename = "type")]
    pub kind: String,
    /// Human-readable explanation.
    pub message: String,
}

impl ErrorDetail {
    /// The detail for an HTTP status, typed by [`error_type_for_status`].
    pub fn for_status(status: u16, message: impl Into<String>) -> ErrorDetail {
        ErrorDetail {
            kind: error_type_for_status(status).to_owned(),
            message: message.into(),
        }
    }
}

impl ErrorBody {
    /// An error body.
    pub fn new(detail: ErrorDetail, request_id: Option<String>) -> ErrorBody {
        ErrorBody {
            kind: "error".to_owned(),
            error: detail,
            request_id,
        }
    }

    /// The body as JSON text. Serializing strings cannot fail; a
    /// hand-written fallback keeps this infallible all the same.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"type":"error","error":{"type":"api_error","message":"internal error"}}"#.to_owned()
        })
    }
}

/// The `error.type` Anthropic uses for an HTTP status. Statuses Anthropic
/// does not document fall back by class: other 4xx are
/// `invalid_request_error`, other 5xx `api_error`.
pub fn error_type_for_status(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    }
}

/// A request the dialect refuses: always HTTP 400,
/// `invalid_request_error`. Messages name the field the way Anthropic does,
/// dotted with numeric indexes: `messages.0.content.1.source`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RequestError {
    /// What is wrong, naming the field.
    pub message: String,
}

impl RequestError {
    /// An error about `path`.
    pub fn at(path: &str, why: impl std::fmt::Display) -> RequestError {
        RequestError {
            message: format!("{path}: {why}"),
        }
    }

    /// The error body for this error.
    pub fn to_body(&self, request_id: Option<String>) -> ErrorBody {
        ErrorBody::new(ErrorDetail::for_status(400, &self.message), request_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_shape() {
        let body = ErrorBody::new(
            ErrorDetail::for_status(529, "Overloaded"),
            Some("r1".into()),
        );
        assert_eq!(
            body.to_json(),
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"r1"}"#
        );
        let body = RequestError::at("max_tokens", "Field required").to_body(None);
        assert_eq!(
            body.to_json(),
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}}"#
        );
    }

    #[test]
    fn status_types() {
        let cases = [
            (400, "invalid_request_error"),
            (401, "authentication_error"),
            (403, "permission_error"),
            (404, "not_found_error"),
            (405, "invalid_request_error"),
            (429, "rate_limit_error"),
            (500, "api_error"),
            (502, "api_error"),
            (529, "overloaded_error"),
        ];
        for (status, kind) in cases {
            assert_eq!(error_type_for_status(status), kind, "{status}");
        }
    }
}
