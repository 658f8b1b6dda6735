//! Tenants and consumers: CRUD, conflicts, versions, cascades.

use sy_config::LimitsSpec;
use sy_store::{
    ConsumerFilter, ConsumerPatch, KeyFilter, NewConsumer, NewKey, NewTenant, Page, Store,
    StoreError, TenantPatch,
};

use crate::support::{admin, consumer, tenant};

store_tests!(
    tenant_crud,
    tenant_rules,
    consumer_crud,
    tenant_delete_cascades
);

async fn tenant_crud(store: Store) {
    let limits = LimitsSpec {
        requests_per_minute: Some(60),
        ..Default::default()
    };
    let new = NewTenant {
        name: "acme".into(),
        display_name: "ACME Inc".into(),
        limits: limits.clone(),
        ..NewTenant::default()
    };
    let t = store.create_tenant(&admin(), new).await.unwrap();
    assert_eq!(t.version, 1);
    assert!(!t.file_managed);
    assert_eq!(store.get_tenant(&t.id).await.unwrap(), t);
    assert_eq!(store.tenant_by_name("acme").await.unwrap(), t);
    assert_eq!(store.get_tenant(&t.id).await.unwrap().limits, limits);

    let patch = TenantPatch {
        display_name: Some("ACME".into()),
        ..Default::default()
    };
    let u = store
        .update_tenant(&admin(), &t.id, patch.clone(), Some(1))
        .await
        .unwrap();
    assert_eq!((u.version, u.display_name.as_str()), (2, "ACME"));
    assert_eq!(u.limits, limits, "fields not in the patch are kept");
    let stale = store
        .update_tenant(&admin(), &t.id, patch.clone(), Some(1))
        .await;
    assert!(matches!(
        stale,
        Err(StoreError::VersionMismatch { current: 2 })
    ));
    let unconditional = store
        .update_tenant(&admin(), &t.id, patch, None)
        .await
        .unwrap();
    assert_eq!(unconditional.version, 3);

    let stale = store.delete_tenant(&admin(), &t.id, Some(2)).await;
    assert!(matches!(
        stale,
        Err(StoreError::VersionMismatch { current: 3 })
    ));
    store.delete_tenant(&admin(), &t.id, Some(3)).await.unwrap();
    assert!(matches!(
        store.get_tenant(&t.id).await,
        Err(StoreError::NotFound { .. })
    ));
    let gone = store.delete_tenant(&admin(), &t.id, None).await;
    assert_eq!(gone.unwrap_err().status(), 404);
}

async fn tenant_rules(store: Store) {
    tenant(&store, "acme").await;
    let dup = store
        .create_tenant(
            &admin(),
            NewTenant {
                name: "acme".into(),
                ..Default::default()
            },
        )
        .await;
    match dup {
        Err(StoreError::Conflict { kind, field, value }) => {
            assert_eq!((kind, field, value.as_str()), ("tenant", "name", "acme"));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    for bad in ["", "Acme", "-acme", "a_b", &"a".repeat(64)] {
        let r = store
            .create_tenant(
                &admin(),
                NewTenant {
                    name: bad.into(),
                    ..Default::default()
                },
            )
            .await;
        assert!(matches!(r, Err(StoreError::Invalid(_))), "{bad:?}");
    }
    let neg: LimitsSpec = serde_json::from_str(r#"{"spend_per_day":"-1"}"#).unwrap();
    let r = store
        .create_tenant(
            &admin(),
            NewTenant {
                name: "neg".into(),
                limits: neg,
                ..Default::default()
            },
        )
        .await;
    assert!(matches!(r, Err(StoreError::Invalid(_))));
}

async fn consumer_crud(store: Store) {
    let a = tenant(&store, "a").await;
    let b = tenant(&store, "b").await;
    let c = consumer(&store, &a.id, "app").await;
    // Names are unique per tenant only.
    let other = consumer(&store, &b.id, "app").await;
    let dup = store
        .create_consumer(
            &admin(),
            NewConsumer {
                tenant_id: a.id.clone(),
                name: "app".into(),
                ..Default::default()
            },
        )
        .await;
    assert!(matches!(
        dup,
        Err(StoreError::Conflict {
            kind: "consumer",
            ..
        })
    ));
    let orphan = store
        .create_consumer(
            &admin(),
            NewConsumer {
                tenant_id: "nope".into(),
                name: "x".into(),
                ..Default::default()
            },
        )
        .await;
    assert!(matches!(
        orphan,
        Err(StoreError::NotFound { kind: "tenant", .. })
    ));

    assert_eq!(store.get_consumer(&c.id).await.unwrap(), c);
    assert_eq!(store.consumer_by_name(&b.id, "app").await.unwrap(), other);
    let f = ConsumerFilter {
        tenant_id: Some(a.id.clone()),
        ..Default::default()
    };
    let listed = store.list_consumers(&f, &Page::default()).await.unwrap();
    assert_eq!(listed.items, vec![c.clone()]);

    let patch = ConsumerPatch {
        description: Some("the app".into()),
        ..Default::default()
    };
    let u = store
        .update_consumer(&admin(), &c.id, patch, Some(1))
        .await
        .unwrap();
    assert_eq!((u.version, u.description.as_str()), (2, "the app"));
    let stale = store.delete_consumer(&admin(), &c.id, Some(1)).await;
    assert!(matches!(
        stale,
        Err(StoreError::VersionMismatch { current: 2 })
    ));
    store
        .delete_consumer(&admin(), &c.id, Some(2))
        .await
        .unwrap();
    assert!(store.get_consumer(&c.id).await.is_err());
}

async fn tenant_delete_cascades(store: Store) {
    let t = tenant(&store, "acme").await;
    let c = consumer(&store, &t.id, "app").await;
    let (_, key) = store
        .create_key(
            &admin(),
            NewKey {
                consumer_id: c.id.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let head = store.head().await.unwrap();
    store.delete_tenant(&admin(), &t.id, None).await.unwrap();
    assert!(store.get_consumer(&c.id).await.is_err());
    assert!(store.get_key(&key.id).await.is_err());
    let keys = store
        .list_keys(
            &KeyFilter {
                include_revoked: true,
                ..Default::default()
            },
            &Page::default(),
        )
        .await
        .unwrap();
    assert!(keys.items.is_empty());
    // Only the tenant's delete is recorded.
    let changes = store.changes_since(head, 100).await.unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(
        (changes[0].kind.as_str(), changes[0].entity_id.as_str()),
        ("tenant", t.id.as_str())
    );
}
