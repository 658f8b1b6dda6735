//! `switchyard products …`.

use clap::{Args, Subcommand, ValueEnum};

use super::*;
use crate::cli_admin::client::Client;
use crate::cli_admin::input::{BodyArgs, Fields, api_name};
use crate::cli_admin::resources::{PRODUCTS, TENANTS};

/// Who sees a product.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Visibility {
    /// Everyone, across tenants.
    Public,
    /// Members of the owning tenant (everyone, for a platform product).
    Tenant,
    /// Admins only.
    Private,
}

/// Product fields shared by `create` and `update`.
#[derive(Debug, Clone, Args)]
pub struct ProductFields {
    /// One-line summary.
    #[arg(long)]
    pub description: Option<String>,
    /// Markdown documentation.
    #[arg(long, conflicts_with = "docs_file")]
    pub docs: Option<String>,
    /// Read the Markdown documentation from this file.
    #[arg(long, value_name = "FILE")]
    pub docs_file: Option<std::path::PathBuf>,
    /// Who sees it (API default: tenant).
    #[arg(long, value_enum)]
    pub visibility: Option<Visibility>,
    /// Route names included, comma-separated (replaces the list).
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub routes: Option<Vec<String>>,
    /// Model names included, comma-separated (replaces the list).
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub models: Option<Vec<String>>,
    /// Whether subscriptions need an admin's approval (API default: true).
    #[arg(long, value_name = "BOOL")]
    pub requires_approval: Option<bool>,
}

impl ProductFields {
    fn apply(self, f: Fields) -> anyhow::Result<Fields> {
        let docs = match self.docs_file {
            Some(path) => Some(
                std::fs::read_to_string(&path)
                    .map_err(|e| anyhow::anyhow!("reading --docs-file {}: {e}", path.display()))?,
            ),
            None => self.docs,
        };
        Ok(f.opt("description", self.description)
            .opt("docs", docs)
            .opt("visibility", self.visibility.as_ref().map(api_name))
            .opt("routes", self.routes)
            .opt("models", self.models)
            .opt("requires_approval", self.requires_approval))
    }
}

/// `switchyard products …`.
#[derive(Debug, Clone, Subcommand)]
pub enum Products {
    /// List the products you may see.
    List {
        /// Only this tenant's (id or name).
        #[arg(long)]
        tenant: Option<String>,
        /// Only this visibility.
        #[arg(long, value_enum)]
        visibility: Option<Visibility>,
        /// Only names starting with this.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        page: Paging,
    },
    /// Show one product.
    Get(Id),
    /// Create a product: a bundle of routes and models to subscribe to.
    Create {
        /// Owning tenant (id or name); default: yours (platform admins:
        /// platform-wide).
        #[arg(long)]
        tenant: Option<String>,
        /// Unique name: letters, digits, `.`, `_`, `-`.
        #[arg(long, required_unless_present_any = ["body_json", "body_file"])]
        name: Option<String>,
        #[command(flatten)]
        fields: ProductFields,
        #[command(flatten)]
        body: BodyArgs,
    },
    /// Change a product: only the given fields change.
    Update {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        fields: ProductFields,
        #[command(flatten)]
        body: BodyArgs,
    },
    /// Delete a product and its subscriptions.
    Delete(Target),
}

impl Plan for Products {
    async fn plan(self, c: &Client) -> anyhow::Result<Op> {
        let r = &PRODUCTS;
        Ok(match self {
            Products::List {
                tenant,
                visibility,
                name,
                page,
            } => {
                let q = query([
                    ("tenant_id", id_opt(c, &TENANTS, tenant).await?),
                    ("visibility", visibility.as_ref().map(api_name)),
                    ("name", name),
                ]);
                Op::list(r, r.path, q, page)
            }
            Products::Get(Id { id }) => Op::get(r, &c.resolve(r, &id).await?),
            Products::Create {
                tenant,
                name,
                fields,
                body,
            } => {
                let body = Fields::from_body(body)?
                    .opt("tenant_id", id_opt(c, &TENANTS, tenant).await?)
                    .opt("name", name);
                Op::create(r, fields.apply(body)?.into_value())
            }
            Products::Update {
                target,
                fields,
                body,
            } => {
                let body = fields.apply(Fields::from_body(body)?)?;
                let id = c.resolve(r, &target.id).await?;
                Op::update(r, &id, body.into_value(), target.if_match)
            }
            Products::Delete(t) => Op::delete(r, &c.resolve(r, &t.id).await?, t.if_match),
        })
    }
}
