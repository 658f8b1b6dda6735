//! Regressions for what schemathesis found against the served OpenAPI
//! document (tests/e2e/test_admin_schemathesis.py): one test per class.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{BOOT, env, env_without_secrets};

/// serde reads a struct from an array of its fields; a field documented as
/// an object must refuse one, at any depth, naming the field.
#[tokio::test]
async fn arrays_where_objects_are_documented_are_422() {
    let e = env().await;
    let t = e.tenant("acme").await;
    let c = e.consumer(&t, "app").await;
    let cases: [(Method, String, Value, &str); 5] = [
        (
            Method::POST,
            "/admin/v1/tenants".into(),
            json!({"name": "other", "limits": [null, null]}),
            "limits",
        ),
        (
            Method::POST,
            "/admin/v1/consumers".into(),
            json!({"tenant_id": t, "name": "b", "limits": [null, null]}),
            "limits",
        ),
        (
            Method::PATCH,
            format!("/admin/v1/consumers/{c}"),
            json!({"limits": [null]}),
            "limits",
        ),
        (
            Method::POST,
            "/admin/v1/keys".into(),
            json!({"consumer_id": c, "name": "k", "scopes": [["r"]]}),
            "scopes",
        ),
        (
            Method::POST,
            "/admin/v1/upstreams".into(),
            json!({"name": "u", "targets": [{"url": "http://127.0.0.1:9"}],
                   "health_check": [null]}),
            "health_check",
        ),
    ];
    for (method, path, body, field) in cases {
        let r = e.call(method.clone(), &path, Some(BOOT), Some(body)).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{method} {path}: {}",
            r.body
        );
        assert_eq!(r.body["error"]["fields"][0]["field"], field, "{}", r.body);
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("invalid type: sequence"),
            "{}",
            r.body
        );
    }
    // Nothing was changed by the refused writes.
    let r = e
        .call(
            Method::GET,
            &format!("/admin/v1/consumers/{c}"),
            Some(BOOT),
            None,
        )
        .await;
    assert_eq!(r.body["version"], 1);
}

/// A literal provider credential on a gateway without a secret key was a
/// 500 (the store's crypto error); it is the `api_key` value this gateway
/// cannot keep, so a 422 saying what to send instead.
#[tokio::test]
async fn literal_credentials_without_a_secret_key_are_422() {
    let e = env_without_secrets().await;
    let r = e
        .call(
            Method::POST,
            "/admin/v1/providers",
            Some(BOOT),
            Some(json!({"name": "p", "kind": "openai", "api_key": "sk-literal"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["error"]["fields"][0]["field"], "api_key");
    // A reference needs no key; replacing it with a literal is refused too.
    e.create(
        "/admin/v1/providers",
        json!({"name": "p", "kind": "openai", "api_key": "${OPENAI_KEY}"}),
    )
    .await;
    let r = e
        .call(
            Method::PUT,
            "/admin/v1/providers/p",
            Some(BOOT),
            Some(json!({"name": "p", "kind": "openai", "api_key": "sk-literal"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["error"]["fields"][0]["field"], "api_key");
}

/// The served document links each creation to the operations on what it
/// made, with OpenAPI's key names (utoipa writes `operation_id`), so
/// stateful generators can follow them.
#[tokio::test]
async fn served_links_use_openapi_names() {
    let e = env().await;
    let r = e
        .call(Method::GET, "/admin/v1/openapi.json", None, None)
        .await;
    let links = &r.body["paths"]["/admin/v1/consumers"]["post"]["responses"]["201"]["links"];
    assert_eq!(
        links["get_consumer"]["operationId"], "get_consumer",
        "{links}"
    );
    assert_eq!(
        links["get_consumer"]["parameters"]["id"],
        "$response.body#/id"
    );
    assert!(!r.body.to_string().contains("\"operation_id\""));
}
