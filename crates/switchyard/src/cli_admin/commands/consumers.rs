//! `switchyard consumers …`.

use clap::Subcommand;

use super::*;
use crate::cli_admin::client::Client;
use crate::cli_admin::input::{BodyArgs, Fields, Nested};
use crate::cli_admin::resources::{CONSUMERS, TENANTS};

/// `switchyard consumers …`.
#[derive(Debug, Clone, Subcommand)]
pub enum Consumers {
    /// List consumers (of your tenant; platform admins: any).
    List {
        /// Only this tenant's (id or name).
        #[arg(long)]
        tenant: Option<String>,
        /// Only names starting with this.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        page: Paging,
    },
    /// Show one consumer.
    Get(Id),
    /// Create a consumer (an application or team holding keys).
    Create {
        /// Owning tenant (id or name); default: your own (platform admins
        /// must give one).
        #[arg(long)]
        tenant: Option<String>,
        /// Unique within the tenant: letters, digits, `.`, `_`, `-`.
        #[arg(long, required_unless_present_any = ["body_json", "body_file"])]
        name: Option<String>,
        /// Free text.
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        nested: Nested,
        #[command(flatten)]
        body: BodyArgs,
    },
    /// Change a consumer: only the given fields change.
    Update {
        #[command(flatten)]
        target: Target,
        /// New description.
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        nested: Nested,
        #[command(flatten)]
        body: BodyArgs,
    },
    /// Delete a consumer with its keys and subscriptions.
    Delete(Target),
}

impl Plan for Consumers {
    async fn plan(self, c: &Client) -> anyhow::Result<Op> {
        let r = &CONSUMERS;
        Ok(match self {
            Consumers::List { tenant, name, page } => {
                let tenant = id_opt(c, &TENANTS, tenant).await?;
                Op::list(
                    r,
                    r.path,
                    query([("tenant_id", tenant), ("name", name)]),
                    page,
                )
            }
            Consumers::Get(Id { id }) => Op::get(r, &c.resolve(r, &id).await?),
            Consumers::Create {
                tenant,
                name,
                description,
                nested,
                body,
            } => {
                let body = Fields::from_body(body)?
                    .opt("tenant_id", id_opt(c, &TENANTS, tenant).await?)
                    .opt("name", name)
                    .opt("description", description)
                    .nested(nested);
                Op::create(r, body.into_value())
            }
            Consumers::Update {
                target,
                description,
                nested,
                body,
            } => {
                let body = Fields::from_body(body)?
                    .opt("description", description)
                    .nested(nested);
                let id = c.resolve(r, &target.id).await?;
                Op::update(r, &id, body.into_value(), target.if_match)
            }
            Consumers::Delete(t) => Op::delete(r, &c.resolve(r, &t.id).await?, t.if_match),
        })
    }
}
