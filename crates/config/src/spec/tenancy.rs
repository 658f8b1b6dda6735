//! Tenants and API products declared in the file. They are applied into the
//! store at start, marked file-managed (read-only through the admin API);
//! tenants, consumers, keys and products created through the API live
//! beside them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::LimitsSpec;

/// A team that owns consumers (applications) and products.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct TenantSpec {
    /// Unique name: lower-case letters, digits and `-`, up to 63 characters.
    pub name: String,
    /// Human-readable name (default: `name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Limits on everything the tenant's consumers do together.
    #[serde(default, skip_serializing_if = "LimitsSpec::is_empty")]
    pub limits: LimitsSpec,
}

/// Who can see a product in the catalog (and so ask to subscribe).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VisibilitySpec {
    /// Every tenant.
    #[default]
    Public,
    /// The owning tenant's members only.
    Tenant,
    /// Platform admins and the owning tenant's admins only.
    Private,
}

/// An API product: routes and models offered together, which consumers
/// subscribe to. A route or model listed by any product can only be called
/// with an approved subscription to one of the products listing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ProductSpec {
    /// Unique name.
    pub name: String,
    /// The owning tenant; absent for a platform-wide product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// One-line description for the catalog.
    #[serde(default)]
    pub description: String,
    /// Longer documentation (Markdown).
    #[serde(default)]
    pub docs: String,
    /// Who sees it.
    #[serde(default)]
    pub visibility: VisibilitySpec,
    /// Route names included.
    #[serde(default)]
    pub routes: Vec<String>,
    /// Model names included.
    #[serde(default)]
    pub models: Vec<String>,
    /// Subscriptions wait for an approver; otherwise they are approved when
    /// requested.
    #[serde(default)]
    pub requires_approval: bool,
}
