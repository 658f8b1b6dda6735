//! Resources, provider secrets and the SecretBox.

use serde_json::json;
use sy_store::{
    NewResource, Page, ResourceFilter, ResourceKind, ResourcePatch, SecretBox, Store, StoreError,
};

use crate::support::{admin, test_box};

store_tests!(
    resource_crud,
    provider_secrets_and_rotation,
    secrets_need_a_key
);

fn provider(name: &str, secret: Option<&str>) -> NewResource {
    NewResource {
        kind: ResourceKind::Provider,
        name: name.into(),
        tenant_id: None,
        spec: json!({"name": name, "kind": "openai"}),
        secret: secret.map(Into::into),
    }
}

async fn resource_crud(store: Store) {
    let model = NewResource {
        kind: ResourceKind::Model,
        name: "gpt".into(),
        tenant_id: None,
        spec: json!({"name": "gpt", "deployments": [{"provider": "openai", "model": "gpt-4o"}]}),
        secret: None,
    };
    let m = store
        .create_resource(&admin(), model.clone())
        .await
        .unwrap();
    let p = store
        .create_resource(&admin(), provider("openai", None))
        .await
        .unwrap();
    assert_eq!(store.get_resource(&m.id).await.unwrap(), m);
    assert_eq!(
        store
            .resource_by_name(ResourceKind::Provider, "openai")
            .await
            .unwrap(),
        p
    );
    let dup = store.create_resource(&admin(), model.clone()).await;
    assert!(matches!(
        dup,
        Err(StoreError::Conflict { kind: "model", .. })
    ));
    // Same name, other kind: fine.
    let mut as_provider = provider("gpt", None);
    as_provider.spec = json!({"name": "gpt", "kind": "mock"});
    store.create_resource(&admin(), as_provider).await.unwrap();

    let bad = NewResource {
        spec: json!({"name": "gpt", "nonsense": 1}),
        ..model.clone()
    };
    assert!(matches!(
        store.create_resource(&admin(), bad).await,
        Err(StoreError::Invalid(_))
    ));
    let misnamed = NewResource {
        name: "other".into(),
        ..model.clone()
    };
    assert!(matches!(
        store.create_resource(&admin(), misnamed).await,
        Err(StoreError::Invalid(_))
    ));
    let mut inline = provider("leaky", None);
    inline.spec = json!({"name": "leaky", "kind": "openai", "api_key": "sk-live-123"});
    assert!(matches!(
        store.create_resource(&admin(), inline).await,
        Err(StoreError::Invalid(_))
    ));
    let mut model_secret = model.clone();
    model_secret.name = "m2".into();
    model_secret.spec["name"] = json!("m2");
    model_secret.secret = Some("x".into());
    assert!(matches!(
        store.create_resource(&admin(), model_secret).await,
        Err(StoreError::Invalid(_))
    ));

    let f = ResourceFilter {
        kind: Some(ResourceKind::Provider),
        ..Default::default()
    };
    assert_eq!(
        store
            .list_resources(&f, &Page::default())
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    let f = ResourceFilter {
        name_prefix: Some("gp".into()),
        ..Default::default()
    };
    assert_eq!(
        store
            .list_resources(&f, &Page::default())
            .await
            .unwrap()
            .items
            .len(),
        2
    );

    let spec = json!({"name": "gpt", "deployments": [{"provider": "openai", "model": "gpt-4.1"}]});
    let patch = ResourcePatch {
        spec: Some(spec.clone()),
        secret: None,
    };
    let m2 = store
        .update_resource(&admin(), &m.id, patch, Some(1))
        .await
        .unwrap();
    assert_eq!((m2.version, &m2.spec), (2, &spec));
    let stale = store.delete_resource(&admin(), &m.id, Some(1)).await;
    assert!(matches!(
        stale,
        Err(StoreError::VersionMismatch { current: 2 })
    ));
    store
        .delete_resource(&admin(), &m.id, Some(2))
        .await
        .unwrap();
    assert!(store.get_resource(&m.id).await.is_err());
}

async fn provider_secrets_and_rotation(store: Store) {
    let p = store
        .create_resource(&admin(), provider("openai", Some("sk-live-123")))
        .await
        .unwrap();
    assert!(p.has_secret);
    assert_eq!(
        store.provider_secret("openai").await.unwrap().as_deref(),
        Some("sk-live-123")
    );
    // Stored only as ciphertext under the store's key.
    let row: (String,) = sqlx::query_as("SELECT secret FROM resources WHERE id = $1")
        .bind(&p.id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(row.0.starts_with(&format!("v1:{}:", test_box().key_id())));
    assert!(!row.0.contains("sk-live-123"));
    assert!(!serde_json::to_string(&p).unwrap().contains("sk-live"));

    let none = store
        .create_resource(&admin(), provider("plain", None))
        .await
        .unwrap();
    assert!(!none.has_secret);
    assert_eq!(store.provider_secret("plain").await.unwrap(), None);

    let patch = ResourcePatch {
        spec: None,
        secret: Some(Some("sk-live-456".into())),
    };
    store
        .update_resource(&admin(), &p.id, patch, None)
        .await
        .unwrap();
    assert_eq!(
        store.provider_secret("openai").await.unwrap().as_deref(),
        Some("sk-live-456")
    );

    let new_box = SecretBox::from_key_bytes([9; 32]);
    assert_eq!(
        store
            .rotate_secrets(&admin(), &test_box(), &new_box)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .rotate_secrets(&admin(), &test_box(), &new_box)
            .await
            .unwrap(),
        0,
        "done"
    );
    // The old key no longer opens it; the new one does.
    assert!(matches!(
        store.provider_secret("openai").await,
        Err(StoreError::Crypto(_))
    ));
    let rotated = store.clone().with_secrets(new_box);
    assert_eq!(
        rotated.provider_secret("openai").await.unwrap().as_deref(),
        Some("sk-live-456")
    );
    assert_eq!(rotated.get_resource(&p.id).await.unwrap().version, 3);

    let patch = ResourcePatch {
        spec: None,
        secret: Some(None),
    };
    let cleared = rotated
        .update_resource(&admin(), &p.id, patch, None)
        .await
        .unwrap();
    assert!(!cleared.has_secret);
    assert_eq!(rotated.provider_secret("openai").await.unwrap(), None);
}

async fn secrets_need_a_key(store: Store) {
    // Same database, no SecretBox.
    let keyless = store.clone().without_secrets();
    let r = keyless
        .create_resource(&admin(), provider("openai", Some("sk")))
        .await;
    match r {
        Err(StoreError::Crypto(msg)) => assert!(msg.contains("SWITCHYARD_SECRET_KEY")),
        other => panic!("expected a crypto error, got {other:?}"),
    }
    keyless
        .create_resource(&admin(), provider("openai", None))
        .await
        .unwrap();
}

#[test]
fn secret_box_round_trip_and_wrong_key() {
    let a = SecretBox::from_key_bytes([1; 32]);
    let b = SecretBox::from_key_bytes([2; 32]);
    let sealed = a.encrypt("hello").unwrap();
    assert!(sealed.starts_with(&format!("v1:{}:", a.key_id())));
    assert_eq!(a.key_id().len(), 8);
    assert_ne!(a.encrypt("hello").unwrap(), sealed, "fresh nonce each time");
    assert_eq!(a.decrypt(&sealed).unwrap(), "hello");
    assert!(matches!(b.decrypt(&sealed), Err(StoreError::Crypto(_))));
    // Same key id but tampered body.
    let mut tampered = sealed.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert!(a.decrypt(&tampered).is_err());
    assert!(a.decrypt("garbage").is_err());
    let dbg = format!("{a:?}");
    assert!(dbg.contains(a.key_id()) && !dbg.contains("[1, 1"));

    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.encode([1u8; 32]);
    assert_eq!(SecretBox::from_base64(&text).unwrap().key_id(), a.key_id());
    assert!(SecretBox::from_base64("c2hvcnQ=").is_err());
}
