//! The subscription workflow, and audit entries with their actor.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{BOOT, env};

#[tokio::test]
async fn request_pending_approve_reject_revoke() {
    let e = env().await;
    let t = e.tenant("acme").await;
    let admin = e.login_as("ann", "tenant_admin", Some(&t)).await;
    let dev = e.login_as("dev", "developer", Some(&t)).await;
    let c = e.consumer(&t, "app").await;
    let gold = e
        .create(
            "/admin/v1/products",
            json!({"tenant_id": t, "name": "gold"}),
        )
        .await;
    let silver = e
        .create(
            "/admin/v1/products",
            json!({"tenant_id": t, "name": "silver"}),
        )
        .await;
    let open = e
        .create(
            "/admin/v1/products",
            json!({"tenant_id": t, "name": "open", "requires_approval": false}),
        )
        .await;

    // The developer requests; the subscription waits.
    let req = |p: &serde_json::Value| json!({"consumer_id": c, "product_id": p["id"]});
    let r = e
        .call(
            Method::POST,
            "/admin/v1/subscriptions",
            Some(&dev),
            Some(req(&gold)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["state"], "pending");
    let sub = r.body["id"].as_str().unwrap().to_owned();
    let r = e
        .call(
            Method::POST,
            "/admin/v1/subscriptions",
            Some(&dev),
            Some(req(&silver)),
        )
        .await;
    let sub2 = r.body["id"].as_str().unwrap().to_owned();
    let r = e
        .call(
            Method::POST,
            "/admin/v1/subscriptions",
            Some(&dev),
            Some(req(&open)),
        )
        .await;
    assert_eq!(r.body["state"], "approved", "no approval needed");
    let r = e
        .call(
            Method::POST,
            "/admin/v1/subscriptions",
            Some(&dev),
            Some(req(&gold)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "already pending");

    // Developers do not approve, nor see the approver's list.
    let r = e
        .call(
            Method::GET,
            "/admin/v1/subscriptions/pending",
            Some(&dev),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = e
        .call(
            Method::POST,
            &format!("/admin/v1/subscriptions/{sub}/approve"),
            Some(&dev),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = e
        .call(
            Method::GET,
            "/admin/v1/subscriptions/pending",
            Some(&admin),
            None,
        )
        .await;
    let ids: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [sub.as_str(), sub2.as_str()]);

    let r = e
        .send(
            Method::POST,
            &format!("/admin/v1/subscriptions/{sub}/approve"),
            Some(&admin),
            None,
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["state"], "approved");
    assert_eq!(r.etag(), "\"2\"");
    let r = e
        .call(
            Method::POST,
            &format!("/admin/v1/subscriptions/{sub2}/reject"),
            Some(&admin),
            Some(json!({"reason": "not for you"})),
        )
        .await;
    assert_eq!(r.body["state"], "rejected");
    assert_eq!(r.body["reason"], "not for you");

    // Invalid transitions are 409.
    let r = e
        .call(
            Method::POST,
            &format!("/admin/v1/subscriptions/{sub2}/approve"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = e
        .call(
            Method::POST,
            &format!("/admin/v1/subscriptions/{sub}/reject"),
            Some(&admin),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    let r = e
        .call(
            Method::POST,
            &format!("/admin/v1/subscriptions/{sub}/revoke"),
            Some(&admin),
            Some(json!({"reason": "abuse"})),
        )
        .await;
    assert_eq!(r.body["state"], "revoked");
    let r = e
        .call(
            Method::GET,
            "/admin/v1/subscriptions/pending",
            Some(&admin),
            None,
        )
        .await;
    assert!(r.body["items"].as_array().unwrap().is_empty());
    let r = e
        .call(
            Method::GET,
            "/admin/v1/subscriptions?state=revoked",
            Some(&dev),
            None,
        )
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);

    // The audit log names who did each step.
    let me = e
        .call(Method::GET, "/admin/v1/me", Some(&admin), None)
        .await;
    let admin_id = me.body["id"].as_str().unwrap();
    let r = e
        .call(
            Method::GET,
            &format!("/admin/v1/audit?kind=subscription&entity_id={sub}"),
            Some(&admin),
            None,
        )
        .await;
    let steps: Vec<(String, String)> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap().to_owned(),
                a["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let actions: Vec<&str> = steps.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(actions, ["create", "approve", "revoke"]);
    assert_eq!(steps[1].1, admin_id);
    let r = e
        .call(Method::GET, "/admin/v1/audit?kind=tenant", Some(BOOT), None)
        .await;
    assert_eq!(r.body["items"][0]["actor"], "bootstrap");
}
