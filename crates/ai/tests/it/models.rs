//! `GET /v1/models` and `GET /v1/models/{id}`.

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

fn ids(list: &Value) -> Vec<&str> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn list_every_model() {
    let gw = gateway();
    let (status, headers, body) = call(&gw, &[], Method::GET, "/v1/models", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    let list = json_of(&body);
    assert_eq!(list["object"], "list");
    assert_eq!(ids(&list), vec!["mock-1", "other-1", "slow-1", "gpt-x"]);
    assert_eq!(
        zero_created(list["data"][0].clone()),
        json!({"id": "mock-1", "object": "model", "created": 0, "owned_by": "mock"})
    );
}

#[tokio::test]
async fn list_only_allowed_models() {
    let gw = gateway();
    let (_, _, body) = call(
        &gw,
        &["other-1", "not-configured"],
        Method::GET,
        "/v1/models",
        "",
    )
    .await;
    assert_eq!(ids(&json_of(&body)), vec!["other-1"]);
}

#[tokio::test]
async fn get_one() {
    let gw = gateway();
    let (status, _, body) = call(&gw, &[], Method::GET, "/v1/models/slow-1", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        zero_created(json_of(&body)),
        json!({"id": "slow-1", "object": "model", "created": 0, "owned_by": "slow"})
    );
}

#[tokio::test]
async fn get_hidden_or_missing_is_404() {
    let gw = gateway();
    let expected = |id: &str| {
        json!({"error": {
            "message": format!("The model `{id}` does not exist or you do not have access to it."),
            "type": "invalid_request_error", "param": "model", "code": "model_not_found"
        }})
    };
    let (status, _, body) = call(&gw, &["mock-1"], Method::GET, "/v1/models/other-1", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json_of(&body), expected("other-1"));
    let (status, _, body) = call(&gw, &[], Method::GET, "/v1/models/org%2Fnope", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json_of(&body), expected("org/nope"));
}
