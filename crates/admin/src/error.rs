//! `ApiError`: every failure of an admin request, rendered once as
//! `{"error":{"type","message"}}` (+ `fields` for 422, `current_version`
//! for 412) with its status. Building one has no side effects; store
//! failures that are the server's fault (database, crypto, corrupt rows)
//! become a 500 whose message never carries the internal detail.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sy_store::StoreError;
use utoipa::ToSchema;

/// One field that failed validation: its JSON path (`limits.requests_per_minute`,
/// `scopes.routes[2]`) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Dotted path into the request body (or the query parameter's name).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// The error object inside every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorDetail {
    /// Stable machine-readable class: `bad_request`, `unauthorized`,
    /// `forbidden`, `not_found`, `method_not_allowed`, `conflict`,
    /// `precondition_failed`, `payload_too_large`, `unsupported_media_type`,
    /// `validation_error`, `internal_error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Human-readable explanation.
    pub message: String,
    /// The fields that failed validation (422 only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<FieldError>>,
    /// The entity's current version (412 only): send it as `If-Match`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
}

/// Every error response body has this shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// A failed admin request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The body's `error` object.
    pub detail: ErrorDetail,
}

impl ApiError {
    /// An error of class `kind` with `status`.
    pub fn new(status: StatusCode, kind: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            detail: ErrorDetail {
                kind: kind.to_owned(),
                message: message.into(),
                fields: None,
                current_version: None,
            },
        }
    }

    /// 400: the request cannot be parsed (malformed JSON, bad header).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 401: no or unknown credentials.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: known caller, not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404 for an entity of `kind` that does not exist or that the caller
    /// may not see (the two are indistinguishable on purpose).
    pub fn not_found(kind: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{kind} {id:?} not found"),
        )
    }

    /// 409: the change conflicts with the current state.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// 412: `If-Match` does not match the current version.
    pub fn precondition_failed(current: i64) -> Self {
        let mut e = Self::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
            format!("If-Match does not match the current version {current} (ETag \"{current}\")"),
        );
        e.detail.current_version = Some(current);
        e
    }

    /// 413: the body is larger than the limit.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("request body is larger than {limit} bytes"),
        )
    }

    /// 415: the body is not JSON.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "request body must be JSON: send Content-Type: application/json",
        )
    }

    /// 422 with one or more field errors; the message summarises them.
    pub fn validation(fields: Vec<FieldError>) -> Self {
        let message = match fields.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields are invalid", many.len()),
        };
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            message,
        );
        e.detail.fields = Some(fields);
        e
    }

    /// 422 for one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// 500 without internal detail.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "internal error; see the server log",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::NotFound { kind, id } => ApiError::not_found(kind, id),
            StoreError::Conflict { .. } | StoreError::InvalidTransition { .. } => {
                ApiError::conflict(e.to_string())
            }
            StoreError::FileManaged { kind, name } => ApiError::conflict(format!(
                "{kind} {name:?} is managed by the configuration file; change it there"
            )),
            StoreError::VersionMismatch { current } => ApiError::precondition_failed(*current),
            StoreError::Invalid(msg) => ApiError::validation(vec![FieldError {
                field: invalid_field(msg),
                message: msg.clone(),
            }]),
            _ => ApiError::internal(),
        }
    }
}

/// The field a store `Invalid` message is about, when it starts with a
/// `path: ` (as limit errors do); the empty path (the whole body) otherwise.
fn invalid_field(msg: &str) -> String {
    match msg.split_once(": ") {
        Some((head, _))
            if !head.is_empty()
                && head
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._[]".contains(c)) =>
        {
            head.to_owned()
        }
        _ => String::new(),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let unauthorized = self.status == StatusCode::UNAUTHORIZED;
        let mut resp = (self.status, Json(ErrorBody { error: self.detail })).into_response();
        if unauthorized {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_statuses_and_types() {
        let cases = [
            (
                StoreError::NotFound {
                    kind: "tenant",
                    id: "x".into(),
                },
                404,
                "not_found",
            ),
            (
                StoreError::Conflict {
                    kind: "tenant",
                    field: "name",
                    value: "a".into(),
                },
                409,
                "conflict",
            ),
            (
                StoreError::VersionMismatch { current: 3 },
                412,
                "precondition_failed",
            ),
            (
                StoreError::FileManaged {
                    kind: "tenant",
                    name: "a".into(),
                },
                409,
                "conflict",
            ),
            (
                StoreError::Invalid("limits.x: bad".into()),
                422,
                "validation_error",
            ),
            (
                StoreError::Corrupt("secret detail".into()),
                500,
                "internal_error",
            ),
        ];
        for (e, status, kind) in cases {
            let api = ApiError::from(e);
            assert_eq!(api.status.as_u16(), status);
            assert_eq!(api.detail.kind, kind);
            assert!(!api.detail.message.contains("secret detail"));
        }
    }

    #[test]
    fn invalid_messages_name_their_field() {
        assert_eq!(
            invalid_field("limits.spend_per_day: must not be negative"),
            "limits.spend_per_day"
        );
        assert_eq!(invalid_field("tenant name \"A\" must match"), "");
        let e = ApiError::from(StoreError::VersionMismatch { current: 7 });
        assert_eq!(e.detail.current_version, Some(7));
        let json = serde_json::to_value(ErrorBody { error: e.detail }).unwrap();
        assert_eq!(json["error"]["current_version"], 7);
        assert!(json["error"].get("fields").is_none());
    }
}
