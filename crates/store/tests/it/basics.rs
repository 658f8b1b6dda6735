//! Opening, migrations, placeholders, pagination and hostile strings.

use sy_store::{
    Actor, Backend, ConsumerFilter, NewTenant, Page, Store, StoreError, TenantFilter, TenantPatch,
};

use crate::support::{admin, consumer, tenant};

store_tests!(
    migrations_are_idempotent,
    injection_strings_round_trip,
    pagination_walks_every_row
);

async fn migrations_are_idempotent(store: Store) {
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(store.head().await.unwrap(), 0);
    tenant(&store, "acme").await;
    store.migrate().await.unwrap();
    assert_eq!(store.tenant_by_name("acme").await.unwrap().name, "acme");
}

async fn injection_strings_round_trip(store: Store) {
    let evil = "'; DROP TABLE tenants; -- $1 ? %_ \\ \"quoted\" ✓";
    let mut meta = serde_json::Map::new();
    meta.insert(evil.into(), serde_json::Value::String(evil.into()));
    let new = NewTenant {
        name: "evil".into(),
        display_name: evil.into(),
        metadata: meta.clone(),
        ..NewTenant::default()
    };
    let t = store.create_tenant(&admin(), new).await.unwrap();
    let back = store.get_tenant(&t.id).await.unwrap();
    assert_eq!(back.display_name, evil);
    assert_eq!(back.metadata, meta);
    let c = consumer(&store, &t.id, evil).await;
    assert_eq!(store.consumer_by_name(&t.id, evil).await.unwrap(), c);
    // A prefix filter with LIKE wildcards matches literally.
    let f = ConsumerFilter {
        name_prefix: Some("'; DROP".into()),
        ..Default::default()
    };
    assert_eq!(
        store
            .list_consumers(&f, &Page::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let f = ConsumerFilter {
        name_prefix: Some("%".into()),
        ..Default::default()
    };
    assert!(
        store
            .list_consumers(&f, &Page::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // Lookups by hostile ids find nothing and break nothing.
    assert!(matches!(
        store.get_tenant(evil).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(
        store
            .list_tenants(&TenantFilter::default(), &Page::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

async fn pagination_walks_every_row(store: Store) {
    let mut made = Vec::new();
    for i in 0..23 {
        let name = if i % 2 == 0 {
            format!("even-{i:02}")
        } else {
            format!("odd-{i:02}")
        };
        made.push(tenant(&store, &name).await.id);
    }
    let mut seen = Vec::new();
    let mut page = Page::first(5);
    let mut pages = 0;
    loop {
        let p = store
            .list_tenants(&TenantFilter::default(), &page)
            .await
            .unwrap();
        pages += 1;
        assert!(p.items.len() <= 5);
        seen.extend(p.items.into_iter().map(|t| t.id));
        match p.next {
            Some(cursor) => page = Page::after(5, cursor),
            None => break,
        }
    }
    assert_eq!(pages, 5);
    assert_eq!(seen, made, "each row once, in creation order");

    let f = TenantFilter {
        name_prefix: Some("odd-".into()),
    };
    let odd = store.list_tenants(&f, &Page::first(500)).await.unwrap();
    assert_eq!(odd.items.len(), 11);
    assert!(odd.next.is_none());
    assert!(odd.items.iter().all(|t| t.name.starts_with("odd-")));
    // Limits are clamped: 0 becomes 1, huge becomes 500.
    let one = store
        .list_tenants(&TenantFilter::default(), &Page::first(0))
        .await
        .unwrap();
    assert_eq!(one.items.len(), 1);
    assert!(one.next.is_some());
    let all = store
        .list_tenants(&TenantFilter::default(), &Page::first(10_000))
        .await
        .unwrap();
    assert_eq!(all.items.len(), 23);
}

#[tokio::test]
async fn memory_store_and_bad_urls() {
    let store = Store::open("sqlite::memory:").await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    let t = tenant(&store, "mem").await;
    let patch = TenantPatch {
        display_name: Some("Mem".into()),
        ..Default::default()
    };
    store
        .update_tenant(&Actor::bootstrap(), &t.id, patch, Some(1))
        .await
        .unwrap();
    assert_eq!(store.get_tenant(&t.id).await.unwrap().version, 2);
    assert!(matches!(
        Store::open("mysql://x").await,
        Err(StoreError::Invalid(_))
    ));
}

#[test]
fn statuses() {
    let cases = [
        (
            StoreError::NotFound {
                kind: "tenant",
                id: "x".into(),
            },
            404,
        ),
        (
            StoreError::Conflict {
                kind: "tenant",
                field: "name",
                value: "x".into(),
            },
            409,
        ),
        (StoreError::VersionMismatch { current: 2 }, 412),
        (
            StoreError::FileManaged {
                kind: "tenant",
                name: "x".into(),
            },
            409,
        ),
        (
            StoreError::InvalidTransition {
                from: "a".into(),
                to: "b".into(),
            },
            409,
        ),
        (StoreError::Invalid("x".into()), 422),
        (StoreError::Database(sqlx::Error::RowNotFound), 500),
        (StoreError::Crypto("x".into()), 500),
    ];
    for (e, status) in cases {
        assert_eq!(e.status(), status, "{e}");
    }
}
