//! CRUD per entity, pagination, ETag and If-Match, secrets shown once,
//! file-managed entities.

use reqwest::{Method, StatusCode};
use serde_json::json;
use sy_store::{FileEntities, FileTenant};

use crate::{BOOT, backends, env, env_on};

#[tokio::test]
async fn tenant_crud_with_etags_and_if_match() {
    for backend in backends() {
        let e = env_on(backend).await;
        let before = e.change_count();
        let r = e
            .call(
                Method::POST,
                "/admin/v1/tenants",
                Some(BOOT),
                Some(json!({"name": "acme", "limits": {"requests_per_minute": 60}})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        assert_eq!(r.etag(), "\"1\"");
        assert_eq!(r.body["display_name"], "acme");
        let id = r.body["id"].as_str().unwrap().to_owned();
        assert!(e.change_count() > before, "on_change runs after a mutation");

        let path = format!("/admin/v1/tenants/{id}");
        let r = e.call(Method::GET, &path, Some(BOOT), None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.etag(), "\"1\"");
        assert_eq!(r.body["limits"]["requests_per_minute"], 60);

        let patch = json!({"display_name": "Acme Inc"});
        let r = e
            .send(
                Method::PATCH,
                &path,
                Some(BOOT),
                Some(patch.clone()),
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.etag(), "\"2\"");
        assert_eq!(r.body["display_name"], "Acme Inc");

        // A stale If-Match is 412 with the current version.
        let r = e
            .send(
                Method::PATCH,
                &path,
                Some(BOOT),
                Some(patch.clone()),
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
        assert_eq!(r.body["error"]["current_version"], 2);
        let r = e
            .send(
                Method::DELETE,
                &path,
                Some(BOOT),
                None,
                &[("if-match", "W/\"2\"")],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::PRECONDITION_FAILED,
            "weak tags never match"
        );
        // No If-Match: last write wins.
        let r = e.call(Method::PATCH, &path, Some(BOOT), Some(patch)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.etag(), "\"3\"");

        let r = e
            .call(
                Method::POST,
                "/admin/v1/tenants",
                Some(BOOT),
                Some(json!({"name": "acme"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);

        let r = e
            .send(
                Method::DELETE,
                &path,
                Some(BOOT),
                None,
                &[("if-match", "\"3\"")],
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        let r = e.call(Method::GET, &path, Some(BOOT), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.error_type(), "not_found");
    }
}

#[tokio::test]
async fn pagination_walks_every_row_once() {
    let e = env().await;
    for i in 0..7 {
        e.tenant(&format!("t{i}")).await;
    }
    e.tenant("other").await;
    let mut names = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut path = "/admin/v1/tenants?limit=3&name=t".to_owned();
        if let Some(a) = &after {
            path.push_str(&format!("&after={a}"));
        }
        let r = e.call(Method::GET, &path, Some(BOOT), None).await;
        assert_eq!(r.status, StatusCode::OK);
        let items = r.body["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        names.extend(items.iter().map(|t| t["name"].as_str().unwrap().to_owned()));
        match r.body["next"].as_str() {
            Some(n) => after = Some(n.to_owned()),
            None => {
                assert!(r.body["next"].is_null());
                break;
            }
        }
    }
    assert_eq!(names, ["t0", "t1", "t2", "t3", "t4", "t5", "t6"]);
    let r = e
        .call(Method::GET, "/admin/v1/tenants?limit=0", Some(BOOT), None)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["fields"][0]["field"], "limit");
    let r = e
        .call(Method::GET, "/admin/v1/tenants?limit=abc", Some(BOOT), None)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = e
        .call(Method::GET, "/admin/v1/tenants?bogus=1", Some(BOOT), None)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn consumers_keys_and_the_secret_shown_once() {
    let e = env().await;
    let t = e.tenant("acme").await;
    let c = e.consumer(&t, "app").await;
    let r = e
        .call(
            Method::PATCH,
            &format!("/admin/v1/consumers/{c}"),
            Some(BOOT),
            Some(json!({"description": "the app", "metadata": {"team": "x"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["description"], "the app");

    let r = e
        .call(
            Method::POST,
            "/admin/v1/keys",
            Some(BOOT),
            Some(json!({"consumer_id": c, "name": "k1", "scopes": {"models": ["gpt"]}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("sk-sy-"));
    let key = r.body["key"].clone();
    assert!(secret.starts_with(key["prefix"].as_str().unwrap()));
    let id = key["id"].as_str().unwrap().to_owned();

    let path = format!("/admin/v1/keys/{id}");
    let r = e.call(Method::GET, &path, Some(BOOT), None).await;
    let text = r.body.to_string();
    assert!(!text.contains(&secret), "GET never shows the secret");
    assert!(r.body.get("secret").is_none() && r.body.get("hash").is_none());
    let list = e
        .call(
            Method::GET,
            &format!("/admin/v1/keys?consumer_id={c}"),
            Some(BOOT),
            None,
        )
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert!(!list.body.to_string().contains(&secret));

    let r = e
        .call(
            Method::PATCH,
            &path,
            Some(BOOT),
            Some(json!({"expires_at": 4102444800000_i64})),
        )
        .await;
    assert_eq!(r.body["expires_at"], 4102444800000_i64);
    let r = e
        .call(
            Method::PATCH,
            &path,
            Some(BOOT),
            Some(json!({"expires_at": null})),
        )
        .await;
    assert!(r.body["expires_at"].is_null());

    let r = e
        .call(Method::POST, &format!("{path}/revoke"), Some(BOOT), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body["revoked_at"].is_i64());
    let list = e
        .call(Method::GET, "/admin/v1/keys", Some(BOOT), None)
        .await;
    assert!(
        list.body["items"].as_array().unwrap().is_empty(),
        "revoked keys are hidden"
    );
    let list = e
        .call(
            Method::GET,
            "/admin/v1/keys?include_revoked=true",
            Some(BOOT),
            None,
        )
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);

    let r = e
        .call(
            Method::DELETE,
            &format!("/admin/v1/consumers/{c}"),
            Some(BOOT),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn products_crud() {
    let e = env().await;
    let t = e.tenant("acme").await;
    let p = e
        .create(
            "/admin/v1/products",
            json!({"tenant_id": t, "name": "gold", "visibility": "public", "models": ["gpt"]}),
        )
        .await;
    assert_eq!(p["requires_approval"], true);
    let path = format!("/admin/v1/products/{}", p["id"].as_str().unwrap());
    let r = e
        .call(
            Method::PATCH,
            &path,
            Some(BOOT),
            Some(json!({"requires_approval": false})),
        )
        .await;
    assert_eq!(r.body["requires_approval"], false);
    let r = e
        .call(
            Method::GET,
            "/admin/v1/products?visibility=public",
            Some(BOOT),
            None,
        )
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    let r = e
        .call(
            Method::GET,
            "/admin/v1/products?visibility=private",
            Some(BOOT),
            None,
        )
        .await;
    assert!(r.body["items"].as_array().unwrap().is_empty());
    assert_eq!(
        e.call(Method::DELETE, &path, Some(BOOT), None).await.status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn resources_validate_specs_and_redact_credentials() {
    let e = env().await;
    let r = e
        .call(
            Method::POST,
            "/admin/v1/providers",
            Some(BOOT),
            Some(json!({"name": "oa", "kind": "openai", "api_key": "sk-live-123"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["spec"]["api_key"], "<redacted>");
    assert_eq!(r.body["has_secret"], true);
    assert_eq!(
        e.store.provider_secret("oa").await.unwrap().as_deref(),
        Some("sk-live-123")
    );

    let r = e
        .call(Method::GET, "/admin/v1/providers/oa", Some(BOOT), None)
        .await;
    assert!(!r.body.to_string().contains("sk-live-123"));
    assert_eq!(r.etag(), "\"1\"");
    // Round trip of the redacted spec keeps the credential.
    let spec = r.body["spec"].clone();
    let r = e
        .send(
            Method::PUT,
            "/admin/v1/providers/oa",
            Some(BOOT),
            Some(spec),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        e.store.provider_secret("oa").await.unwrap().as_deref(),
        Some("sk-live-123")
    );
    let list = e
        .call(Method::GET, "/admin/v1/providers", Some(BOOT), None)
        .await;
    assert!(!list.body.to_string().contains("sk-live-123"));
    let audit = e
        .call(
            Method::GET,
            "/admin/v1/audit?kind=provider",
            Some(BOOT),
            None,
        )
        .await;
    assert!(
        !audit.body.to_string().contains("sk-live-123"),
        "audit never has the secret"
    );

    let r = e
        .call(
            Method::POST,
            "/admin/v1/providers",
            Some(BOOT),
            Some(json!({"name": "bad", "kind": "openai", "timeout": 5})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["fields"][0]["field"], "timeout");
    let r = e
        .call(
            Method::PUT,
            "/admin/v1/providers/oa",
            Some(BOOT),
            Some(json!({"name": "renamed", "kind": "openai"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = e
        .call(
            Method::POST,
            "/admin/v1/models",
            Some(BOOT),
            Some(json!({"name": "m", "nope": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field")
    );
    assert_eq!(
        e.call(Method::DELETE, "/admin/v1/providers/oa", Some(BOOT), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        e.call(Method::GET, "/admin/v1/providers/oa", Some(BOOT), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn file_managed_entities_are_read_only() {
    let e = env().await;
    let file = FileEntities {
        tenants: vec![FileTenant {
            name: "filed".into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    e.store.apply_file(&file).await.unwrap();
    let t = e.store.tenant_by_name("filed").await.unwrap();
    let path = format!("/admin/v1/tenants/{}", t.id);
    let r = e.call(Method::GET, &path, Some(BOOT), None).await;
    assert_eq!(r.body["file_managed"], true);
    let r = e
        .call(
            Method::PATCH,
            &path,
            Some(BOOT),
            Some(json!({"display_name": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("configuration file")
    );
    let r = e.call(Method::DELETE, &path, Some(BOOT), None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}
