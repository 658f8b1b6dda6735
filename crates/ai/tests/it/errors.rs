//! Every failure is an OpenAI-shaped error with the right status.

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

fn error(message: &str, kind: &str, param: Option<&str>, code: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
}

fn invalid(message: &str, param: Option<&str>, code: Option<&str>) -> Value {
    error(message, "invalid_request_error", param, code)
}

#[track_caller]
fn check(got: (StatusCode, HeaderMap, Bytes), status: StatusCode, expected: Value) {
    assert_eq!(got.0, status, "body: {}", String::from_utf8_lossy(&got.2));
    assert_eq!(header(&got.1, "content-type"), Some("application/json"));
    assert_eq!(json_of(&got.2), expected);
}

async fn post(body: &str) -> (StatusCode, HeaderMap, Bytes) {
    call(&gateway(), &[], Method::POST, "/v1/chat/completions", body).await
}

#[tokio::test]
async fn malformed_json() {
    check(
        post(r#"{"model":"#).await,
        StatusCode::BAD_REQUEST,
        invalid(
            "We could not parse the JSON body of your request: EOF while parsing a value at line 1 column 9.",
            None,
            None,
        ),
    );
}

#[tokio::test]
async fn missing_model_and_messages() {
    let msgs = r#"[{"role":"user","content":"hi"}]"#;
    check(
        post(&format!(r#"{{"messages":{msgs}}}"#)).await,
        StatusCode::BAD_REQUEST,
        invalid(
            "Missing required parameter: 'model'.",
            Some("model"),
            Some("missing_required_parameter"),
        ),
    );
    check(
        post(r#"{"model":"mock-1"}"#).await,
        StatusCode::BAD_REQUEST,
        invalid(
            "Missing required parameter: 'messages'.",
            Some("messages"),
            Some("missing_required_parameter"),
        ),
    );
}

#[tokio::test]
async fn wrong_types() {
    check(
        post(r#"{"model":"mock-1","messages":"hi"}"#).await,
        StatusCode::BAD_REQUEST,
        invalid(
            "Invalid type for 'messages': expected an array, but got a string instead.",
            Some("messages"),
            Some("invalid_type"),
        ),
    );
    check(
        post(
            r#"{"model":"mock-1","messages":[{"role":"user","content":"hi"}],"temperature":"hot"}"#,
        )
        .await,
        StatusCode::BAD_REQUEST,
        invalid(
            "Invalid type for 'temperature': invalid type: string \"hot\", expected f64.",
            Some("temperature"),
            Some("invalid_type"),
        ),
    );
    check(
        post(r#"{"model":"mock-1","messages":[{"role":"user","content":"hi"}],"stream":"yes"}"#)
            .await,
        StatusCode::BAD_REQUEST,
        invalid(
            "Invalid type for 'stream': invalid type: string \"yes\", expected a boolean.",
            Some("stream"),
            Some("invalid_type"),
        ),
    );
}

#[tokio::test]
async fn empty_messages() {
    check(
        post(r#"{"model":"mock-1","messages":[]}"#).await,
        StatusCode::BAD_REQUEST,
        invalid(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            Some("messages"),
            Some("empty_array"),
        ),
    );
}

#[tokio::test]
async fn unknown_or_disallowed_model() {
    let expected = |m: &str| {
        invalid(
            &format!("The model `{m}` does not exist or you do not have access to it."),
            Some("model"),
            Some("model_not_found"),
        )
    };
    let body = |m: &str| json!({"model": m, "messages": user("hi")}).to_string();
    check(
        post(&body("nope")).await,
        StatusCode::NOT_FOUND,
        expected("nope"),
    );
    let got = call(
        &gateway(),
        &["other-1"],
        Method::POST,
        "/v1/chat/completions",
        &body("mock-1"),
    )
    .await;
    check(got, StatusCode::NOT_FOUND, expected("mock-1"));
}

#[tokio::test]
async fn method_not_allowed() {
    let got = call(&gateway(), &[], Method::GET, "/v1/chat/completions", "").await;
    assert_eq!(header(&got.1, "allow"), Some("POST"));
    check(
        got,
        StatusCode::METHOD_NOT_ALLOWED,
        invalid(
            "Method GET is not allowed on /v1/chat/completions; use POST.",
            None,
            Some("method_not_allowed"),
        ),
    );
    let got = call(&gateway(), &[], Method::DELETE, "/v1/models/mock-1", "").await;
    assert_eq!(header(&got.1, "allow"), Some("GET"));
    assert_eq!(got.0, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn unknown_path() {
    check(
        call(&gateway(), &[], Method::POST, "/v1/audio/speech", "{}").await,
        StatusCode::NOT_FOUND,
        invalid(
            "Invalid URL (POST /v1/audio/speech)",
            None,
            Some("unknown_url"),
        ),
    );
}

#[tokio::test]
async fn injected_provider_errors() {
    let gw = gateway();
    check(
        chat(
            &gw,
            json!({"model": "mock-1", "messages": user("mock:error:429")}),
        )
        .await,
        StatusCode::TOO_MANY_REQUESTS,
        error(
            "The mock provider failed with status 429, as asked by `mock:error:429`.",
            "rate_limit_error",
            None,
            Some("rate_limit_exceeded"),
        ),
    );
    check(
        chat(
            &gw,
            json!({"model": "mock-1", "messages": user("boom mock:error:500")}),
        )
        .await,
        StatusCode::INTERNAL_SERVER_ERROR,
        error(
            "The mock provider failed with status 500, as asked by `mock:error:500`.",
            "server_error",
            None,
            None,
        ),
    );
    // Streams fail before the first chunk, so the status is still the error's.
    check(
        chat(
            &gw,
            json!({"model": "mock-1", "messages": user("mock:error:503"), "stream": true}),
        )
        .await,
        StatusCode::SERVICE_UNAVAILABLE,
        error(
            "The mock provider failed with status 503, as asked by `mock:error:503`.",
            "server_error",
            None,
            None,
        ),
    );
}

#[tokio::test]
async fn unreachable_provider() {
    check(
        chat(
            &gateway(),
            json!({"model": "gpt-x", "messages": user("hi")}),
        )
        .await,
        StatusCode::BAD_GATEWAY,
        error(
            "The provider `oai` could not be reached.",
            "server_error",
            None,
            None,
        ),
    );
}
