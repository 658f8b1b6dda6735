//! Client mistakes: each gets its status and the one error shape.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{BOOT, env};

#[tokio::test]
async fn body_mistakes_get_400_413_415_422() {
    let e = env().await;
    let t = e.tenant("acme").await;
    let path = "/admin/v1/consumers";
    let r = e
        .raw(
            Method::POST,
            path,
            Some("application/json"),
            b"{\"name\": ".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error_type(), "bad_request");
    let r = e
        .raw(Method::POST, path, Some("text/plain"), b"{}".to_vec())
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = e.raw(Method::POST, path, None, b"{}".to_vec()).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let big = format!(
        "{{\"tenant_id\":\"{t}\",\"name\":\"a\",\"description\":\"{}\"}}",
        "x".repeat(1 << 20)
    );
    let r = e
        .raw(
            Method::POST,
            path,
            Some("application/json"),
            big.into_bytes(),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.error_type(), "payload_too_large");

    // Wrong type deep inside: the path names the field.
    let r = e
        .call(
            Method::POST,
            path,
            Some(BOOT),
            Some(json!({"tenant_id": t, "name": "a", "limits": {"requests_per_minute": "x"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.body,
        json!({"error": {"type": "validation_error",
            "message": "limits.requests_per_minute: invalid type: string \"x\", expected u64",
            "fields": [{"field": "limits.requests_per_minute",
                        "message": "invalid type: string \"x\", expected u64"}]}})
    );
    // Unknown field.
    let r = e
        .call(
            Method::POST,
            path,
            Some(BOOT),
            Some(json!({"tenant_id": t, "name": "a", "x": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body["error"]["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `x`")
    );
    // Out of range: every problem at once.
    let r = e
        .call(
            Method::POST,
            path,
            Some(BOOT),
            Some(
                json!({"tenant_id": t, "name": "x".repeat(65), "description": "d".repeat(4097),
                        "metadata": {"k": "v".repeat(17 * 1024)},
                        "limits": {"spend_per_day": "-1"}}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = r.body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["name", "description", "limits.spend_per_day", "metadata"]
    );
    // A JSON array is not an object.
    let r = e
        .call(Method::POST, path, Some(BOOT), Some(json!([1])))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A bad key scope name names its index.
    let c = e.consumer(&t, "app").await;
    let r = e
        .call(
            Method::POST,
            "/admin/v1/keys",
            Some(BOOT),
            Some(json!({"consumer_id": c, "name": "k", "scopes": {"routes": ["ok", "not ok"]}})),
        )
        .await;
    assert_eq!(r.body["error"]["fields"][0]["field"], "scopes.routes[1]");
}

#[tokio::test]
async fn unknown_routes_methods_and_tokens() {
    let e = env().await;
    let r = e
        .call(Method::GET, "/admin/v1/nope", Some(BOOT), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error_type(), "not_found");
    let r = e.call(Method::GET, "/elsewhere", None, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = e
        .call(
            Method::PUT,
            "/admin/v1/tenants",
            Some(BOOT),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.error_type(), "method_not_allowed");

    let r = e.call(Method::GET, "/admin/v1/tenants", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers.get("www-authenticate").unwrap(), "Bearer");
    let r = e
        .call(Method::GET, "/admin/v1/tenants", Some("wrong"), None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = e
        .call(
            Method::POST,
            "/admin/v1/login",
            None,
            Some(json!({"username": "x", "password": "y"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = e
        .call(Method::GET, "/admin/v1/openapi.json", None, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn login_me_logout() {
    let e = env().await;
    let t = e.tenant("acme").await;
    let token = e.login_as("alice", "tenant_admin", Some(&t)).await;
    let r = e
        .call(Method::GET, "/admin/v1/me", Some(&token), None)
        .await;
    assert_eq!(r.body["role"], "tenant_admin");
    assert_eq!(r.body["tenant_id"], t.as_str());
    assert_eq!(r.body["user"]["username"], "alice");
    assert!(r.body["user"].get("password").is_none() && !r.body.to_string().contains("argon2"));
    let r = e.call(Method::GET, "/admin/v1/me", Some(BOOT), None).await;
    assert_eq!(r.body["id"], "bootstrap");
    assert!(r.body["user"].is_null());
    let r = e
        .call(Method::POST, "/admin/v1/logout", Some(&token), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = e
        .call(Method::GET, "/admin/v1/me", Some(&token), None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
