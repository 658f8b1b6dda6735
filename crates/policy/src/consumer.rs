//! Who is calling: [`Consumer`], what it may reach ([`Grants`], checked
//! against the product [`Catalog`]), and the [`ConsumerDirectory`] that
//! authentication asks to turn a credential into one.
//!
//! Everything here is computed when the directory is compiled (at start and
//! after every change in the store), so a request's access check is a few
//! hash lookups and never waits on the store.

use std::fmt;
use std::sync::Arc;
use sy_core::{FastMap, FastSet};

use sy_config::LimitsSpec;

/// An authenticated caller: an application (consumer), the tenant that owns
/// it, the credential used, and what that credential may reach. Cheap to
/// clone.
#[derive(Debug, Clone)]
pub struct Consumer {
    /// Stable identifier (the config name, or the store's id).
    pub id: Arc<str>,
    /// Display name.
    pub name: Arc<str>,
    /// Owning tenant, when known (the store's tenant id).
    pub tenant: Option<Arc<str>>,
    /// The stored key this request authenticated with (its id), for per-key
    /// limits and the call log; `None` for config-file keys, JWTs and
    /// introspected tokens.
    pub key_id: Option<Arc<str>>,
    /// Scopes, subscriptions and limits. Shared by every request (and, when
    /// keys carry no scopes or limits of their own, every key) of the
    /// consumer.
    pub grants: Arc<Grants>,
}

impl Consumer {
    /// A caller with no restrictions and no limits: a consumer from the
    /// config file, or one a token maps to that the store does not know.
    pub fn unrestricted(id: &str, name: &str, tenant: Option<&str>) -> Consumer {
        Consumer {
            id: Arc::from(id),
            name: Arc::from(name),
            tenant: tenant.map(Arc::from),
            key_id: None,
            grants: Arc::default(),
        }
    }
}

impl PartialEq for Consumer {
    /// Same consumer through the same credential; grants are derived state.
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && self.tenant == other.tenant && self.key_id == other.key_id
    }
}

/// The state of a consumer's subscription to a product, as the data plane
/// needs it (a product the consumer never asked for is simply absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionState {
    /// Requested; an approver has not decided yet.
    Pending,
    /// Approved: the product's routes and models are open.
    Approved,
    /// Rejected by an approver.
    Rejected,
    /// Approved once, then revoked.
    Revoked,
}

impl SubscriptionState {
    /// The lower-case word used in messages and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionState::Pending => "pending",
            SubscriptionState::Approved => "approved",
            SubscriptionState::Rejected => "rejected",
            SubscriptionState::Revoked => "revoked",
        }
    }
}

/// Which API products gate which routes and models. A route or model that
/// no product lists is open to every authenticated caller; one that some
/// products list needs an approved subscription to one of them.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Route name → names of the products listing it.
    pub routes: FastMap<Arc<str>, Vec<Arc<str>>>,
    /// Model name → names of the products listing it.
    pub models: FastMap<Arc<str>, Vec<Arc<str>>>,
}

/// Where a limit set comes from; limits are counted per scope and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitScope {
    /// One API key.
    Key,
    /// One consumer (all its keys).
    Consumer,
    /// One tenant (all its consumers).
    Tenant,
    /// One route (all callers).
    Route,
    /// One model name (all callers).
    Model,
}

impl LimitScope {
    /// The lower-case word used in 429 messages and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitScope::Key => "key",
            LimitScope::Consumer => "consumer",
            LimitScope::Tenant => "tenant",
            LimitScope::Route => "route",
            LimitScope::Model => "model",
        }
    }
}

/// A limit set and what it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedLimits {
    /// Key, consumer or tenant (route and model limits come from the route
    /// and the model themselves).
    pub scope: LimitScope,
    /// The entity's id (counted separately per id).
    pub id: Arc<str>,
    /// The limits; only sets with at least one field are kept.
    pub limits: LimitsSpec,
}

/// What one credential may reach, and the limits it carries.
#[derive(Debug, Default)]
pub struct Grants {
    /// Route names the key is scoped to; `None` means every route.
    pub key_routes: Option<FastSet<Arc<str>>>,
    /// Model names the key is scoped to; `None` means every model.
    pub key_models: Option<FastSet<Arc<str>>>,
    /// The consumer's subscriptions, by product name.
    pub subscriptions: FastMap<Arc<str>, SubscriptionState>,
    /// Which products gate which routes and models (shared by all callers).
    pub catalog: Arc<Catalog>,
    /// Key, consumer and tenant limits, most specific first.
    pub limits: Vec<ScopedLimits>,
}

/// Why a caller may not use a route or model; the message is the 403 body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied(pub String);

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Grants {
    /// May the caller use route `route`? Checks the key's scopes, then the
    /// products gating the route.
    pub fn check_route(&self, consumer: &str, route: &str) -> Result<(), Denied> {
        if let Some(routes) = &self.key_routes
            && !routes.contains(route)
        {
            return Err(Denied(format!(
                "this API key is not scoped for route `{route}`"
            )));
        }
        self.check_gate(consumer, "route", route, self.catalog.routes.get(route))
    }

    /// May the caller use model `model`? Checks the key's scopes, then the
    /// products gating the model.
    pub fn check_model(&self, consumer: &str, model: &str) -> Result<(), Denied> {
        if let Some(models) = &self.key_models
            && !models.contains(model)
        {
            return Err(Denied(format!(
                "this API key is not scoped for model `{model}`"
            )));
        }
        self.check_gate(consumer, "model", model, self.catalog.models.get(model))
    }

    /// Open when no product gates the thing or one approved subscription
    /// covers it; otherwise the message names the product and the state the
    /// caller is in (a pending request is the most useful thing to report).
    fn check_gate(
        &self,
        consumer: &str,
        what: &str,
        name: &str,
        products: Option<&Vec<Arc<str>>>,
    ) -> Result<(), Denied> {
        let Some(products) = products.filter(|p| !p.is_empty()) else {
            return Ok(());
        };
        let mut best: Option<(&Arc<str>, SubscriptionState)> = None;
        for product in products {
            match self.subscriptions.get(product) {
                Some(SubscriptionState::Approved) => return Ok(()),
                Some(&state) => {
                    let rank = |s: SubscriptionState| match s {
                        SubscriptionState::Pending => 0,
                        SubscriptionState::Revoked => 1,
                        SubscriptionState::Rejected => 2,
                        SubscriptionState::Approved => 3,
                    };
                    if best.is_none_or(|(_, b)| rank(state) < rank(b)) {
                        best = Some((product, state));
                    }
                }
                None => {}
            }
        }
        Err(Denied(match best {
            Some((product, state)) => format!(
                "{what} `{name}` requires an approved subscription to product `{product}`; \
                 the subscription of consumer `{consumer}` is {}",
                state.as_str()
            ),
            None => format!(
                "{what} `{name}` requires a subscription to product `{}`; consumer \
                 `{consumer}` has none",
                products[0]
            ),
        }))
    }
}

/// Where authentication looks credentials up. The config-file implementation
/// is [`StaticDirectory`]; the store-backed key index plugs in behind the
/// same trait. Key lookups are by the SHA-256 of the presented key, so no
/// implementation ever holds keys in clear.
pub trait ConsumerDirectory: Send + Sync + std::fmt::Debug {
    /// The caller owning the key whose SHA-256 is `key_sha256`, if the key
    /// exists and is usable (not revoked, not expired).
    fn lookup_key(&self, key_sha256: &[u8; 32]) -> Option<Consumer>;

    /// The consumer named `name` (a config name or a store id), for
    /// credentials that carry a consumer name in a claim (JWT, OAuth2
    /// introspection).
    fn lookup_consumer(&self, name: &str) -> Option<Consumer>;
}

/// Keys from the configuration file, indexed by hash.
#[derive(Debug, Default)]
pub struct StaticDirectory {
    keys: FastMap<[u8; 32], Consumer>,
    consumers: FastMap<Arc<str>, Consumer>,
}

impl StaticDirectory {
    /// An index over `(key hash, consumer)` pairs.
    pub fn new(entries: impl IntoIterator<Item = ([u8; 32], Consumer)>) -> Self {
        let keys: FastMap<[u8; 32], Consumer> = entries.into_iter().collect();
        let consumers = keys
            .values()
            .map(|c| (Arc::clone(&c.name), c.clone()))
            .collect();
        StaticDirectory { keys, consumers }
    }

    /// Also know `consumers` by name (consumers without keys, for tokens).
    pub fn with_consumers(mut self, consumers: impl IntoIterator<Item = Consumer>) -> Self {
        for c in consumers {
            self.consumers.insert(Arc::clone(&c.name), c);
        }
        self
    }
}

impl ConsumerDirectory for StaticDirectory {
    fn lookup_key(&self, key_sha256: &[u8; 32]) -> Option<Consumer> {
        self.keys.get(key_sha256).cloned()
    }

    fn lookup_consumer(&self, name: &str) -> Option<Consumer> {
        self.consumers.get(name).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(subs: &[(&str, SubscriptionState)]) -> Grants {
        let mut catalog = Catalog::default();
        catalog
            .routes
            .insert(Arc::from("billing"), vec![Arc::from("payments")]);
        catalog.models.insert(
            Arc::from("gpt-4o"),
            vec![Arc::from("premium"), Arc::from("enterprise")],
        );
        Grants {
            subscriptions: subs.iter().map(|(p, s)| (Arc::from(*p), *s)).collect(),
            catalog: Arc::new(catalog),
            ..Grants::default()
        }
    }

    #[test]
    fn ungated_routes_and_models_are_open() {
        let g = grants(&[]);
        assert_eq!(g.check_route("app", "public"), Ok(()));
        assert_eq!(g.check_model("app", "mini"), Ok(()));
    }

    #[test]
    fn gated_route_names_product_and_state() {
        let none = grants(&[]).check_route("app", "billing").unwrap_err();
        assert!(none.0.contains("product `payments`"), "{none}");
        assert!(none.0.contains("has none"), "{none}");
        let pending = grants(&[("payments", SubscriptionState::Pending)])
            .check_route("app", "billing")
            .unwrap_err();
        assert!(pending.0.ends_with("is pending"), "{pending}");
        let ok = grants(&[("payments", SubscriptionState::Approved)]);
        assert_eq!(ok.check_route("app", "billing"), Ok(()));
    }

    #[test]
    fn any_approved_product_opens_a_model_and_pending_is_reported_first() {
        let g = grants(&[
            ("premium", SubscriptionState::Rejected),
            ("enterprise", SubscriptionState::Pending),
        ]);
        let e = g.check_model("app", "gpt-4o").unwrap_err();
        assert!(
            e.0.contains("`enterprise`") && e.0.ends_with("pending"),
            "{e}"
        );
        let g = grants(&[
            ("premium", SubscriptionState::Revoked),
            ("enterprise", SubscriptionState::Approved),
        ]);
        assert_eq!(g.check_model("app", "gpt-4o"), Ok(()));
    }

    #[test]
    fn key_scopes_narrow_before_products() {
        let mut g = grants(&[("payments", SubscriptionState::Approved)]);
        g.key_routes = Some([Arc::from("public")].into_iter().collect());
        g.key_models = Some([Arc::from("mini")].into_iter().collect());
        let e = g.check_route("app", "billing").unwrap_err();
        assert!(e.0.contains("not scoped for route `billing`"), "{e}");
        assert_eq!(g.check_route("app", "public"), Ok(()));
        assert!(g.check_model("app", "gpt-4o").is_err());
        assert_eq!(g.check_model("app", "mini"), Ok(()));
    }

    #[test]
    fn static_directory_finds_consumers_by_key_and_name() {
        let c = Consumer::unrestricted("web", "web", None);
        let d = StaticDirectory::new([([7u8; 32], c.clone())])
            .with_consumers([Consumer::unrestricted("batch", "batch", None)]);
        assert_eq!(d.lookup_key(&[7u8; 32]), Some(c));
        assert!(d.lookup_key(&[8u8; 32]).is_none());
        assert_eq!(
            d.lookup_consumer("batch").map(|c| c.id),
            Some(Arc::from("batch"))
        );
        assert!(d.lookup_consumer("nobody").is_none());
    }
}
