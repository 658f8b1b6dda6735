//! Subscription state machine.

use sy_store::{
    NewProduct, Page, Product, ProductFilter, ProductPatch, Store, StoreError, SubState,
    SubscriptionFilter, Visibility,
};

use crate::support::{admin, consumer, tenant};

store_tests!(product_crud, subscription_transitions);

fn product(name: &str, tenant_id: Option<String>, requires_approval: bool) -> NewProduct {
    NewProduct {
        tenant_id,
        name: name.into(),
        description: "d".into(),
        docs: "# Docs\n".into(),
        visibility: Visibility::Public,
        routes: vec!["chat".into()],
        models: vec!["gpt".into()],
        requires_approval,
    }
}

async fn product_crud(store: Store) {
    let t = tenant(&store, "acme").await;
    let p = store
        .create_product(&admin(), product("gold", None, true))
        .await
        .unwrap();
    let q: Product = store
        .create_product(&admin(), product("silver", Some(t.id.clone()), false))
        .await
        .unwrap();
    assert_eq!(store.get_product(&p.id).await.unwrap(), p);
    assert_eq!(store.product_by_name("silver").await.unwrap(), q);
    let dup = store
        .create_product(&admin(), product("gold", None, false))
        .await;
    assert!(matches!(
        dup,
        Err(StoreError::Conflict {
            kind: "product",
            ..
        })
    ));
    let f = ProductFilter {
        tenant_id: Some(t.id.clone()),
        ..Default::default()
    };
    assert_eq!(
        store
            .list_products(&f, &Page::default())
            .await
            .unwrap()
            .items,
        vec![q.clone()]
    );
    let patch = ProductPatch {
        visibility: Some(Visibility::Private),
        ..Default::default()
    };
    let p2 = store
        .update_product(&admin(), &p.id, patch, Some(1))
        .await
        .unwrap();
    assert_eq!((p2.version, p2.visibility), (2, Visibility::Private));
    let f = ProductFilter {
        visibility: Some(Visibility::Private),
        ..Default::default()
    };
    assert_eq!(
        store
            .list_products(&f, &Page::default())
            .await
            .unwrap()
            .items,
        vec![p2]
    );
    store
        .delete_product(&admin(), &q.id, Some(1))
        .await
        .unwrap();
    assert!(store.get_product(&q.id).await.is_err());
}

async fn subscription_transitions(store: Store) {
    let t = tenant(&store, "acme").await;
    let other = tenant(&store, "other").await;
    let c = consumer(&store, &t.id, "app").await;
    let gated = store
        .create_product(&admin(), product("gated", None, true))
        .await
        .unwrap();
    let open = store
        .create_product(&admin(), product("open", None, false))
        .await
        .unwrap();
    let foreign = store
        .create_product(&admin(), product("foreign", Some(other.id.clone()), false))
        .await
        .unwrap();

    let auto = store
        .request_subscription(&admin(), &c.id, &open.id)
        .await
        .unwrap();
    assert_eq!(auto.state, SubState::Approved);
    assert!(auto.decided_at.is_some());
    let s = store
        .request_subscription(&admin(), &c.id, &gated.id)
        .await
        .unwrap();
    assert_eq!(
        (s.state, s.tenant_id.as_str()),
        (SubState::Pending, t.id.as_str())
    );
    assert_eq!(s.requested_by.as_deref(), Some("admin-1"));
    let dup = store.request_subscription(&admin(), &c.id, &gated.id).await;
    assert!(matches!(dup, Err(StoreError::Conflict { .. })));
    let cross = store
        .request_subscription(&admin(), &c.id, &foreign.id)
        .await;
    assert!(matches!(cross, Err(StoreError::Invalid(_))));

    // pending → revoked is not a transition.
    let bad = store.revoke_subscription(&admin(), &s.id, None, None).await;
    match bad {
        Err(StoreError::InvalidTransition { from, to }) => {
            assert_eq!((from.as_str(), to.as_str()), ("pending", "revoked"));
        }
        other => panic!("expected InvalidTransition, got {other:?}"),
    }
    let stale = store.approve_subscription(&admin(), &s.id, Some(9)).await;
    assert!(matches!(
        stale,
        Err(StoreError::VersionMismatch { current: 1 })
    ));
    let approved = store
        .approve_subscription(&admin(), &s.id, Some(1))
        .await
        .unwrap();
    assert_eq!((approved.state, approved.version), (SubState::Approved, 2));
    assert_eq!(approved.decided_by.as_deref(), Some("admin-1"));
    assert!(
        store
            .approve_subscription(&admin(), &s.id, None)
            .await
            .is_err()
    );
    assert!(
        store
            .reject_subscription(&admin(), &s.id, None, None)
            .await
            .is_err()
    );
    let revoked = store
        .revoke_subscription(&admin(), &s.id, Some("abuse".into()), None)
        .await
        .unwrap();
    assert_eq!(
        (revoked.state, revoked.reason.as_deref()),
        (SubState::Revoked, Some("abuse"))
    );
    assert!(
        store
            .approve_subscription(&admin(), &s.id, None)
            .await
            .is_err()
    );

    // A revoked subscription may be requested again: same row, pending.
    let again = store
        .request_subscription(&admin(), &c.id, &gated.id)
        .await
        .unwrap();
    assert_eq!(
        (again.id.as_str(), again.state, again.version),
        (s.id.as_str(), SubState::Pending, 4)
    );
    assert_eq!(again.reason, None);
    let rejected = store
        .reject_subscription(&admin(), &s.id, Some("no".into()), None)
        .await
        .unwrap();
    assert_eq!(rejected.state, SubState::Rejected);

    let f = SubscriptionFilter {
        consumer_id: Some(c.id.clone()),
        ..Default::default()
    };
    assert_eq!(
        store
            .list_subscriptions(&f, &Page::default())
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    let f = SubscriptionFilter {
        state: Some(SubState::Rejected),
        ..Default::default()
    };
    let rej = store
        .list_subscriptions(&f, &Page::default())
        .await
        .unwrap();
    assert_eq!(rej.items, vec![rejected.clone()]);
    let f = SubscriptionFilter {
        product_id: Some(open.id.clone()),
        ..Default::default()
    };
    assert_eq!(
        store
            .list_subscriptions(&f, &Page::default())
            .await
            .unwrap()
            .items,
        vec![auto]
    );
    assert_eq!(store.get_subscription(&s.id).await.unwrap(), rejected);
    store
        .delete_subscription(&admin(), &s.id, Some(5))
        .await
        .unwrap();
    assert!(store.get_subscription(&s.id).await.is_err());
}
