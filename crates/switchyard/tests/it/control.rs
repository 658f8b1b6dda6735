//! The control plane through the data plane: entities changed in the store
//! (as the admin API changes them) take effect within a second, without a
//! restart; products gate routes by subscription state.

use std::time::Duration;

use serde_json::Map;
use sy_store::{Actor, NewKey, NewResource, ResourceKind, Scopes, Store};

use crate::harness::TestGateway;

const CONFIG: &str = r#"
tenants:
  - name: acme
consumers:
  - name: web
    tenant: acme
    keys: [{ key: web-key-0123456789 }]
  - name: batch
    tenant: acme
    subscriptions: [open]
    keys: [{ key: batch-key-0123456789 }]
routes:
  - name: billing
    match: { path: { prefix: /billing } }
    policies: { key_auth: {} }
    target: { respond: { status: 200, body: billing } }
  - name: public
    match: { path: { prefix: /public } }
    policies: { key_auth: {} }
    target: { respond: { status: 200, body: public } }
  - name: status
    match: { path: { prefix: /status } }
    policies: { key_auth: {} }
    target: { respond: { status: 200, body: status } }
products:
  - name: payments
    routes: [billing]
    requires_approval: true
  - name: open
    routes: [status]
"#;

async fn call(gw: &TestGateway, path: &str, key: &str) -> (u16, String) {
    gw.get_with_key(path, key).await
}

/// Once the store's changes are applied (within a second), `path` with
/// `key` must answer `status`; returns the body.
async fn eventually(gw: &TestGateway, path: &str, key: &str, status: u16) -> String {
    eventually_says(gw, path, key, status, "").await
}

/// [`eventually`], and the body must contain `needle`.
async fn eventually_says(
    gw: &TestGateway,
    path: &str,
    key: &str,
    status: u16,
    needle: &str,
) -> String {
    let (took, body) = gw.after_sync_expect(path, key, status, needle).await;
    assert!(
        took < Duration::from_secs(1),
        "the change took {took:?} to apply"
    );
    body
}

fn store_of(gw: &TestGateway) -> &Store {
    gw.gw.as_ref().unwrap().control.as_ref().unwrap().store()
}

async fn subscriptions_gate_routes_and_changes_apply_within_a_second(backend: &str) {
    let gw = TestGateway::start(&format!("{backend}{CONFIG}")).await;
    // Routes no product lists are open to every key.
    assert_eq!(call(&gw, "/public", "web-key-0123456789").await.0, 200);
    // A gated route needs a subscription.
    let (status, body) = call(&gw, "/billing", "web-key-0123456789").await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("product `payments`") && body.contains("has none"),
        "{body}"
    );
    // The file's subscription (no approval needed) opens `status` for batch only.
    assert_eq!(call(&gw, "/status", "batch-key-0123456789").await.0, 200);
    assert_eq!(call(&gw, "/status", "web-key-0123456789").await.0, 403);

    let s = store_of(&gw);
    let admin = Actor::bootstrap();
    let tenant = s.tenant_by_name("acme").await.unwrap();
    let web = s.consumer_by_name(&tenant.id, "web").await.unwrap();
    let product = s.product_by_name("payments").await.unwrap();
    let sub = s
        .request_subscription(&admin, &web.id, &product.id)
        .await
        .unwrap();
    let body = eventually_says(&gw, "/billing", "web-key-0123456789", 403, "is pending").await;
    assert!(body.contains("product `payments`"), "{body}");
    s.approve_subscription(&admin, &sub.id, None).await.unwrap();
    assert_eq!(
        eventually(&gw, "/billing", "web-key-0123456789", 200).await,
        "billing"
    );

    s.revoke_subscription(&admin, &sub.id, Some("audit".into()), None)
        .await
        .unwrap();
    eventually_says(&gw, "/billing", "web-key-0123456789", 403, "is revoked").await;
    gw.shutdown().await;
}

async fn keys_made_and_revoked_in_the_store_work_and_stop_within_a_second(backend: &str) {
    let gw = TestGateway::start(&format!("{backend}{CONFIG}")).await;
    let s = store_of(&gw);
    let admin = Actor::bootstrap();
    let tenant = s.tenant_by_name("acme").await.unwrap();
    let web = s.consumer_by_name(&tenant.id, "web").await.unwrap();
    let (secret, key) = s
        .create_key(
            &admin,
            NewKey {
                consumer_id: web.id.clone(),
                name: "ci".into(),
                scopes: Scopes {
                    routes: vec!["public".into()],
                    models: vec![],
                },
                limits: Default::default(),
                metadata: Map::new(),
                expires_at: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(eventually(&gw, "/public", &secret, 200).await, "public");
    // The key's scopes narrow what its consumer may do.
    let body = eventually(&gw, "/status", &secret, 403).await;
    assert!(body.contains("not scoped for route `status`"), "{body}");

    s.revoke_key(&admin, &key.id).await.unwrap();
    let body = eventually(&gw, "/public", &secret, 401).await;
    assert!(body.contains("invalid API key"), "{body}");
    gw.shutdown().await;
}

async fn routes_added_to_the_store_are_served_without_a_restart(backend: &str) {
    let gw = TestGateway::start(&format!("{backend}{CONFIG}")).await;
    let s = store_of(&gw);
    assert_eq!(call(&gw, "/added", "web-key-0123456789").await.0, 404);
    s.create_resource(
        &Actor::bootstrap(),
        NewResource {
            kind: ResourceKind::Route,
            name: "added".into(),
            tenant_id: None,
            spec: serde_json::json!({
                "name": "added",
                "match": {"path": {"prefix": "/added"}},
                "target": {"respond": {"status": 200, "body": "added"}}
            }),
            secret: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        eventually(&gw, "/added", "web-key-0123456789", 200).await,
        "added"
    );
    // The file's own routes are still there, and stored entities of the
    // file are read-only.
    assert_eq!(call(&gw, "/public", "web-key-0123456789").await.0, 200);
    gw.shutdown().await;
}

crate::on_both_stores! {
    two_nodes_share_one_store => super::two_nodes_share_one_store;
    subscriptions_gate_routes_and_changes_apply_within_a_second => super::subscriptions_gate_routes_and_changes_apply_within_a_second;
    keys_made_and_revoked_in_the_store_work_and_stop_within_a_second => super::keys_made_and_revoked_in_the_store_work_and_stop_within_a_second;
    routes_added_to_the_store_are_served_without_a_restart => super::routes_added_to_the_store_are_served_without_a_restart;
}

/// Two gateways on one store (two nodes of a cluster): a key made through
/// node A's store reaches node B's data plane through the change feed, and
/// its revocation too, each within a second.
async fn two_nodes_share_one_store(backend: &str) {
    let dir = tempfile::tempdir().unwrap();
    let shared = if backend.is_empty() {
        format!("store: sqlite://{}/shared.db\n", dir.path().display())
    } else {
        backend.to_owned()
    };
    let a = TestGateway::start(&format!("{shared}{CONFIG}")).await;
    let b = TestGateway::start(&format!("{shared}{CONFIG}")).await;
    let s = store_of(&a);
    let admin = Actor::bootstrap();
    let tenant = s.tenant_by_name("acme").await.unwrap();
    let web = s.consumer_by_name(&tenant.id, "web").await.unwrap();
    let (secret, key) = s
        .create_key(
            &admin,
            NewKey {
                consumer_id: web.id.clone(),
                name: "shared".into(),
                scopes: Scopes::default(),
                limits: Default::default(),
                metadata: Map::new(),
                expires_at: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(eventually(&b, "/public", &secret, 200).await, "public");
    s.revoke_key(&admin, &key.id).await.unwrap();
    eventually(&b, "/public", &secret, 401).await;
    a.shutdown().await;
    b.shutdown().await;
}

/// A stored route the file no longer supports (its upstream is gone) does
/// not stop the gateway: it starts from the file alone, and once the
/// stored resources compile again (the upstream is added back), serves them.
#[tokio::test]
async fn broken_stored_resources_degrade_to_the_file_and_heal() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/store.db", dir.path().display());
    let store = switchyard::control::open(&url).await.unwrap();
    let route = |name: &str, upstream: &str| NewResource {
        kind: ResourceKind::Route,
        name: name.into(),
        tenant_id: None,
        spec: serde_json::json!({
            "name": name,
            "match": {"path": {"prefix": format!("/{name}")}},
            "target": {"upstream": upstream}
        }),
        secret: None,
    };
    store
        .create_resource(&Actor::bootstrap(), route("broken", "gone"))
        .await
        .unwrap();
    store.close().await;

    let gw = TestGateway::start(&format!("store: {url}\n{CONFIG}")).await;
    assert_eq!(call(&gw, "/public", "web-key-0123456789").await.0, 200);
    assert_eq!(call(&gw, "/broken", "web-key-0123456789").await.0, 404);
    store_of(&gw)
        .create_resource(
            &Actor::bootstrap(),
            NewResource {
                kind: ResourceKind::Upstream,
                name: "gone".into(),
                tenant_id: None,
                spec: serde_json::json!({"name": "gone", "targets": [{"url": "http://127.0.0.1:9"}]}),
                secret: None,
            },
        )
        .await
        .unwrap();
    // Served now: the connection to port 9 is refused, so 502, not 404.
    eventually(&gw, "/broken", "web-key-0123456789", 502).await;
    assert_eq!(call(&gw, "/public", "web-key-0123456789").await.0, 200);
    gw.shutdown().await;
}
