//! Routes: match conditions, rewrites and targets.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{LimitsSpec, PoliciesSpec};

/// A route: what it matches, what it does, where it sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct RouteSpec {
    /// Unique name, used in logs and metrics.
    pub name: String,
    /// Higher wins; among equal priorities the most specific match wins.
    #[serde(default)]
    pub priority: i32,
    /// Conditions; all must hold.
    #[serde(default, rename = "match")]
    pub matches: MatchSpec,
    /// Path and host rewriting before the upstream call.
    #[serde(default)]
    pub rewrite: Option<RewriteSpec>,
    /// Policies applied to the route's requests.
    #[serde(default)]
    pub policies: PoliciesSpec,
    /// Where matching requests go.
    pub target: RouteTargetSpec,
    /// Limits on all traffic of the route, whoever sends it.
    #[serde(default, skip_serializing_if = "LimitsSpec::is_empty")]
    pub limits: LimitsSpec,
}

/// Route match conditions.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct MatchSpec {
    /// Hosts: `api.example.com` or `*.example.com` (one or more labels). Empty matches any.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Methods, upper case. Empty matches any.
    #[serde(default)]
    pub methods: Vec<String>,
    /// Path condition; absent matches any path.
    #[serde(default)]
    pub path: Option<PathMatchSpec>,
    /// Header conditions.
    #[serde(default)]
    pub headers: Vec<ValueMatchSpec>,
    /// Query parameter conditions.
    #[serde(default)]
    pub query: Vec<ValueMatchSpec>,
}

/// How the path is matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum PathMatchSpec {
    /// The path equals this.
    Exact(String),
    /// The path starts with this at a segment boundary (`/api` matches
    /// `/api` and `/api/x`, not `/apix`).
    Prefix(String),
    /// Segments with `{name}` captures and an optional final `{*rest}`,
    /// e.g. `/users/{id}/orders/{*rest}`.
    Template(String),
}

/// A condition on a header or query parameter. Exactly one of `exact`,
/// `regex`, `present` must be given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ValueMatchSpec {
    /// Header (case-insensitive) or query parameter name.
    pub name: String,
    /// The value equals this.
    #[serde(default)]
    pub exact: Option<String>,
    /// The value matches this regular expression (anchored at both ends).
    #[serde(default)]
    pub regex: Option<String>,
    /// `true`: the name must be present; `false`: it must be absent.
    #[serde(default)]
    pub present: Option<bool>,
}

/// Rewrites before the upstream call.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct RewriteSpec {
    /// Remove this leading path prefix (`/api/users` → `/users`).
    #[serde(default)]
    pub strip_prefix: Option<String>,
    /// Replace the path with this template; `{name}` inserts a capture from
    /// a `template` path match, e.g. `/v2/users/{id}`. Every placeholder must
    /// be one of the template's captures; exclusive with `strip_prefix`.
    #[serde(default)]
    pub path: Option<String>,
    /// Replace the Host header sent upstream (default: the client's host).
    #[serde(default)]
    pub host: Option<String>,
}

/// Where a route sends requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum RouteTargetSpec {
    /// An upstream pool by name.
    Upstream(String),
    /// A weighted split between pools (canaries, A/B).
    Split(Vec<SplitSpec>),
    /// The AI gateway: OpenAI- and Anthropic-compatible endpoints under this route.
    Ai(AiTargetSpec),
    /// A fixed response, for maintenance pages and tests.
    Respond(RespondSpec),
}

/// One branch of a weighted split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct SplitSpec {
    /// Upstream pool.
    pub upstream: String,
    /// Relative share.
    pub weight: u32,
}

/// The AI endpoint on a route.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct AiTargetSpec {
    /// Models reachable on this route; empty means every configured model.
    #[serde(default)]
    pub models: Vec<String>,
}

/// A fixed response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct RespondSpec {
    /// Status code.
    #[serde(default = "default_status")]
    pub status: u16,
    /// Body text.
    #[serde(default)]
    pub body: String,
    /// Response headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

fn default_status() -> u16 {
    200
}
