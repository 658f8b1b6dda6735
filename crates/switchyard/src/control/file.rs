//! What the configuration file declares, as the store's file-managed rows.
//!
//! Consumers without a `tenant` belong to the tenant [`DEFAULT_TENANT`],
//! created when needed. Keys are applied by hash only (a key written in
//! clear in the file is hashed here), and resources keep no credential: a
//! provider's `api_key` is left out of the stored copy and its AWS keys and
//! header values read `<redacted>` (file resources are compiled from the
//! file itself, so the stored copy is for reading through the API only).

use anyhow::Context;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use sy_config::{ConfigSpec, KeySpec, VisibilitySpec};
use sy_store::{
    Actor, FileConsumer, FileEntities, FileKey, FileProduct, FileResource, FileTenant,
    ResourceKind, Scopes, Store, SubState, SubscriptionFilter, Visibility,
};

/// The tenant of file consumers that name none.
pub const DEFAULT_TENANT: &str = "default";

/// Stand-in for a credential in stored specs.
const REDACTED: &str = "<redacted>";

/// The file's entities for [`Store::apply_file`].
pub(crate) fn entities(spec: &ConfigSpec) -> FileEntities {
    let mut tenants: Vec<FileTenant> = spec
        .tenants
        .iter()
        .map(|t| FileTenant {
            name: t.name.clone(),
            display_name: t.display_name.clone().unwrap_or_default(),
            limits: t.limits.clone(),
            metadata: Map::new(),
        })
        .collect();
    let needs_default = spec.consumers.iter().any(|c| c.tenant.is_none())
        && !tenants.iter().any(|t| t.name == DEFAULT_TENANT);
    if needs_default {
        tenants.push(FileTenant {
            name: DEFAULT_TENANT.into(),
            display_name: "Default tenant (consumers of the config file)".into(),
            ..FileTenant::default()
        });
    }
    let tenant_of = |t: &Option<String>| t.clone().unwrap_or_else(|| DEFAULT_TENANT.into());
    let consumers = spec
        .consumers
        .iter()
        .map(|c| FileConsumer {
            tenant: tenant_of(&c.tenant),
            name: c.name.clone(),
            description: String::new(),
            limits: c.limits.clone(),
            metadata: Map::new(),
        })
        .collect();
    let keys = spec
        .consumers
        .iter()
        .flat_map(|c| {
            c.keys.iter().enumerate().filter_map(move |(i, k)| {
                let sha256 = match k {
                    KeySpec::Key(clear) if !clear.is_empty() => {
                        hex(&Sha256::digest(clear.as_bytes()))
                    }
                    KeySpec::Key(_) => return None,
                    KeySpec::Sha256(h) => h.trim().to_ascii_lowercase(),
                };
                Some(FileKey {
                    tenant: tenant_of(&c.tenant),
                    consumer: c.name.clone(),
                    name: format!("{}-{}", c.name, i + 1),
                    sha256,
                    scopes: Scopes::default(),
                    limits: Default::default(),
                    metadata: Map::new(),
                    expires_at: None,
                })
            })
        })
        .collect();
    let products = spec
        .products
        .iter()
        .map(|p| FileProduct {
            tenant: p.tenant.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            docs: p.docs.clone(),
            visibility: match p.visibility {
                VisibilitySpec::Public => Visibility::Public,
                VisibilitySpec::Tenant => Visibility::Tenant,
                VisibilitySpec::Private => Visibility::Private,
            },
            routes: p.routes.clone(),
            models: p.models.clone(),
            requires_approval: p.requires_approval,
        })
        .collect();
    let mut resources = Vec::new();
    let mut push = |kind, name: &str, spec: Value| {
        resources.push(FileResource {
            kind,
            name: name.to_owned(),
            tenant: None,
            spec,
        });
    };
    for r in &spec.routes {
        push(ResourceKind::Route, &r.name, to_value(r));
    }
    for u in &spec.upstreams {
        push(ResourceKind::Upstream, &u.name, to_value(u));
    }
    for p in &spec.providers {
        push(
            ResourceKind::Provider,
            &p.name,
            redact_provider(to_value(p)),
        );
    }
    for m in &spec.models {
        push(ResourceKind::Model, &m.name, to_value(m));
    }
    FileEntities {
        tenants,
        consumers,
        keys,
        products,
        resources,
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// A provider spec without credentials.
fn redact_provider(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        // Dropped rather than masked: the store accepts no literal
        // credential in a spec, and the file, not this copy, is compiled.
        o.remove("api_key");
        for field in ["aws", "headers"] {
            if let Some(Value::Object(inner)) = o.get_mut(field) {
                for value in inner.values_mut() {
                    if !value.is_null() {
                        *value = REDACTED.into();
                    }
                }
            }
        }
    }
    v
}

/// Subscribe file consumers to the products their `subscriptions` list,
/// approved (the file is the approver). Subscriptions later removed from
/// the file are left as they are: revoking is an explicit act.
pub(crate) async fn apply_subscriptions(store: &Store, spec: &ConfigSpec) -> anyhow::Result<()> {
    let actor = Actor::file();
    for c in &spec.consumers {
        if c.subscriptions.is_empty() {
            continue;
        }
        let tenant = c.tenant.as_deref().unwrap_or(DEFAULT_TENANT);
        let tenant = store.tenant_by_name(tenant).await?;
        let consumer = store.consumer_by_name(&tenant.id, &c.name).await?;
        for name in &c.subscriptions {
            let product = store
                .product_by_name(name)
                .await
                .with_context(|| format!("product `{name}` of consumer `{}`", c.name))?;
            let existing = store
                .list_subscriptions(
                    &SubscriptionFilter {
                        consumer_id: Some(consumer.id.clone()),
                        product_id: Some(product.id.clone()),
                        ..SubscriptionFilter::default()
                    },
                    &sy_store::Page::first(1),
                )
                .await?
                .items
                .into_iter()
                .next();
            let sub = match existing {
                Some(s) if s.state == SubState::Approved => continue,
                Some(s) if s.state == SubState::Pending => s,
                _ => {
                    store
                        .request_subscription(&actor, &consumer.id, &product.id)
                        .await?
                }
            };
            if sub.state == SubState::Pending {
                store.approve_subscription(&actor, &sub.id, None).await?;
            }
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_credentials_never_reach_the_stored_copy() {
        let v = serde_json::json!({
            "name": "openai", "kind": "openai", "api_key": "sk-live-123",
            "headers": {"authorization": "Bearer x"},
            "aws": {"access_key_id": "AKIA", "secret_access_key": "s"}
        });
        let text = redact_provider(v).to_string();
        for secret in ["sk-live-123", "Bearer x", "AKIA", "\"s\""] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert!(text.contains(REDACTED));
        assert!(!text.contains("api_key"), "{text}");
    }

    #[test]
    fn file_consumers_get_the_default_tenant_and_hashed_keys() {
        let spec = sy_config::load_str(
            "store: null\nconsumers:\n  - name: web\n    keys: [{ key: abcdefghijklmnop }]\n",
            "t",
            &|_| None,
        )
        .unwrap();
        let e = entities(&spec);
        assert_eq!(e.tenants.len(), 1);
        assert_eq!(e.tenants[0].name, DEFAULT_TENANT);
        assert_eq!(e.consumers[0].tenant, DEFAULT_TENANT);
        assert_eq!(e.keys[0].sha256, hex(&Sha256::digest(b"abcdefghijklmnop")));
        assert!(!format!("{e:?}").contains("abcdefghijklmnop"));
    }
}
