//! The audit log and the change feed.

use std::time::Duration;

use sy_store::{
    Actor, AuditFilter, NewKey, NewResource, NewTenant, NewUser, Page, ResourceKind, Role, Store,
    TenantPatch, sha256_hex,
};

use crate::support::{admin, consumer, tenant};

store_tests!(
    audit_records_every_mutation_without_secrets,
    change_feed_is_complete
);

async fn audit_records_every_mutation_without_secrets(store: Store) {
    let t = tenant(&store, "acme").await;
    let patch = TenantPatch {
        display_name: Some("ACME".into()),
        ..Default::default()
    };
    store
        .update_tenant(&admin(), &t.id, patch, None)
        .await
        .unwrap();
    let entries = store
        .list_audit(
            &AuditFilter {
                entity_id: Some(t.id.clone()),
                ..Default::default()
            },
            &Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(entries.items.len(), 2);
    let (create, update) = (&entries.items[0], &entries.items[1]);
    assert_eq!(
        (
            create.action.as_str(),
            create.kind.as_str(),
            create.actor.as_str()
        ),
        ("create", "tenant", "admin-1")
    );
    assert_eq!(create.before, None);
    assert_eq!(create.after.as_ref().unwrap()["name"], "acme");
    assert_eq!(update.action, "update");
    assert_eq!(update.before.as_ref().unwrap()["display_name"], "acme");
    assert_eq!(update.after.as_ref().unwrap()["display_name"], "ACME");
    assert_eq!(update.after.as_ref().unwrap()["version"], 2);
    assert_eq!(update.tenant_id.as_deref(), Some(t.id.as_str()));

    // A failed mutation leaves no audit entry and no change.
    let head = store.head().await.unwrap();
    let before = store
        .list_audit(&AuditFilter::default(), &Page::first(500))
        .await
        .unwrap()
        .items
        .len();
    assert!(
        store
            .create_tenant(
                &admin(),
                NewTenant {
                    name: "acme".into(),
                    ..Default::default()
                }
            )
            .await
            .is_err()
    );
    assert_eq!(store.head().await.unwrap(), head);
    let after = store
        .list_audit(&AuditFilter::default(), &Page::first(500))
        .await
        .unwrap()
        .items
        .len();
    assert_eq!(before, after);

    // Secrets of every kind never reach the log.
    let password = "pa55-word-secret";
    let user = NewUser {
        username: "alice".into(),
        password: password.into(),
        role: Role::TenantAdmin,
        tenant_id: Some(t.id.clone()),
    };
    let u = store.create_user(&admin(), user).await.unwrap();
    let (token, _) = store
        .create_session(&u.id, Duration::from_secs(60))
        .await
        .unwrap();
    store.delete_session(&token).await.unwrap();
    let c = consumer(&store, &t.id, "app").await;
    let (secret, key) = store
        .create_key(
            &admin(),
            NewKey {
                consumer_id: c.id.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    store.revoke_key(&admin(), &key.id).await.unwrap();
    let credential = "sk-provider-credential";
    let provider = NewResource {
        kind: ResourceKind::Provider,
        name: "openai".into(),
        tenant_id: None,
        spec: serde_json::json!({"name": "openai", "kind": "openai"}),
        secret: Some(credential.into()),
    };
    store.create_resource(&admin(), provider).await.unwrap();

    let all = store
        .list_audit(&AuditFilter::default(), &Page::first(500))
        .await
        .unwrap();
    let text = serde_json::to_string(&all.items).unwrap();
    for needle in [
        password,
        "argon2",
        &secret,
        &sha256_hex(&secret),
        &token,
        &sha256_hex(&token),
        credential,
        "v1:",
    ] {
        assert!(!text.contains(needle), "audit log contains {needle:?}");
    }
    let actions: Vec<&str> = all.items.iter().map(|e| e.action.as_str()).collect();
    for a in ["create", "update", "login", "logout", "revoke"] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    let login = all.items.iter().find(|e| e.action == "login").unwrap();
    assert_eq!(login.actor, u.id);

    let by_kind = AuditFilter {
        kind: Some("api_key".into()),
        ..Default::default()
    };
    let keys = store.list_audit(&by_kind, &Page::default()).await.unwrap();
    assert_eq!(keys.items.len(), 2);
    let by_tenant = AuditFilter {
        tenant_id: Some(t.id.clone()),
        ..Default::default()
    };
    let tenant_entries = store
        .list_audit(&by_tenant, &Page::first(500))
        .await
        .unwrap();
    assert!(
        tenant_entries
            .items
            .iter()
            .all(|e| e.tenant_id.as_deref() == Some(t.id.as_str()))
    );
    assert!(tenant_entries.items.len() >= 7);
}

async fn change_feed_is_complete(store: Store) {
    assert_eq!(store.head().await.unwrap(), 0);
    assert!(store.changes_since(0, 10).await.unwrap().is_empty());
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(tenant(&store, &format!("t{i}")).await.id);
    }
    let patch = TenantPatch {
        display_name: Some("x".into()),
        ..Default::default()
    };
    store
        .update_tenant(&Actor::bootstrap(), &ids[3], patch, None)
        .await
        .unwrap();
    store
        .delete_tenant(&Actor::bootstrap(), &ids[5], None)
        .await
        .unwrap();

    let head = store.head().await.unwrap();
    let mut all = Vec::new();
    let mut cursor = 0;
    loop {
        let batch = store.changes_since(cursor, 5).await.unwrap();
        let Some(last) = batch.last() else { break };
        cursor = last.seq;
        all.extend(batch);
    }
    assert_eq!(all.len(), 14);
    assert_eq!(all.last().unwrap().seq, head);
    assert!(
        all.windows(2).all(|w| w[0].seq < w[1].seq),
        "strictly increasing"
    );
    let entity_ids: Vec<&str> = all.iter().map(|c| c.entity_id.as_str()).collect();
    let mut expected: Vec<&str> = ids.iter().map(String::as_str).collect();
    expected.push(&ids[3]);
    expected.push(&ids[5]);
    assert_eq!(entity_ids, expected);
    assert!(all.iter().all(|c| c.kind == "tenant" && c.at > 0));
    assert_eq!(store.changes_since(head, 10).await.unwrap(), vec![]);

    // Concurrent writers: every change lands once, in commit order.
    let mut tasks = Vec::new();
    for i in 0..16 {
        let s = store.clone();
        tasks.push(tokio::spawn(
            async move { tenant(&s, &format!("c{i}")).await },
        ));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let tail = store.changes_since(head, 100).await.unwrap();
    assert_eq!(tail.len(), 16);
    assert!(tail.windows(2).all(|w| w[0].seq < w[1].seq));
}
