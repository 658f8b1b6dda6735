//! Users, argon2 passwords and sessions.

use std::time::Duration;

use sy_store::{NewUser, Page, Role, Store, StoreError, UserFilter, UserPatch};

use crate::support::{admin, tenant};

store_tests!(user_crud_and_passwords, sessions);

async fn user_crud_and_passwords(store: Store) {
    let t = tenant(&store, "acme").await;
    let new = NewUser {
        username: "alice".into(),
        password: "correct horse".into(),
        role: Role::TenantAdmin,
        tenant_id: Some(t.id.clone()),
    };
    let u = store.create_user(&admin(), new.clone()).await.unwrap();
    assert_eq!(u.role, Role::TenantAdmin);
    assert_eq!(store.get_user(&u.id).await.unwrap(), u);
    assert_eq!(store.user_by_name("alice").await.unwrap(), u);
    let json = serde_json::to_string(&u).unwrap();
    assert!(json.contains(r#""role":"tenant_admin""#));
    assert!(!json.contains("argon2"));

    let dup = store.create_user(&admin(), new).await;
    assert!(matches!(
        dup,
        Err(StoreError::Conflict {
            field: "username",
            ..
        })
    ));
    let no_tenant = NewUser {
        username: "bob".into(),
        password: "x".into(),
        role: Role::Developer,
        tenant_id: None,
    };
    assert!(matches!(
        store.create_user(&admin(), no_tenant).await,
        Err(StoreError::Invalid(_))
    ));

    assert_eq!(
        store
            .verify_password("alice", "correct horse")
            .await
            .unwrap(),
        Some(u.clone())
    );
    assert_eq!(store.verify_password("alice", "wrong").await.unwrap(), None);
    assert_eq!(
        store
            .verify_password("nobody", "correct horse")
            .await
            .unwrap(),
        None
    );

    let patch = UserPatch {
        password: Some("new pass".into()),
        ..Default::default()
    };
    let u2 = store
        .update_user(&admin(), &u.id, patch, Some(1))
        .await
        .unwrap();
    assert_eq!(u2.version, 2);
    assert!(
        store
            .verify_password("alice", "correct horse")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .verify_password("alice", "new pass")
            .await
            .unwrap()
            .is_some()
    );

    let patch = UserPatch {
        disabled: Some(true),
        ..Default::default()
    };
    store
        .update_user(&admin(), &u.id, patch, Some(2))
        .await
        .unwrap();
    assert!(
        store
            .verify_password("alice", "new pass")
            .await
            .unwrap()
            .is_none(),
        "disabled"
    );

    let f = UserFilter {
        tenant_id: Some(t.id.clone()),
    };
    assert_eq!(
        store
            .list_users(&f, &Page::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let stale = store.delete_user(&admin(), &u.id, Some(1)).await;
    assert!(matches!(
        stale,
        Err(StoreError::VersionMismatch { current: 3 })
    ));
    store.delete_user(&admin(), &u.id, Some(3)).await.unwrap();
    assert!(store.get_user(&u.id).await.is_err());
}

async fn sessions(store: Store) {
    let new = NewUser {
        username: "root".into(),
        password: "pw".into(),
        role: Role::PlatformAdmin,
        tenant_id: None,
    };
    let u = store.create_user(&admin(), new).await.unwrap();
    let (token, session) = store
        .create_session(&u.id, Duration::from_secs(3600))
        .await
        .unwrap();
    assert!(token.starts_with("sya_"));
    assert_eq!(token.len(), 4 + 43);
    assert_eq!(session.user_id, u.id);
    assert_eq!(store.session_user(&token).await.unwrap(), Some(u.clone()));
    assert_eq!(store.session_user("sya_forged").await.unwrap(), None);

    // A zero TTL is already expired.
    let (expired, _) = store.create_session(&u.id, Duration::ZERO).await.unwrap();
    assert_eq!(store.session_user(&expired).await.unwrap(), None);

    assert!(store.delete_session(&token).await.unwrap());
    assert!(!store.delete_session(&token).await.unwrap());
    assert_eq!(store.session_user(&token).await.unwrap(), None);
    assert!(
        store
            .create_session("nobody", Duration::from_secs(1))
            .await
            .is_err()
    );
}
