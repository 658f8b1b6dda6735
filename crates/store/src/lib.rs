//! The control plane's persistent store: tenants, admin users and sessions,
//! consumers, API keys, products, subscriptions, and routes, upstreams,
//! providers and models kept as their spec JSON, on SQLite or PostgreSQL
//! through one sqlx `AnyPool` (every query is written once, with `$N`
//! placeholders; only the migrations differ).
//!
//! Invariants:
//! - The data plane never waits on the store and never depends on this
//!   crate: it reads a compiled snapshot, rebuilt by the control plane from
//!   [`Store::all_active_keys`] and the other lists, and learns what changed
//!   by polling [`Store::changes_since`].
//! - Every mutation writes its row, its [`AuditEntry`] and its [`Change`] in
//!   one transaction: all three commit or none does.
//! - Secrets are only ever hashed or encrypted at rest: API keys and
//!   session tokens as SHA-256, passwords as argon2id, provider credentials
//!   with AES-256-GCM ([`SecretBox`]). Entity types carry no secret, so the
//!   audit log (their JSON) cannot contain one.
//! - Rows declared in the configuration file are `file_managed`: the API
//!   refuses to change them; [`Store::apply_file`] owns them.
//!
//! Contents: [`Store`] (`db.rs`) opens and migrates; one module per entity
//! (`tenants`, `users`, `consumers`, `keys`, `products`, `subscriptions`,
//! `resources`) over the shared mechanics of `entity`, then `audit`, `changes`, `file` (applying the YAML file)
//! and `crypto`.

mod audit;
mod changes;
mod consumers;
mod crypto;
mod db;
mod entity;
mod error;
mod file;
mod keys;
mod model;
mod products;
mod resources;
mod subscriptions;
mod tenants;
mod usage;
mod users;

pub use audit::AuditFilter;
pub use consumers::{ConsumerFilter, ConsumerPatch, NewConsumer};
pub use crypto::{SECRET_KEY_ENV, SECRET_KEY_FILE_ENV, SecretBox, sha256_hex};
pub use db::{Backend, Store};
pub use error::{Result, StoreError};
pub use file::{
    ApplyReport, FileConsumer, FileEntities, FileKey, FileProduct, FileResource, FileTenant,
};
pub use keys::{API_KEY_PREFIX, KeyFilter, KeyPatch, NewKey};
pub use model::*;
pub use products::{NewProduct, ProductFilter, ProductPatch};
pub use resources::{NewResource, ResourceFilter, ResourcePatch};
pub use subscriptions::SubscriptionFilter;
pub use tenants::{NewTenant, TenantFilter, TenantPatch, is_slug};
pub use usage::UsageRow;
pub use users::{NewUser, SESSION_PREFIX, UserFilter, UserPatch};
