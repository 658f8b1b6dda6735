//! `switchyard tenants …`.

use clap::Subcommand;

use super::*;
use crate::cli_admin::client::Client;
use crate::cli_admin::input::{BodyArgs, Fields, Nested};
use crate::cli_admin::resources::TENANTS;

/// `switchyard tenants …`.
#[derive(Debug, Clone, Subcommand)]
pub enum Tenants {
    /// List tenants (tenant users see only their own).
    List {
        /// Only names starting with this.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        page: Paging,
    },
    /// Show one tenant.
    Get(Id),
    /// Create a tenant (platform admins).
    Create {
        /// Slug: lower-case letters, digits and `-`.
        #[arg(long, required_unless_present_any = ["body_json", "body_file"])]
        name: Option<String>,
        /// Human-readable name (default: the slug).
        #[arg(long)]
        display_name: Option<String>,
        #[command(flatten)]
        nested: Nested,
        #[command(flatten)]
        body: BodyArgs,
    },
    /// Change a tenant: only the given fields change.
    Update {
        #[command(flatten)]
        target: Target,
        /// New display name.
        #[arg(long)]
        display_name: Option<String>,
        #[command(flatten)]
        nested: Nested,
        #[command(flatten)]
        body: BodyArgs,
    },
    /// Delete a tenant and everything it owns.
    Delete(Target),
}

impl Plan for Tenants {
    async fn plan(self, c: &Client) -> anyhow::Result<Op> {
        let r = &TENANTS;
        Ok(match self {
            Tenants::List { name, page } => Op::list(r, r.path, query([("name", name)]), page),
            Tenants::Get(Id { id }) => Op::get(r, &c.resolve(r, &id).await?),
            Tenants::Create {
                name,
                display_name,
                nested,
                body,
            } => {
                let body = Fields::from_body(body)?
                    .opt("name", name)
                    .opt("display_name", display_name)
                    .nested(nested);
                Op::create(r, body.into_value())
            }
            Tenants::Update {
                target,
                display_name,
                nested,
                body,
            } => {
                let body = Fields::from_body(body)?
                    .opt("display_name", display_name)
                    .nested(nested);
                let id = c.resolve(r, &target.id).await?;
                Op::update(r, &id, body.into_value(), target.if_match)
            }
            Tenants::Delete(t) => Op::delete(r, &c.resolve(r, &t.id).await?, t.if_match),
        })
    }
}
