//! API keys: creation, hash lookup, revocation, the active-key stream.

use sy_config::LimitsSpec;
use sy_store::{KeyFilter, KeyPatch, NewKey, Page, Scopes, Store, StoreError, sha256_hex};

use crate::support::{admin, consumer, tenant};

store_tests!(key_lifecycle, imported_keys_and_expiry);

async fn key_lifecycle(store: Store) {
    let t = tenant(&store, "acme").await;
    let c = consumer(&store, &t.id, "app").await;
    let scopes = Scopes {
        routes: vec!["chat".into()],
        models: vec![],
    };
    let limits = LimitsSpec {
        requests_per_minute: Some(5),
        ..Default::default()
    };
    let new = NewKey {
        consumer_id: c.id.clone(),
        name: "ci".into(),
        scopes: scopes.clone(),
        limits: limits.clone(),
        ..Default::default()
    };
    let (secret, key) = store.create_key(&admin(), new).await.unwrap();
    assert!(secret.starts_with("sk-sy-"));
    assert_eq!(secret.len(), 6 + 43, "32 bytes, base64url without padding");
    assert!(!secret.contains('='));
    assert_eq!(key.prefix, &secret[..12]);
    assert_eq!(key.tenant_id, t.id);
    assert!(
        !serde_json::to_string(&key)
            .unwrap()
            .contains(&sha256_hex(&secret))
    );

    let hash = sha256_hex(&secret);
    assert_eq!(store.key_by_hash(&hash).await.unwrap(), Some(key.clone()));
    assert_eq!(
        store.key_by_hash(&hash.to_uppercase()).await.unwrap(),
        Some(key.clone())
    );
    assert_eq!(store.key_by_hash("not-hex").await.unwrap(), None);
    assert_eq!(store.get_key(&key.id).await.unwrap(), key);

    let active = store.load_active_keys().await.unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(sy_store::sha256_hex(&secret), hex(&active[0].hash));
    assert_eq!(active[0].scopes, scopes);
    assert_eq!(active[0].limits, limits);
    assert_eq!(
        (active[0].tenant_id.as_str(), active[0].consumer_id.as_str()),
        (t.id.as_str(), c.id.as_str())
    );

    let patch = KeyPatch {
        name: Some("ci-2".into()),
        ..Default::default()
    };
    let k2 = store
        .update_key(&admin(), &key.id, patch, Some(1))
        .await
        .unwrap();
    assert_eq!((k2.version, k2.name.as_str()), (2, "ci-2"));

    let revoked = store.revoke_key(&admin(), &key.id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert_eq!(revoked.version, 3);
    assert_eq!(
        store.revoke_key(&admin(), &key.id).await.unwrap(),
        revoked,
        "idempotent"
    );
    assert!(store.load_active_keys().await.unwrap().is_empty());
    assert!(
        store
            .key_by_hash(&hash)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    let patch = KeyPatch {
        name: Some("x".into()),
        ..Default::default()
    };
    assert!(matches!(
        store.update_key(&admin(), &key.id, patch, None).await,
        Err(StoreError::Invalid(_))
    ));

    let listed = store
        .list_keys(&KeyFilter::default(), &Page::default())
        .await
        .unwrap();
    assert!(
        listed.items.is_empty(),
        "revoked keys are hidden by default"
    );
    let all = KeyFilter {
        consumer_id: Some(c.id.clone()),
        include_revoked: true,
        ..Default::default()
    };
    assert_eq!(
        store
            .list_keys(&all, &Page::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    store.delete_key(&admin(), &key.id, Some(3)).await.unwrap();
    assert!(store.get_key(&key.id).await.is_err());

    let orphan = NewKey {
        consumer_id: "nope".into(),
        ..Default::default()
    };
    assert!(matches!(
        store.create_key(&admin(), orphan).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn imported_keys_and_expiry(store: Store) {
    let t = tenant(&store, "acme").await;
    let c = consumer(&store, &t.id, "app").await;
    let hash = sha256_hex("sk-sy-imported");
    let new = NewKey {
        consumer_id: c.id.clone(),
        expires_at: Some(1_000),
        ..Default::default()
    };
    let k = store
        .import_key_hash(&admin(), new.clone(), &hash.to_uppercase())
        .await
        .unwrap();
    assert_eq!(k.prefix, format!("sha256:{}", &hash[..5]));
    assert_eq!(k.expires_at, Some(1_000));
    let dup = store.import_key_hash(&admin(), new.clone(), &hash).await;
    assert!(matches!(dup, Err(StoreError::Conflict { .. })));
    let bad = store.import_key_hash(&admin(), new, "abc").await;
    assert!(matches!(bad, Err(StoreError::Invalid(_))));
    // Expired keys stay in the stream with their expiry; the data plane
    // refuses them per request.
    let active = store.load_active_keys().await.unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].expires_at, Some(1_000));
    assert_eq!(hex(&active[0].hash), hash);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
