//! Store rows → the data plane's [`KeyIndex`]: consumers with their
//! [`Grants`] (subscriptions by product name, the product [`Catalog`],
//! consumer and tenant limits), and keys with scopes or limits of their own.
//!
//! Pure functions over rows, so the mapping is tested without a database;
//! [`super::ControlPlane`] does the loading.

use std::collections::HashMap;
use std::sync::Arc;

use sy_policy::{
    Catalog, Consumer, Grants, IndexedKey, LimitScope, ScopedLimits, SubscriptionState,
};
use sy_store::{KeyRow, Product, SubState, Subscription, Tenant};

/// Everything except keys, as loaded from the store.
#[derive(Debug, Default)]
pub(crate) struct Rows {
    pub tenants: Vec<Tenant>,
    pub consumers: Vec<sy_store::Consumer>,
    pub products: Vec<Product>,
    pub subscriptions: Vec<Subscription>,
}

/// Consumers ready for [`sy_policy::KeyIndex::replace_consumers`].
pub(crate) struct Built {
    /// One per stored consumer, with consumer-level grants.
    pub consumers: Vec<Consumer>,
}

/// Which products gate which routes and models.
pub(crate) fn catalog(products: &[Product]) -> Catalog {
    let mut catalog = Catalog::default();
    for p in products {
        let name: Arc<str> = Arc::from(p.name.as_str());
        for r in &p.routes {
            catalog
                .routes
                .entry(Arc::from(r.as_str()))
                .or_default()
                .push(Arc::clone(&name));
        }
        for m in &p.models {
            catalog
                .models
                .entry(Arc::from(m.as_str()))
                .or_default()
                .push(Arc::clone(&name));
        }
    }
    catalog
}

fn state(s: SubState) -> SubscriptionState {
    match s {
        SubState::Pending => SubscriptionState::Pending,
        SubState::Approved => SubscriptionState::Approved,
        SubState::Rejected => SubscriptionState::Rejected,
        SubState::Revoked => SubscriptionState::Revoked,
    }
}

/// Build every consumer with its grants.
pub(crate) fn build(rows: &Rows) -> Built {
    let catalog = Arc::new(catalog(&rows.products));
    let product_names: HashMap<&str, Arc<str>> = rows
        .products
        .iter()
        .map(|p| (p.id.as_str(), Arc::from(p.name.as_str())))
        .collect();
    let tenants: HashMap<&str, &Tenant> = rows.tenants.iter().map(|t| (t.id.as_str(), t)).collect();
    let mut subs: HashMap<&str, sy_core::FastMap<Arc<str>, SubscriptionState>> = HashMap::new();
    for s in &rows.subscriptions {
        if let Some(product) = product_names.get(s.product_id.as_str()) {
            subs.entry(s.consumer_id.as_str())
                .or_default()
                .insert(Arc::clone(product), state(s.state));
        }
    }
    let consumers = rows
        .consumers
        .iter()
        .map(|c| {
            let mut limits = Vec::new();
            if !c.limits.is_empty() {
                limits.push(ScopedLimits {
                    scope: LimitScope::Consumer,
                    id: Arc::from(c.id.as_str()),
                    limits: c.limits.clone(),
                });
            }
            if let Some(t) = tenants.get(c.tenant_id.as_str())
                && !t.limits.is_empty()
            {
                limits.push(ScopedLimits {
                    scope: LimitScope::Tenant,
                    id: Arc::from(t.id.as_str()),
                    limits: t.limits.clone(),
                });
            }
            Consumer {
                id: Arc::from(c.id.as_str()),
                name: Arc::from(c.name.as_str()),
                tenant: Some(Arc::from(c.tenant_id.as_str())),
                key_id: None,
                grants: Arc::new(Grants {
                    key_routes: None,
                    key_models: None,
                    subscriptions: subs.remove(c.id.as_str()).unwrap_or_default(),
                    catalog: Arc::clone(&catalog),
                    limits,
                }),
            }
        })
        .collect();
    Built { consumers }
}

/// The index entry for one key; `consumer` is the key's consumer as the
/// index holds it (`None` when it is unknown: the key then cannot be used
/// until the consumer appears, and gets its grants at the next rebuild).
pub(crate) fn key_entry(row: &KeyRow, consumer: Option<&Consumer>) -> IndexedKey {
    let own =
        !row.scopes.routes.is_empty() || !row.scopes.models.is_empty() || !row.limits.is_empty();
    let grants = match (own, consumer) {
        (true, Some(c)) => Some(Arc::new(key_grants(
            &c.grants,
            &row.id,
            &row.scopes,
            &row.limits,
        ))),
        _ => None,
    };
    IndexedKey {
        key_id: Arc::from(row.id.as_str()),
        consumer_id: Arc::from(row.consumer_id.as_str()),
        expires_at_ms: row.expires_at,
        grants,
    }
}

/// A key's grants: its consumer's, narrowed by the key's scopes, with the
/// key's own limits first.
fn key_grants(
    consumer: &Grants,
    key_id: &str,
    scopes: &sy_store::Scopes,
    limits: &sy_config::LimitsSpec,
) -> Grants {
    let set = |names: &[String]| -> Option<sy_core::FastSet<Arc<str>>> {
        (!names.is_empty()).then(|| names.iter().map(|n| Arc::from(n.as_str())).collect())
    };
    let mut all_limits = Vec::with_capacity(consumer.limits.len() + 1);
    if !limits.is_empty() {
        all_limits.push(ScopedLimits {
            scope: LimitScope::Key,
            id: Arc::from(key_id),
            limits: limits.clone(),
        });
    }
    all_limits.extend(consumer.limits.iter().cloned());
    Grants {
        key_routes: set(&scopes.routes),
        key_models: set(&scopes.models),
        subscriptions: consumer.subscriptions.clone(),
        catalog: Arc::clone(&consumer.catalog),
        limits: all_limits,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;
    use sy_config::LimitsSpec;
    use sy_store::{Scopes, Visibility};

    fn tenant(id: &str, rpm: Option<u64>) -> Tenant {
        Tenant {
            id: id.into(),
            name: id.into(),
            display_name: id.into(),
            limits: LimitsSpec {
                requests_per_minute: rpm,
                ..LimitsSpec::default()
            },
            metadata: Map::new(),
            file_managed: false,
            version: 1,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn consumer(id: &str, tenant: &str) -> sy_store::Consumer {
        sy_store::Consumer {
            id: id.into(),
            tenant_id: tenant.into(),
            name: format!("{id}-name"),
            description: String::new(),
            limits: LimitsSpec::default(),
            metadata: Map::new(),
            file_managed: false,
            version: 1,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn product(id: &str, routes: &[&str], models: &[&str]) -> Product {
        Product {
            id: id.into(),
            tenant_id: None,
            name: format!("{id}-name"),
            description: String::new(),
            docs: String::new(),
            visibility: Visibility::Public,
            routes: routes.iter().map(|s| (*s).to_owned()).collect(),
            models: models.iter().map(|s| (*s).to_owned()).collect(),
            requires_approval: true,
            file_managed: false,
            version: 1,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn sub(consumer: &str, product: &str, state: SubState) -> Subscription {
        Subscription {
            id: format!("{consumer}-{product}"),
            tenant_id: "t1".into(),
            consumer_id: consumer.into(),
            product_id: product.into(),
            state,
            reason: None,
            requested_by: None,
            decided_by: None,
            decided_at: None,
            version: 1,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn subscriptions_and_tenant_limits_reach_each_consumer() {
        let rows = Rows {
            tenants: vec![tenant("t1", Some(60)), tenant("t2", None)],
            consumers: vec![consumer("c1", "t1"), consumer("c2", "t2")],
            products: vec![product("p1", &["ai"], &["gpt-4o"])],
            subscriptions: vec![
                sub("c1", "p1", SubState::Approved),
                sub("c2", "p1", SubState::Pending),
            ],
        };
        let built = build(&rows);
        let c1 = &built.consumers[0];
        let c2 = &built.consumers[1];
        assert_eq!(c1.grants.check_route(&c1.name, "ai"), Ok(()));
        assert_eq!(c1.grants.check_model(&c1.name, "gpt-4o"), Ok(()));
        let denied = c2.grants.check_route(&c2.name, "ai").unwrap_err();
        assert!(
            denied.0.contains("`p1-name`") && denied.0.ends_with("pending"),
            "{denied}"
        );
        assert_eq!(c1.grants.limits.len(), 1);
        assert_eq!(c1.grants.limits[0].scope, LimitScope::Tenant);
        assert!(c2.grants.limits.is_empty());
        assert_eq!(c1.tenant.as_deref(), Some("t1"));
    }

    #[test]
    fn keys_with_scopes_get_their_own_grants() {
        let rows = Rows {
            tenants: vec![tenant("t1", Some(60))],
            consumers: vec![consumer("c1", "t1")],
            ..Rows::default()
        };
        let built = build(&rows);
        let plain = KeyRow {
            id: "k1".into(),
            hash: [1; 32],
            tenant_id: "t1".into(),
            consumer_id: "c1".into(),
            scopes: Scopes::default(),
            limits: LimitsSpec::default(),
            expires_at: None,
        };
        assert!(key_entry(&plain, built.consumers.first()).grants.is_none());
        let scoped = KeyRow {
            scopes: Scopes {
                routes: vec!["ai".into()],
                models: vec![],
            },
            limits: LimitsSpec {
                tokens_per_day: Some(10),
                ..LimitsSpec::default()
            },
            ..plain
        };
        let entry = key_entry(&scoped, built.consumers.first());
        let grants = entry.grants.unwrap();
        assert!(grants.check_route("c", "other").is_err());
        assert!(grants.check_route("c", "ai").is_ok());
        let scopes: Vec<_> = grants.limits.iter().map(|l| l.scope).collect();
        assert_eq!(scopes, [LimitScope::Key, LimitScope::Tenant]);
    }
}
