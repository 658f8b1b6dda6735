//! The role matrix, and isolation: tenant A's users against every endpoint
//! of tenant B (404 for entities, filtered lists), over a real socket.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{BOOT, Env, env};

struct World {
    e: Env,
    a: String,
    a_admin: String,
    a_dev: String,
    a_consumer: String,
    b: String,
    b_user: String,
    b_consumer: String,
    b_key: String,
    b_product: String,
    b_sub: String,
}

async fn world() -> World {
    let e = env().await;
    let a = e.tenant("tenant-a").await;
    let b = e.tenant("tenant-b").await;
    let a_admin = e.login_as("a-admin", "tenant_admin", Some(&a)).await;
    let a_dev = e.login_as("a-dev", "developer", Some(&a)).await;
    let b_user = e
        .create("/admin/v1/users", json!({"username": "b-admin", "password": "long-enough", "role": "tenant_admin", "tenant_id": b}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a_consumer = e.consumer(&a, "a-app").await;
    let b_consumer = e.consumer(&b, "b-app").await;
    let b_key = e
        .create(
            "/admin/v1/keys",
            json!({"consumer_id": b_consumer, "name": "bk"}),
        )
        .await["key"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b_product = e
        .create(
            "/admin/v1/products",
            json!({"tenant_id": b, "name": "b-gold", "visibility": "tenant"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b_sub = e
        .create(
            "/admin/v1/subscriptions",
            json!({"consumer_id": b_consumer, "product_id": b_product}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    World {
        e,
        a,
        a_admin,
        a_dev,
        a_consumer,
        b,
        b_user,
        b_consumer,
        b_key,
        b_product,
        b_sub,
    }
}

fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn tenant_a_cannot_reach_tenant_b() {
    let w = world().await;
    let e = &w.e;
    let entity_calls: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/admin/v1/tenants/{}", w.b), None),
        (
            Method::PATCH,
            format!("/admin/v1/tenants/{}", w.b),
            Some(json!({"display_name": "x"})),
        ),
        (Method::DELETE, format!("/admin/v1/tenants/{}", w.b), None),
        (Method::GET, format!("/admin/v1/users/{}", w.b_user), None),
        (
            Method::PATCH,
            format!("/admin/v1/users/{}", w.b_user),
            Some(json!({"disabled": true})),
        ),
        (
            Method::DELETE,
            format!("/admin/v1/users/{}", w.b_user),
            None,
        ),
        (
            Method::GET,
            format!("/admin/v1/consumers/{}", w.b_consumer),
            None,
        ),
        (
            Method::PATCH,
            format!("/admin/v1/consumers/{}", w.b_consumer),
            Some(json!({"description": "x"})),
        ),
        (
            Method::DELETE,
            format!("/admin/v1/consumers/{}", w.b_consumer),
            None,
        ),
        (Method::GET, format!("/admin/v1/keys/{}", w.b_key), None),
        (
            Method::PATCH,
            format!("/admin/v1/keys/{}", w.b_key),
            Some(json!({"name": "x"})),
        ),
        (
            Method::POST,
            format!("/admin/v1/keys/{}/revoke", w.b_key),
            None,
        ),
        (Method::DELETE, format!("/admin/v1/keys/{}", w.b_key), None),
        (
            Method::GET,
            format!("/admin/v1/products/{}", w.b_product),
            None,
        ),
        (
            Method::PATCH,
            format!("/admin/v1/products/{}", w.b_product),
            Some(json!({"docs": "x"})),
        ),
        (
            Method::DELETE,
            format!("/admin/v1/products/{}", w.b_product),
            None,
        ),
        (
            Method::GET,
            format!("/admin/v1/subscriptions/{}", w.b_sub),
            None,
        ),
        (
            Method::POST,
            format!("/admin/v1/subscriptions/{}/approve", w.b_sub),
            None,
        ),
        (
            Method::POST,
            format!("/admin/v1/subscriptions/{}/reject", w.b_sub),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/admin/v1/subscriptions/{}/revoke", w.b_sub),
            Some(json!({})),
        ),
        (
            Method::DELETE,
            format!("/admin/v1/subscriptions/{}", w.b_sub),
            None,
        ),
        (
            Method::POST,
            "/admin/v1/consumers".into(),
            Some(json!({"tenant_id": w.b, "name": "sneak"})),
        ),
        (
            Method::POST,
            "/admin/v1/keys".into(),
            Some(json!({"consumer_id": w.b_consumer, "name": "sneak"})),
        ),
        (
            Method::POST,
            "/admin/v1/subscriptions".into(),
            Some(json!({"consumer_id": w.b_consumer, "product_id": w.b_product})),
        ),
        (
            Method::POST,
            "/admin/v1/subscriptions".into(),
            Some(json!({"consumer_id": w.a_consumer, "product_id": w.b_product})),
        ),
    ];
    for token in [&w.a_admin, &w.a_dev] {
        for (method, path, body) in &entity_calls {
            let r = e
                .call(method.clone(), path, Some(token), body.clone())
                .await;
            assert_eq!(
                r.status,
                StatusCode::NOT_FOUND,
                "{method} {path}: {}",
                r.body
            );
        }
        // Lists never show B, whatever the filter.
        for path in [
            "/admin/v1/tenants".to_owned(),
            format!("/admin/v1/consumers?tenant_id={}", w.b),
            "/admin/v1/consumers".to_owned(),
            format!("/admin/v1/keys?tenant_id={}", w.b),
            format!("/admin/v1/keys?consumer_id={}", w.b_consumer),
            format!("/admin/v1/subscriptions?tenant_id={}", w.b),
            "/admin/v1/subscriptions".to_owned(),
            format!("/admin/v1/products?tenant_id={}", w.b),
            "/admin/v1/products".to_owned(),
        ] {
            let r = e.call(Method::GET, &path, Some(token), None).await;
            assert_eq!(r.status, StatusCode::OK, "{path}");
            let text = r.body.to_string();
            for secret in [&w.b, &w.b_consumer, &w.b_key, &w.b_product, &w.b_sub] {
                assert!(
                    !text.contains(secret.as_str()),
                    "{path} leaks {secret}: {text}"
                );
            }
        }
    }
    for path in [
        format!("/admin/v1/users?tenant_id={}", w.b),
        format!("/admin/v1/audit?tenant_id={}", w.b),
        "/admin/v1/audit".to_owned(),
        "/admin/v1/users".to_owned(),
    ] {
        let r = e.call(Method::GET, &path, Some(&w.a_admin), None).await;
        assert_eq!(r.status, StatusCode::OK);
        let text = r.body.to_string();
        assert!(
            !text.contains(&w.b_user) && !text.contains(&w.b_consumer),
            "{path}: {text}"
        );
    }
    let r = e
        .call(Method::GET, "/admin/v1/tenants", Some(&w.a_dev), None)
        .await;
    let names: Vec<Value> = items(&r.body).iter().map(|t| t["name"].clone()).collect();
    assert_eq!(names, [json!("tenant-a")]);
    // B is untouched.
    let r = e
        .call(
            Method::GET,
            &format!("/admin/v1/subscriptions/{}", w.b_sub),
            Some(BOOT),
            None,
        )
        .await;
    assert_eq!(r.body["state"], "pending");
}

#[tokio::test]
async fn role_matrix() {
    let w = world().await;
    let e = &w.e;
    let a_c = format!("/admin/v1/consumers/{}", w.a_consumer);
    // (token, method, path, body, expected status)
    let cases: Vec<(&str, Method, String, Option<Value>, StatusCode)> = vec![
        // Tenants: platform only writes; members read their own.
        (
            &w.a_admin,
            Method::POST,
            "/admin/v1/tenants".into(),
            Some(json!({"name": "new"})),
            StatusCode::FORBIDDEN,
        ),
        (
            &w.a_admin,
            Method::PATCH,
            format!("/admin/v1/tenants/{}", w.a),
            Some(json!({})),
            StatusCode::FORBIDDEN,
        ),
        (
            &w.a_dev,
            Method::GET,
            format!("/admin/v1/tenants/{}", w.a),
            None,
            StatusCode::OK,
        ),
        // Users: admins of the tenant; never platform admins.
        (
            &w.a_admin,
            Method::POST,
            "/admin/v1/users".into(),
            Some(json!({"username": "boss", "password": "long-enough", "role": "platform_admin"})),
            StatusCode::FORBIDDEN,
        ),
        (
            &w.a_admin,
            Method::POST,
            "/admin/v1/users".into(),
            Some(json!({"username": "new-dev", "password": "long-enough", "role": "developer"})),
            StatusCode::CREATED,
        ),
        (
            &w.a_dev,
            Method::GET,
            "/admin/v1/users".into(),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            &w.a_dev,
            Method::POST,
            "/admin/v1/users".into(),
            Some(json!({"username": "x", "password": "long-enough", "role": "developer"})),
            StatusCode::FORBIDDEN,
        ),
        // Consumers: developers read, admins write.
        (&w.a_dev, Method::GET, a_c.clone(), None, StatusCode::OK),
        (
            &w.a_dev,
            Method::PATCH,
            a_c.clone(),
            Some(json!({"description": "x"})),
            StatusCode::FORBIDDEN,
        ),
        (
            &w.a_dev,
            Method::POST,
            "/admin/v1/consumers".into(),
            Some(json!({"name": "c2"})),
            StatusCode::FORBIDDEN,
        ),
        (
            &w.a_admin,
            Method::PATCH,
            a_c.clone(),
            Some(json!({"description": "x"})),
            StatusCode::OK,
        ),
        (
            &w.a_admin,
            Method::POST,
            "/admin/v1/consumers".into(),
            Some(json!({"name": "c2"})),
            StatusCode::CREATED,
        ),
        // Keys: developers create and revoke their tenant's keys.
        (
            &w.a_dev,
            Method::POST,
            "/admin/v1/keys".into(),
            Some(json!({"consumer_id": w.a_consumer, "name": "dk"})),
            StatusCode::CREATED,
        ),
        // Products: tenant admins write their tenant's; developers read.
        (
            &w.a_dev,
            Method::POST,
            "/admin/v1/products".into(),
            Some(json!({"name": "p1"})),
            StatusCode::FORBIDDEN,
        ),
        (
            &w.a_admin,
            Method::POST,
            "/admin/v1/products".into(),
            Some(json!({"name": "a-private", "visibility": "private"})),
            StatusCode::CREATED,
        ),
        // Resources: platform admins write, everyone reads.
        (
            &w.a_admin,
            Method::POST,
            "/admin/v1/upstreams".into(),
            Some(json!({"name": "u", "targets": [{"url": "http://127.0.0.1:1"}]})),
            StatusCode::FORBIDDEN,
        ),
        (
            &w.a_dev,
            Method::GET,
            "/admin/v1/routes".into(),
            None,
            StatusCode::OK,
        ),
        // Audit: admins only.
        (
            &w.a_dev,
            Method::GET,
            "/admin/v1/audit".into(),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            &w.a_admin,
            Method::GET,
            "/admin/v1/audit".into(),
            None,
            StatusCode::OK,
        ),
    ];
    for (token, method, path, body, want) in cases {
        let r = e.call(method.clone(), &path, Some(token), body).await;
        assert_eq!(r.status, want, "{method} {path}: {}", r.body);
    }
    // A developer can revoke a key of their tenant (a leaked key must stop
    // at once), but cannot delete it; revoking twice changes nothing.
    let keys = e
        .call(Method::GET, "/admin/v1/keys", Some(&w.a_dev), None)
        .await;
    let dk = items(&keys.body)[0]["id"].as_str().unwrap().to_owned();
    let r = e
        .call(
            Method::POST,
            &format!("/admin/v1/keys/{dk}/revoke"),
            Some(&w.a_dev),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = e
        .call(
            Method::DELETE,
            &format!("/admin/v1/keys/{dk}"),
            Some(&w.a_dev),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = e
        .call(
            Method::POST,
            &format!("/admin/v1/keys/{dk}/revoke"),
            Some(&w.a_admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // Private products: the owner tenant's admins see them, developers do not.
    let r = e
        .call(
            Method::GET,
            "/admin/v1/products?name=a-private",
            Some(&w.a_admin),
            None,
        )
        .await;
    assert_eq!(items(&r.body).len(), 1);
    let id = items(&r.body)[0]["id"].as_str().unwrap().to_owned();
    let r = e
        .call(
            Method::GET,
            &format!("/admin/v1/products/{id}"),
            Some(&w.a_dev),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = e
        .call(
            Method::GET,
            "/admin/v1/products?name=a-private",
            Some(&w.a_dev),
            None,
        )
        .await;
    assert!(items(&r.body).is_empty());
}
