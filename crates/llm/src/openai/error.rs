//! OpenAI's error body: `{"error":{"message","type","param","code"}}`.
//!
//! OpenAI SDKs read `error.message` into the exception text and use the HTTP
//! status to pick the exception class, so the status matters as much as the
//! body. All four fields are always present; `param` and `code` may be null.

use serde::{Deserialize, Serialize};

/// The error envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The error itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Human-readable explanation.
    pub message: String,
    /// Broad kind, e.g. `invalid_request_error`; see [`error_type_for_status`].
    #[serde(rename = "type")]
    pub kind: String,
    /// The request parameter at fault, e.g. `messages[0].content`.
    pub param: Option<String>,
    /// Machine-readable code, e.g. `model_not_found`.
    pub code: Option<String>,
}

impl ErrorBody {
    /// An error body.
    pub fn new(
        message: impl Into<String>,
        kind: impl Into<String>,
        param: Option<String>,
        code: Option<String>,
    ) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                message: message.into(),
                kind: kind.into(),
                param,
                code,
            },
        }
    }

    /// The body as JSON text. Serializing four strings cannot fail; a
    /// hand-written fallback keeps this infallible all the same.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"error":{"message":"internal error","type":"server_error","param":null,"code":null}}"#.to_owned()
        })
    }
}

/// The `type` OpenAI uses for an HTTP status.
pub fn error_type_for_status(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        409 => "conflict_error",
        429 => "rate_limit_error",
        400..=499 => "invalid_request_error",
        _ => "server_error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_fields_are_present() {
        let body = ErrorBody::new("nope", "invalid_request_error", None, Some("x".into()));
        assert_eq!(
            body.to_json(),
            r#"{"error":{"message":"nope","type":"invalid_request_error","param":null,"code":"x"}}"#
        );
    }

    #[test]
    fn status_types() {
        assert_eq!(error_type_for_status(400), "invalid_request_error");
        assert_eq!(error_type_for_status(429), "rate_limit_error");
        assert_eq!(error_type_for_status(503), "server_error");
    }
}
