//! `switchyard subscriptions …` and `switchyard audit …`.

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use super::*;
use crate::cli_admin::client::{Client, Query};
use crate::cli_admin::input::{Fields, api_name};
use crate::cli_admin::resources::{AUDIT, CONSUMERS, PRODUCTS, Resource, SUBSCRIPTIONS, TENANTS};

/// Where a subscription stands.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SubState {
    /// Waiting for an approver.
    Pending,
    /// Active.
    Approved,
    /// Refused.
    Rejected,
    /// Withdrawn after approval.
    Revoked,
}

/// Filters of the subscription lists.
#[derive(Debug, Clone, Args)]
pub struct SubFilters {
    /// Only this tenant's (id or name).
    #[arg(long)]
    pub tenant: Option<String>,
    /// Only this consumer's (id or name).
    #[arg(long)]
    pub consumer: Option<String>,
    /// Only to this product (id or name).
    #[arg(long)]
    pub product: Option<String>,
    #[command(flatten)]
    pub page: Paging,
}

impl SubFilters {
    async fn query(&self, c: &Client) -> anyhow::Result<Query> {
        Ok(query([
            ("tenant_id", id_opt(c, &TENANTS, self.tenant.clone()).await?),
            (
                "consumer_id",
                id_opt(c, &CONSUMERS, self.consumer.clone()).await?,
            ),
            (
                "product_id",
                id_opt(c, &PRODUCTS, self.product.clone()).await?,
            ),
        ]))
    }
}

/// A decision with an optional reason.
#[derive(Debug, Clone, Args)]
pub struct Decision {
    #[command(flatten)]
    target: Target,
    /// Why, shown to the subscriber.
    #[arg(long)]
    reason: Option<String>,
}

/// `switchyard subscriptions …`.
#[derive(Debug, Clone, Subcommand)]
pub enum Subscriptions {
    /// List subscriptions (of your tenant; platform admins: any).
    List {
        #[command(flatten)]
        filters: SubFilters,
        /// Only in this state.
        #[arg(long, value_enum)]
        state: Option<SubState>,
    },
    /// List the pending subscriptions you may decide (admins).
    Pending {
        #[command(flatten)]
        filters: SubFilters,
    },
    /// Show one subscription.
    Get(Id),
    /// Request a subscription of a consumer to a product (approved at once
    /// when the product needs no approval).
    #[command(visible_alias = "create")]
    Request {
        /// The subscribing consumer (id or name).
        #[arg(long)]
        consumer: String,
        /// The product (id or name).
        #[arg(long)]
        product: String,
    },
    /// Approve a pending subscription.
    Approve(Target),
    /// Reject a pending subscription.
    Reject(Decision),
    /// Revoke an approved subscription.
    Revoke(Decision),
    /// Delete a subscription's record (the audit log keeps its history).
    Delete(Target),
}

impl Plan for Subscriptions {
    async fn plan(self, c: &Client) -> anyhow::Result<Op> {
        let r = &SUBSCRIPTIONS;
        Ok(match self {
            Subscriptions::List { filters, state } => {
                let mut q = filters.query(c).await?;
                if let Some(s) = state {
                    q.push(("state", api_name(&s)));
                }
                Op::list(r, r.path, q, filters.page)
            }
            Subscriptions::Pending { filters } => {
                let q = filters.query(c).await?;
                Op::list(r, "/subscriptions/pending", q, filters.page)
            }
            Subscriptions::Get(Id { id }) => Op::get(r, &id),
            Subscriptions::Request { consumer, product } => {
                let body = json!({
                    "consumer_id": c.resolve(&CONSUMERS, &consumer).await?,
                    "product_id": c.resolve(&PRODUCTS, &product).await?,
                });
                Op::create(r, body)
            }
            Subscriptions::Approve(t) => Op::verb(r, &t.id, "approve", None, t.if_match),
            Subscriptions::Reject(d) => decide(r, "reject", d),
            Subscriptions::Revoke(d) => decide(r, "revoke", d),
            Subscriptions::Delete(t) => Op::delete(r, &t.id, t.if_match),
        })
    }
}

fn decide(r: &'static Resource, verb: &str, d: Decision) -> Op {
    let body = Fields::default().opt("reason", d.reason).into_value();
    Op::verb(r, &d.target.id, verb, Some(body), d.target.if_match)
}

/// `switchyard audit …`.
#[derive(Debug, Clone, Subcommand)]
pub enum Audit {
    /// List audit log entries, oldest first (admins).
    List {
        /// Only entries about this tenant's entities (id or name).
        #[arg(long)]
        tenant: Option<String>,
        /// Only this entity kind: `tenant`, `api_key`, `subscription`, …
        #[arg(long)]
        kind: Option<String>,
        /// Only this entity (id).
        #[arg(long)]
        entity: Option<String>,
        #[command(flatten)]
        page: Paging,
    },
}

impl Plan for Audit {
    async fn plan(self, c: &Client) -> anyhow::Result<Op> {
        let Audit::List {
            tenant,
            kind,
            entity,
            page,
        } = self;
        let q = query([
            ("tenant_id", id_opt(c, &TENANTS, tenant).await?),
            ("kind", kind),
            ("entity_id", entity),
        ]);
        Ok(Op::list(&AUDIT, AUDIT.path, q, page))
    }
}
