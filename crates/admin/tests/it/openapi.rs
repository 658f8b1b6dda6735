//! The OpenAPI document: valid JSON, version 3.1, and exactly the routes
//! the router serves.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::{BOOT, env};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Every endpoint the API must have; a handler missing from both the
/// router and the document would otherwise go unnoticed.
const EXPECTED: [&str; 27] = [
    "/admin/v1/openapi.json",
    "/admin/v1/login",
    "/admin/v1/logout",
    "/admin/v1/me",
    "/admin/v1/tenants",
    "/admin/v1/tenants/{id}",
    "/admin/v1/users",
    "/admin/v1/users/{id}",
    "/admin/v1/consumers",
    "/admin/v1/consumers/{id}",
    "/admin/v1/keys",
    "/admin/v1/keys/{id}",
    "/admin/v1/keys/{id}/revoke",
    "/admin/v1/products",
    "/admin/v1/products/{id}",
    "/admin/v1/subscriptions",
    "/admin/v1/subscriptions/pending",
    "/admin/v1/subscriptions/{id}",
    "/admin/v1/subscriptions/{id}/approve",
    "/admin/v1/subscriptions/{id}/reject",
    "/admin/v1/subscriptions/{id}/revoke",
    "/admin/v1/audit",
    "/admin/v1/routes",
    "/admin/v1/routes/{name}",
    "/admin/v1/upstreams",
    "/admin/v1/providers",
    "/admin/v1/models",
];

#[tokio::test]
async fn document_is_openapi_3_1_and_matches_the_router() {
    let e = env().await;
    let r = e
        .call(Method::GET, "/admin/v1/openapi.json", None, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.body;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    for p in EXPECTED {
        assert!(paths.contains_key(p), "document lacks {p}");
    }
    // Walk every documented path and method against the router: documented
    // ones are served (not the fallback's 404 or 405), others are 405.
    for (path, item) in paths {
        let concrete = path
            .replace("{id}", "00000000-0000-0000-0000-000000000000")
            .replace("{name}", "x");
        for m in METHODS {
            let method = Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
            let r = e.call(method, &concrete, Some(BOOT), None).await;
            if item.get(m).is_some() {
                assert_ne!(
                    r.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{m} {path} documented, not routed"
                );
                let unrouted = r.status == StatusCode::NOT_FOUND
                    && r.body["error"]["message"]
                        .as_str()
                        .unwrap_or("")
                        .starts_with("no admin endpoint");
                assert!(!unrouted, "{m} {path} documented, not routed");
                let declared = item[m]["responses"].get(r.status.as_str()).is_some();
                assert!(
                    declared,
                    "{m} {path} answered undeclared {}: {}",
                    r.status, r.body
                );
            } else {
                assert_eq!(
                    r.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{m} {path} routed, not documented"
                );
            }
        }
    }
}

#[tokio::test]
async fn document_declares_errors_security_and_schemas() {
    let doc: Value = serde_json::to_value(sy_admin::openapi()).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "ErrorBody",
        "LimitsSpec",
        "RouteSpec",
        "ProviderSpec",
        "Tenant",
        "ApiKey",
        "CreatedKey",
    ] {
        assert!(schemas.contains_key(name), "{name} missing");
    }
    // Every $ref resolves.
    let text = doc.to_string();
    for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &part[..part.find('"').unwrap()];
        assert!(schemas.contains_key(name), "dangling $ref {name}");
    }
    // Inputs refuse unknown fields.
    assert_eq!(schemas["NewConsumerBody"]["additionalProperties"], false);
    let patch = &doc["paths"]["/admin/v1/tenants/{id}"]["patch"];
    for status in [
        "401", "403", "404", "409", "412", "413", "415", "422", "400",
    ] {
        assert!(
            patch["responses"].get(status).is_some(),
            "PATCH tenant lacks {status}"
        );
    }
    assert!(
        patch["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "If-Match")
    );
    assert!(
        doc["paths"]["/admin/v1/openapi.json"]["get"]["security"][0]
            .as_object()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}
