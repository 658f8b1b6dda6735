//! File-managed rows: API refusal and `apply_file`.

use serde_json::json;
use sy_config::LimitsSpec;
use sy_store::{
    AuditFilter, ConsumerPatch, FileConsumer, FileEntities, FileKey, FileProduct, FileResource,
    FileTenant, KeyPatch, Page, ProductPatch, ResourceKind, ResourcePatch, Store, StoreError,
    TenantPatch, Visibility, sha256_hex,
};

use crate::support::{admin, tenant};

store_tests!(apply_file_upserts_and_deletes);

fn file(rpm: u64, with_extra: bool) -> FileEntities {
    let limits = LimitsSpec {
        requests_per_minute: Some(rpm),
        ..Default::default()
    };
    let mut f = FileEntities {
        tenants: vec![FileTenant {
            name: "acme".into(),
            limits: limits.clone(),
            ..Default::default()
        }],
        consumers: vec![FileConsumer {
            tenant: "acme".into(),
            name: "app".into(),
            ..Default::default()
        }],
        keys: vec![FileKey {
            tenant: "acme".into(),
            consumer: "app".into(),
            name: "file-key".into(),
            sha256: sha256_hex("sk-sy-from-file"),
            ..Default::default()
        }],
        products: vec![FileProduct {
            tenant: None,
            name: "gold".into(),
            description: String::new(),
            docs: String::new(),
            visibility: Visibility::Public,
            routes: vec![],
            models: vec!["gpt".into()],
            requires_approval: false,
        }],
        resources: vec![FileResource {
            kind: ResourceKind::Provider,
            name: "openai".into(),
            tenant: None,
            spec: json!({"name": "openai", "kind": "openai", "api_key": "${OPENAI_API_KEY}"}),
        }],
    };
    if with_extra {
        f.tenants.push(FileTenant {
            name: "extra".into(),
            ..Default::default()
        });
        f.consumers.push(FileConsumer {
            tenant: "extra".into(),
            name: "x".into(),
            ..Default::default()
        });
    }
    f
}

async fn apply_file_upserts_and_deletes(store: Store) {
    let r = store.apply_file(&file(10, true)).await.unwrap();
    assert_eq!((r.created, r.updated, r.deleted, r.unchanged), (7, 0, 0, 0));
    let acme = store.tenant_by_name("acme").await.unwrap();
    assert!(acme.file_managed);
    assert_eq!(acme.limits.requests_per_minute, Some(10));
    let key = store
        .key_by_hash(&sha256_hex("sk-sy-from-file"))
        .await
        .unwrap()
        .unwrap();
    assert!(key.file_managed);
    assert_eq!(store.load_active_keys().await.unwrap().len(), 1);

    // The API refuses to change or delete file-managed rows.
    let refuse = |r: Result<(), StoreError>| match r {
        Err(e @ StoreError::FileManaged { .. }) => assert_eq!(e.status(), 409),
        other => panic!("expected FileManaged, got {other:?}"),
    };
    refuse(
        store
            .update_tenant(&admin(), &acme.id, TenantPatch::default(), None)
            .await
            .map(drop),
    );
    refuse(store.delete_tenant(&admin(), &acme.id, None).await);
    let app = store.consumer_by_name(&acme.id, "app").await.unwrap();
    refuse(
        store
            .update_consumer(&admin(), &app.id, ConsumerPatch::default(), None)
            .await
            .map(drop),
    );
    refuse(store.delete_consumer(&admin(), &app.id, None).await);
    refuse(
        store
            .update_key(&admin(), &key.id, KeyPatch::default(), None)
            .await
            .map(drop),
    );
    refuse(store.revoke_key(&admin(), &key.id).await.map(drop));
    let gold = store.product_by_name("gold").await.unwrap();
    refuse(
        store
            .update_product(&admin(), &gold.id, ProductPatch::default(), None)
            .await
            .map(drop),
    );
    let openai = store
        .resource_by_name(ResourceKind::Provider, "openai")
        .await
        .unwrap();
    refuse(
        store
            .update_resource(&admin(), &openai.id, ResourcePatch::default(), None)
            .await
            .map(drop),
    );
    refuse(store.delete_resource(&admin(), &openai.id, None).await);

    // Applying the same file again writes nothing.
    let head = store.head().await.unwrap();
    let r = store.apply_file(&file(10, true)).await.unwrap();
    assert_eq!((r.created, r.updated, r.deleted, r.unchanged), (0, 0, 0, 7));
    assert_eq!(store.head().await.unwrap(), head);
    assert_eq!(store.tenant_by_name("acme").await.unwrap().version, 1);

    // An API-made tenant is left alone; a changed limit updates one row; the
    // dropped tenant and its consumer are deleted.
    let api = tenant(&store, "api-made").await;
    let r = store.apply_file(&file(20, false)).await.unwrap();
    assert_eq!((r.created, r.updated, r.deleted, r.unchanged), (0, 1, 2, 4));
    let acme2 = store.tenant_by_name("acme").await.unwrap();
    assert_eq!(
        (acme2.version, acme2.limits.requests_per_minute),
        (2, Some(20))
    );
    assert!(store.tenant_by_name("extra").await.is_err());
    assert_eq!(store.get_tenant(&api.id).await.unwrap(), api);

    let by_file = store
        .list_audit(&AuditFilter::default(), &Page::first(500))
        .await
        .unwrap();
    let file_entries = by_file.items.iter().filter(|e| e.actor == "file").count();
    assert_eq!(file_entries, 7 + 1 + 2);

    // An empty file removes every file-managed row.
    let r = store.apply_file(&FileEntities::default()).await.unwrap();
    assert_eq!(r.deleted, 5);
    assert!(store.load_active_keys().await.unwrap().is_empty());
    assert!(store.product_by_name("gold").await.is_err());
    assert!(store.tenant_by_name("api-made").await.is_ok());

    // A file naming a tenant that does not exist fails as a whole.
    let mut bad = file(1, false);
    bad.tenants.clear();
    let head = store.head().await.unwrap();
    assert!(matches!(
        store.apply_file(&bad).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(store.head().await.unwrap(), head);
}
