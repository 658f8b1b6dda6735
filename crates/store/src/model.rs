//! The stored entities as the admin API and the audit log see them. None of
//! these types carries a secret: password hashes, key hashes and provider
//! credentials stay in their columns and are read only by the functions that
//! need them, so serialising an entity (the audit log does) cannot leak one.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sy_config::LimitsSpec;

use crate::error::{Result, StoreError};

/// Who makes a change, as written in the audit log: a user id, `bootstrap`
/// (first start) or `file` (the configuration file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// User id, `bootstrap` or `file`.
    pub id: String,
    /// The actor's tenant, if any (platform admins have none).
    pub tenant_id: Option<String>,
}

impl Actor {
    /// A user acting through the admin API.
    pub fn user(id: impl Into<String>, tenant_id: Option<String>) -> Self {
        Actor {
            id: id.into(),
            tenant_id,
        }
    }

    /// The first-start bootstrap (creating the first admin).
    pub fn bootstrap() -> Self {
        Actor {
            id: "bootstrap".into(),
            tenant_id: None,
        }
    }

    /// The configuration file, applied at start and on reload.
    pub fn file() -> Self {
        Actor {
            id: "file".into(),
            tenant_id: None,
        }
    }
}

/// One page request: at most `limit` rows (default 50, clamped to 1..=500)
/// whose id sorts after `after`. Ids are UUID v7, so id order is creation
/// order and the cursor stays valid while rows are added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    /// Rows wanted; clamped to 1..=500.
    pub limit: u32,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            limit: Page::DEFAULT_LIMIT,
            after: None,
        }
    }
}

impl Page {
    /// Rows per page when the caller does not say.
    pub const DEFAULT_LIMIT: u32 = 50;
    /// The largest page served.
    pub const MAX_LIMIT: u32 = 500;

    /// The first page of `limit` rows.
    pub fn first(limit: u32) -> Self {
        Page { limit, after: None }
    }

    /// The page after `cursor`.
    pub fn after(limit: u32, cursor: impl Into<String>) -> Self {
        Page {
            limit,
            after: Some(cursor.into()),
        }
    }

    pub(crate) fn clamped(&self) -> i64 {
        i64::from(self.limit.clamp(1, Page::MAX_LIMIT))
    }
}

/// One page of results. `next` is the cursor for the following page, `None`
/// on the last one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paged<T> {
    /// The rows, in id (creation) order.
    pub items: Vec<T>,
    /// Pass as `Page::after` to continue; `None` when there is no more.
    pub next: Option<String>,
}

/// Declares a string-backed enum with its snake_case text form, used both in
/// JSON and in the database column.
macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            /// The text stored in the database and used in JSON.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the stored text.
            pub fn parse(s: &str) -> Result<Self> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(StoreError::Corrupt(format!(
                        "unknown {} {other:?}", stringify!($name)
                    ))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A tenant: the unit of isolation for consumers, keys and limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    /// UUID v7.
    pub id: String,
    /// Unique slug, `^[a-z0-9][a-z0-9-]{0,62}$`.
    pub name: String,
    /// Human-readable name.
    pub display_name: String,
    /// Limits on everything the tenant's consumers do together.
    pub limits: LimitsSpec,
    /// Free-form labels.
    pub metadata: Map<String, Value>,
    /// Declared in the configuration file (read-only through the API).
    pub file_managed: bool,
    /// Starts at 1, bumped by every update.
    pub version: i64,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

text_enum! {
    /// What an admin user may do.
    Role {
        /// Everything, across tenants.
        PlatformAdmin = "platform_admin",
        /// Everything inside one tenant.
        TenantAdmin = "tenant_admin",
        /// Own consumers, keys and subscriptions inside one tenant.
        Developer = "developer",
    }
}

/// An admin user. The argon2id password hash lives only in its column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// UUID v7.
    pub id: String,
    /// Unique login name.
    pub username: String,
    /// What the user may do.
    pub role: Role,
    /// Required unless the role is `platform_admin`.
    pub tenant_id: Option<String>,
    /// A disabled user cannot log in.
    pub disabled: bool,
    /// Starts at 1, bumped by every update.
    pub version: i64,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

/// An admin login session. The token itself is never stored, only its
/// SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// UUID v7.
    pub id: String,
    /// The logged-in user.
    pub user_id: String,
    /// Unix milliseconds after which the token is refused.
    pub expires_at: i64,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// A consumer: an application or team inside a tenant that holds keys and
/// subscriptions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consumer {
    /// UUID v7.
    pub id: String,
    /// Owning tenant.
    pub tenant_id: String,
    /// Unique within the tenant.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Limits on all of the consumer's keys together.
    pub limits: LimitsSpec,
    /// Free-form labels.
    pub metadata: Map<String, Value>,
    /// Declared in the configuration file.
    pub file_managed: bool,
    /// Starts at 1, bumped by every update.
    pub version: i64,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

/// What a key may reach. An empty list allows everything of that sort.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scopes {
    /// Route names; empty = every route.
    #[serde(default)]
    pub routes: Vec<String>,
    /// Model names; empty = every model.
    #[serde(default)]
    pub models: Vec<String>,
}

/// An API key. Its SHA-256 lives only in the `key_hash` column; `prefix`
/// (the secret's first 12 characters) is what lists show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    /// UUID v7.
    pub id: String,
    /// Owning tenant (the consumer's).
    pub tenant_id: String,
    /// Owning consumer.
    pub consumer_id: String,
    /// Label chosen by the owner.
    pub name: String,
    /// First 12 characters of the secret (`sk-sy-` + 6), or `sha256:` + 5
    /// hex digits for keys imported by hash.
    pub prefix: String,
    /// What the key may reach.
    pub scopes: Scopes,
    /// Limits on this key alone.
    pub limits: LimitsSpec,
    /// Free-form labels.
    pub metadata: Map<String, Value>,
    /// Unix milliseconds after which the key is refused; `None` = never.
    pub expires_at: Option<i64>,
    /// Unix milliseconds of revocation; a revoked key is never active again.
    pub revoked_at: Option<i64>,
    /// Declared in the configuration file.
    pub file_managed: bool,
    /// Starts at 1, bumped by every update.
    pub version: i64,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

/// One active key as the data plane indexes it: compact, with the hash as
/// bytes so the index is a `HashMap<[u8; 32], _>`.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRow {
    /// Key id.
    pub id: String,
    /// SHA-256 of the secret.
    pub hash: [u8; 32],
    /// Owning tenant.
    pub tenant_id: String,
    /// Owning consumer.
    pub consumer_id: String,
    /// What the key may reach.
    pub scopes: Scopes,
    /// Limits on this key alone.
    pub limits: LimitsSpec,
    /// Unix milliseconds; the data plane refuses the key after it.
    pub expires_at: Option<i64>,
}

text_enum! {
    /// Who sees a product in the portal.
    Visibility {
        /// Everyone, across tenants.
        Public = "public",
        /// Members of the owning tenant (everyone, for a platform product).
        Tenant = "tenant",
        /// Admins only.
        Private = "private",
    }
}

/// A product: a bundle of routes and models that consumers subscribe to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// UUID v7.
    pub id: String,
    /// Owning tenant; `None` = platform-wide.
    pub tenant_id: Option<String>,
    /// Unique across the platform.
    pub name: String,
    /// One-line summary.
    pub description: String,
    /// Markdown documentation shown in the portal.
    pub docs: String,
    /// Who sees it.
    pub visibility: Visibility,
    /// Route names included.
    pub routes: Vec<String>,
    /// Model names included.
    pub models: Vec<String>,
    /// Subscriptions start pending and need an admin's approval.
    pub requires_approval: bool,
    /// Declared in the configuration file.
    pub file_managed: bool,
    /// Starts at 1, bumped by every update.
    pub version: i64,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

text_enum! {
    /// Where a subscription stands. `pending → approved | rejected` and
    /// `approved → revoked`; rejected and revoked ones may be requested again.
    SubState {
        /// Waiting for an admin.
        Pending = "pending",
        /// Active.
        Approved = "approved",
        /// Refused by an admin.
        Rejected = "rejected",
        /// Withdrawn after approval.
        Revoked = "revoked",
    }
}

/// A consumer's subscription to a product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    /// UUID v7.
    pub id: String,
    /// The consumer's tenant.
    pub tenant_id: String,
    /// Subscriber.
    pub consumer_id: String,
    /// Product subscribed to.
    pub product_id: String,
    /// Where it stands.
    pub state: SubState,
    /// Why it was rejected or revoked.
    pub reason: Option<String>,
    /// Actor id of the (last) request.
    pub requested_by: Option<String>,
    /// Actor id of the last decision.
    pub decided_by: Option<String>,
    /// Unix milliseconds of the last decision.
    pub decided_at: Option<i64>,
    /// Starts at 1, bumped by every update.
    pub version: i64,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

text_enum! {
    /// The configuration objects the store keeps as spec JSON.
    ResourceKind {
        /// A `RouteSpec`.
        Route = "route",
        /// An `UpstreamSpec`.
        Upstream = "upstream",
        /// A `ProviderSpec`.
        Provider = "provider",
        /// A `ModelSpec`.
        Model = "model",
    }
}

/// A route, upstream, provider or model stored as its spec JSON. A
/// provider's credential lives encrypted in its own column; `has_secret`
/// tells whether there is one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// UUID v7.
    pub id: String,
    /// What the spec is.
    pub kind: ResourceKind,
    /// Unique per kind.
    pub name: String,
    /// Owning tenant; `None` = platform-wide.
    pub tenant_id: Option<String>,
    /// The `*Spec` as JSON.
    pub spec: Value,
    /// A credential is stored (encrypted) for this provider.
    pub has_secret: bool,
    /// Declared in the configuration file.
    pub file_managed: bool,
    /// Starts at 1, bumped by every update.
    pub version: i64,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

/// One audit log entry, written in the same transaction as the change it
/// records. `before` and `after` are the entity's JSON (never a secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// UUID v7 (time-ordered).
    pub id: String,
    /// Unix milliseconds.
    pub at: i64,
    /// User id, `bootstrap` or `file`.
    pub actor: String,
    /// Tenant of the entity, if any.
    pub tenant_id: Option<String>,
    /// `create`, `update`, `delete`, `approve`, `reject`, `revoke`,
    /// `rotate`, `login`, `logout`, …
    pub action: String,
    /// Entity kind, e.g. `tenant`, `api_key`, `route`.
    pub kind: String,
    /// Id of the entity.
    pub entity_id: String,
    /// The entity before the change; `None` for a create.
    pub before: Option<Value>,
    /// The entity after the change; `None` for a delete.
    pub after: Option<Value>,
}

/// One change feed row: entity `kind`/`entity_id` changed at `at`. The data
/// plane polls [`crate::Store::changes_since`] and reloads what changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Strictly increasing, in commit order.
    pub seq: i64,
    /// Entity kind, as in the audit log.
    pub kind: String,
    /// Id of the entity.
    pub entity_id: String,
    /// Unix milliseconds.
    pub at: i64,
}
