//! `switchyard keys …`: the secret is shown once.

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::*;
use crate::cli_admin::client::Client;
use crate::cli_admin::input::{BodyArgs, Fields, Nested};
use crate::cli_admin::resources::{CONSUMERS, KEYS, TENANTS};

/// `switchyard keys …`.
#[derive(Debug, Clone, Subcommand)]
pub enum Keys {
    /// List API keys (of your tenant; platform admins: any).
    List {
        /// Only this tenant's (id or name).
        #[arg(long)]
        tenant: Option<String>,
        /// Only this consumer's (id or name).
        #[arg(long)]
        consumer: Option<String>,
        /// Include revoked keys.
        #[arg(long)]
        include_revoked: bool,
        #[command(flatten)]
        page: Paging,
    },
    /// Show one key (never its secret).
    Get(Id),
    /// Create a key for a consumer and print its secret, once.
    Create {
        /// Owning consumer (id or name).
        #[arg(long, required_unless_present_any = ["body_json", "body_file"])]
        consumer: Option<String>,
        /// Label: letters, digits, `.`, `_`, `-`.
        #[arg(long, required_unless_present_any = ["body_json", "body_file"])]
        name: Option<String>,
        #[command(flatten)]
        scopes: Scopes,
        /// Refuse the key after this Unix time in milliseconds.
        #[arg(long, value_name = "UNIX_MS")]
        expires_at: Option<i64>,
        #[command(flatten)]
        nested: Nested,
        #[command(flatten)]
        body: BodyArgs,
    },
    /// Change a key: only the given fields change.
    Update {
        #[command(flatten)]
        target: Target,
        /// New label.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        scopes: Scopes,
        /// New expiry, Unix milliseconds.
        #[arg(long, value_name = "UNIX_MS", conflicts_with = "never_expires")]
        expires_at: Option<i64>,
        /// Remove the expiry.
        #[arg(long)]
        never_expires: bool,
        #[command(flatten)]
        nested: Nested,
        #[command(flatten)]
        body: BodyArgs,
    },
    /// Revoke a key for good (the record stays).
    Revoke(Target),
    /// Delete a key's record (prefer revoke).
    Delete(Target),
}

/// What a key may reach; giving either list sets (replaces) both.
#[derive(Debug, Clone, Args)]
pub struct Scopes {
    /// Route names the key may reach, comma-separated (default: every route).
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub routes: Option<Vec<String>>,
    /// Model names the key may use, comma-separated (default: every model).
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub models: Option<Vec<String>>,
}

impl Scopes {
    fn into_value(self) -> Option<Value> {
        if self.routes.is_none() && self.models.is_none() {
            return None;
        }
        Some(json!({
            "routes": self.routes.unwrap_or_default(),
            "models": self.models.unwrap_or_default(),
        }))
    }
}

impl Plan for Keys {
    async fn plan(self, c: &Client) -> anyhow::Result<Op> {
        let r = &KEYS;
        Ok(match self {
            Keys::List {
                tenant,
                consumer,
                include_revoked,
                page,
            } => {
                let q = query([
                    ("tenant_id", id_opt(c, &TENANTS, tenant).await?),
                    ("consumer_id", id_opt(c, &CONSUMERS, consumer).await?),
                    (
                        "include_revoked",
                        include_revoked.then(|| "true".to_owned()),
                    ),
                ]);
                Op::list(r, r.path, q, page)
            }
            Keys::Get(Id { id }) => Op::get(r, &id),
            Keys::Create {
                consumer,
                name,
                scopes,
                expires_at,
                nested,
                body,
            } => {
                let body = Fields::from_body(body)?
                    .opt("consumer_id", id_opt(c, &CONSUMERS, consumer).await?)
                    .opt("name", name)
                    .opt("scopes", scopes.into_value())
                    .opt("expires_at", expires_at)
                    .nested(nested);
                Op {
                    show: Show::NewKey,
                    ..Op::create(r, body.into_value())
                }
            }
            Keys::Update {
                target,
                name,
                scopes,
                expires_at,
                never_expires,
                nested,
                body,
            } => {
                let mut body = Fields::from_body(body)?
                    .opt("name", name)
                    .opt("scopes", scopes.into_value())
                    .opt("expires_at", expires_at)
                    .nested(nested);
                if never_expires {
                    body = body.set("expires_at", Value::Null);
                }
                Op::update(r, &target.id, body.into_value(), target.if_match)
            }
            Keys::Revoke(t) => Op::verb(r, &t.id, "revoke", None, t.if_match),
            Keys::Delete(t) => Op::delete(r, &t.id, t.if_match),
        })
    }
}
