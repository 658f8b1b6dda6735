//! The admin REST API on the admin listener, driving the data plane over
//! real sockets: the approval workflow end to end, key revocation, and
//! tenant isolation between the data plane's keys.

use std::time::Duration;

use serde_json::{Value, json};
use sy_store::{Actor, NewUser, Role};

use crate::harness::TestGateway;

const CONFIG: &str = r#"
tenants:
  - name: acme
  - name: globex
routes:
  - name: billing
    match: { path: { prefix: /billing } }
    policies: { key_auth: {} }
    target: { respond: { status: 200, body: billing } }
products:
  - name: payments
    routes: [billing]
    requires_approval: true
"#;

struct Admin {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Admin {
    /// Log `username` in (created in the store with `role`).
    async fn login(gw: &TestGateway, username: &str, role: Role, tenant: Option<&str>) -> Admin {
        let store = gw.gw.as_ref().unwrap().control.as_ref().unwrap().store();
        let tenant_id = match tenant {
            Some(t) => Some(store.tenant_by_name(t).await.unwrap().id),
            None => None,
        };
        store
            .create_user(
                &Actor::bootstrap(),
                NewUser {
                    username: username.into(),
                    password: "correct horse battery staple".into(),
                    role,
                    tenant_id,
                },
            )
            .await
            .unwrap();
        let http = reqwest::Client::new();
        let res = http
            .post(format!("{}/admin/v1/login", gw.admin))
            .json(&json!({"username": username, "password": "correct horse battery staple"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        Admin {
            base: format!("{}/admin/v1", gw.admin),
            token: body["token"].as_str().unwrap().to_owned(),
            http,
        }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }
}

/// Once the store's changes are applied, `/billing` with `key` must answer
/// `status` with `needle`; returns how long applying took.
async fn eventually(gw: &TestGateway, key: &str, status: u16, needle: &str) -> Duration {
    gw.after_sync_expect("/billing", key, status, needle)
        .await
        .0
}

async fn approval_workflow_end_to_end_through_the_data_plane(store: &str) {
    let gw = TestGateway::start(&format!("{store}{CONFIG}")).await;
    let platform = Admin::login(&gw, "root", Role::PlatformAdmin, None).await;
    let owner = Admin::login(&gw, "acme-admin", Role::TenantAdmin, Some("acme")).await;
    let dev = Admin::login(&gw, "dev", Role::Developer, Some("acme")).await;

    // The tenant's admin registers the application; its developer makes a
    // key for it.
    let (status, me) = dev.get("/me").await;
    assert_eq!(status, 200, "{me}");
    let tenant_id = me["tenant_id"].as_str().unwrap().to_owned();
    let (status, consumer) = owner
        .post(
            "/consumers",
            json!({"tenant_id": tenant_id, "name": "shop"}),
        )
        .await;
    assert_eq!(status, 201, "{consumer}");
    let consumer_id = consumer["id"].as_str().unwrap().to_owned();
    let (status, created) = dev
        .post("/keys", json!({"consumer_id": consumer_id, "name": "prod"}))
        .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();

    // The key works, but the product needs a subscription.
    eventually(&gw, &secret, 403, "has none").await;

    // Request: pending, and the data plane says so.
    let (_, products) = dev.get("/products").await;
    let product_id = products["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "payments")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, sub) = dev
        .post(
            "/subscriptions",
            json!({"consumer_id": consumer_id, "product_id": product_id}),
        )
        .await;
    assert_eq!(status, 201, "{sub}");
    assert_eq!(sub["state"], "pending");
    let sub_id = sub["id"].as_str().unwrap().to_owned();
    eventually(&gw, &secret, 403, "is pending").await;

    // A developer cannot approve; the platform admin sees it pending and does.
    let (status, _) = dev
        .post(&format!("/subscriptions/{sub_id}/approve"), json!({}))
        .await;
    assert_eq!(status, 403);
    let (status, pending) = platform.get("/subscriptions/pending").await;
    assert_eq!(status, 200);
    assert!(
        pending["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == sub_id.as_str())
    );
    let (status, approved) = platform
        .post(&format!("/subscriptions/{sub_id}/approve"), json!({}))
        .await;
    assert_eq!(status, 200, "{approved}");
    let took = eventually(&gw, &secret, 200, "billing").await;
    assert!(
        took < Duration::from_secs(1),
        "approval took {took:?} to reach the data plane"
    );

    // Revoke: 403 again within a second.
    let (status, _) = platform
        .post(
            &format!("/subscriptions/{sub_id}/revoke"),
            json!({"reason": "contract ended"}),
        )
        .await;
    assert_eq!(status, 200);
    let took = eventually(&gw, &secret, 403, "is revoked").await;
    assert!(took < Duration::from_secs(1), "revocation took {took:?}");

    // Revoking the key stops it within a second.
    let key_id = created["key"]["id"].as_str().unwrap();
    // Its developer can stop a leaked key.
    let (status, _) = dev.post(&format!("/keys/{key_id}/revoke"), json!({})).await;
    assert_eq!(status, 200);
    let took = eventually(&gw, &secret, 401, "invalid API key").await;
    assert!(
        took < Duration::from_secs(1),
        "key revocation took {took:?}"
    );

    // Every step is in the audit log with its actor.
    let (status, audit) = platform.get("/audit?limit=100").await;
    assert_eq!(status, 200);
    let actions: Vec<String> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["kind"].as_str().unwrap_or(""),
                e["action"].as_str().unwrap_or("")
            )
        })
        .collect();
    for needed in [
        "subscription approve",
        "subscription revoke",
        "api_key revoke",
    ] {
        assert!(
            actions.iter().any(|a| a == needed),
            "no `{needed}` in {actions:?}"
        );
    }
    gw.shutdown().await;
}

async fn tenants_cannot_see_each_other_through_the_api(store: &str) {
    let gw = TestGateway::start(&format!("{store}{CONFIG}")).await;
    let acme = Admin::login(&gw, "acme-admin", Role::TenantAdmin, Some("acme")).await;
    let globex = Admin::login(&gw, "globex-admin", Role::TenantAdmin, Some("globex")).await;
    let (_, me) = acme.get("/me").await;
    let acme_tenant = me["tenant_id"].as_str().unwrap().to_owned();
    let (status, consumer) = acme
        .post(
            "/consumers",
            json!({"tenant_id": acme_tenant, "name": "secret-app"}),
        )
        .await;
    assert_eq!(status, 201, "{consumer}");
    let id = consumer["id"].as_str().unwrap();
    // Globex's admin gets 404 for Acme's consumer and never lists it.
    let (status, _) = globex.get(&format!("/consumers/{id}")).await;
    assert_eq!(status, 404);
    let (status, list) = globex
        .get(&format!("/consumers?tenant_id={acme_tenant}"))
        .await;
    assert!(status == 200 || status == 404, "{status} {list}");
    if status == 200 {
        assert!(list["items"].as_array().unwrap().is_empty(), "{list}");
    }
    let (status, _) = globex
        .post("/keys", json!({"consumer_id": id, "name": "stolen"}))
        .await;
    assert!(status == 404 || status == 403, "{status}");
    gw.shutdown().await;
}

async fn the_openapi_document_is_served_without_auth(store: &str) {
    let gw = TestGateway::start(&format!("{store}{CONFIG}")).await;
    let res = reqwest::get(format!("{}/admin/v1/openapi.json", gw.admin))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert!(doc["paths"]["/admin/v1/subscriptions/{id}/approve"].is_object());
    // The operational endpoints still answer beside the API.
    let res = reqwest::get(format!("{}/healthz", gw.admin)).await.unwrap();
    assert_eq!(res.status(), 200);
    gw.shutdown().await;
}

const TWO_TENANTS: &str = r#"
tenants:
  - name: acme
  - name: globex
routes:
  - name: internal
    match: { path: { prefix: /internal } }
    policies: { key_auth: {} }
    target: { respond: { status: 200, body: internal } }
products:
  - name: globex-internal
    tenant: globex
    visibility: tenant
    routes: [internal]
consumers:
  - name: a-app
    tenant: acme
    keys: [{ key: acme-key-0123456789 }]
  - name: g-app
    tenant: globex
    subscriptions: [globex-internal]
    keys: [{ key: globex-key-0123456789 }]
"#;

async fn tenant_products_stay_closed_to_other_tenants(backend: &str) {
    let gw = TestGateway::start(&format!("{backend}{TWO_TENANTS}")).await;
    let get = |key: &'static str| {
        let url = format!("{}/internal", gw.base);
        async move {
            let res = reqwest::Client::new()
                .get(url)
                .bearer_auth(key)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            (status, res.text().await.unwrap())
        }
    };
    assert_eq!(
        get("globex-key-0123456789").await,
        (200, "internal".to_owned())
    );
    let (status, body) = get("acme-key-0123456789").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("globex-internal"), "{body}");

    // Acme's admin cannot see Globex's tenant-only product, nor subscribe to it.
    let acme = Admin::login(&gw, "acme-admin", Role::TenantAdmin, Some("acme")).await;
    let (status, list) = acme.get("/products").await;
    assert_eq!(status, 200);
    assert!(
        !list.to_string().contains("globex-internal"),
        "a tenant-only product leaked: {list}"
    );
    let store = gw.gw.as_ref().unwrap().control.as_ref().unwrap().store();
    let product = store.product_by_name("globex-internal").await.unwrap();
    let acme_tenant = store.tenant_by_name("acme").await.unwrap();
    let a_app = store
        .consumer_by_name(&acme_tenant.id, "a-app")
        .await
        .unwrap();
    let (status, body) = acme
        .post(
            "/subscriptions",
            json!({"consumer_id": a_app.id, "product_id": product.id}),
        )
        .await;
    assert!(matches!(status, 404 | 422), "{status} {body}");
    let (_, body) = get("acme-key-0123456789").await;
    assert!(body.contains("has none"), "{body}");
    gw.shutdown().await;
}

async fn resources_that_would_break_the_configuration_are_refused(backend: &str) {
    let gw = TestGateway::start(&format!("{backend}{CONFIG}")).await;
    let root = Admin::login(&gw, "root", Role::PlatformAdmin, None).await;
    // A route to an upstream that does not exist: 422 naming the field.
    let (status, body) = root
        .post(
            "/routes",
            json!({"name": "orphan", "match": {"path": {"prefix": "/orphan"}},
                   "target": {"upstream": "nowhere"}}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("target.upstream"), "{body}");
    // With its upstream first, the same route is accepted and served.
    let (status, body) = root
        .post(
            "/upstreams",
            json!({"name": "somewhere", "targets": [{"url": "http://127.0.0.1:9"}]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = root
        .post(
            "/routes",
            json!({"name": "orphan", "match": {"path": {"prefix": "/orphan"}},
                   "target": {"upstream": "somewhere"}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // Served (a refused connection: 502), not 404: the checks' own store
    // reads never swallow a recompile.
    gw.synced().await;
    let res = reqwest::get(format!("{}/orphan", gw.base)).await.unwrap();
    assert_eq!(res.status(), 502);
    // The upstream cannot be deleted while the route uses it.
    let (status, body) = root
        .send(reqwest::Method::DELETE, "/upstreams/somewhere", None)
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("somewhere"), "{body}");
    gw.shutdown().await;
}

crate::on_both_stores! {
    resources_that_would_break_the_configuration_are_refused => super::resources_that_would_break_the_configuration_are_refused;
    tenant_products_stay_closed_to_other_tenants => super::tenant_products_stay_closed_to_other_tenants;
    approval_workflow_end_to_end_through_the_data_plane => super::approval_workflow_end_to_end_through_the_data_plane;
    tenants_cannot_see_each_other_through_the_api => super::tenants_cannot_see_each_other_through_the_api;
    the_openapi_document_is_served_without_auth => super::the_openapi_document_is_served_without_auth;
}
