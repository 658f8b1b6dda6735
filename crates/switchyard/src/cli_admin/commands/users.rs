//! `switchyard users …`, and the password rules.

use anyhow::bail;
use clap::{Subcommand, ValueEnum};
use serde_json::Value;

use super::*;
use crate::cli_admin::client::Client;
use crate::cli_admin::input::{BodyArgs, Fields, api_name, password};
use crate::cli_admin::resources::{TENANTS, USERS};

/// What an admin user may do.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Role {
    /// Everything, across tenants.
    #[value(name = "platform_admin", alias = "platform-admin")]
    PlatformAdmin,
    /// Everything inside one tenant.
    #[value(name = "tenant_admin", alias = "tenant-admin")]
    TenantAdmin,
    /// Reads their tenant; creates keys and subscription requests.
    Developer,
}

/// `switchyard users …`.
#[derive(Debug, Clone, Subcommand)]
pub enum Users {
    /// List admin users (admins).
    List {
        /// Only this tenant's users (id or name).
        #[arg(long)]
        tenant: Option<String>,
        #[command(flatten)]
        page: Paging,
    },
    /// Show one user.
    Get(Id),
    /// Create an admin user; the password comes from stdin
    /// (--password-stdin) or the terminal.
    Create {
        /// Login name: letters, digits and `._-@+`.
        #[arg(long, required_unless_present_any = ["body_json", "body_file"])]
        username: Option<String>,
        /// What the user may do.
        #[arg(long, value_enum, required_unless_present_any = ["body_json", "body_file"])]
        role: Option<Role>,
        /// The user's tenant (id or name); not for platform admins.
        #[arg(long)]
        tenant: Option<String>,
        /// Read the password from stdin's first line.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        body: BodyArgs,
    },
    /// Change a user: only the given fields change.
    Update {
        #[command(flatten)]
        target: Target,
        /// New role.
        #[arg(long, value_enum)]
        role: Option<Role>,
        /// Move to this tenant (id or name).
        #[arg(long, conflicts_with = "no_tenant")]
        tenant: Option<String>,
        /// Clear the tenant (platform admins).
        #[arg(long)]
        no_tenant: bool,
        /// Disable (`true`) or re-enable (`false`) logins.
        #[arg(long, value_name = "BOOL")]
        disabled: Option<bool>,
        /// Set a new password, read from stdin's first line.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        body: BodyArgs,
    },
    /// Delete a user and their sessions.
    Delete(Target),
}

impl Plan for Users {
    async fn plan(self, c: &Client) -> anyhow::Result<Op> {
        let r = &USERS;
        Ok(match self {
            Users::List { tenant, page } => {
                let tenant = id_opt(c, &TENANTS, tenant).await?;
                Op::list(r, r.path, query([("tenant_id", tenant)]), page)
            }
            Users::Get(Id { id }) => Op::get(r, &id),
            Users::Create {
                username,
                role,
                tenant,
                password_stdin,
                body,
            } => {
                check_stdin(&body, password_stdin)?;
                let mut fields = Fields::from_body(body)?
                    .opt("username", username)
                    .opt("role", role.as_ref().map(api_name))
                    .opt("tenant_id", id_opt(c, &TENANTS, tenant).await?);
                if password_stdin || !fields.has("password") {
                    fields = fields.set("password", Value::String(password(password_stdin)?));
                }
                Op::create(r, fields.into_value())
            }
            Users::Update {
                target,
                role,
                tenant,
                no_tenant,
                disabled,
                password_stdin,
                body,
            } => {
                check_stdin(&body, password_stdin)?;
                let mut fields = Fields::from_body(body)?
                    .opt("role", role.as_ref().map(api_name))
                    .opt("tenant_id", id_opt(c, &TENANTS, tenant).await?)
                    .opt("disabled", disabled);
                if no_tenant {
                    fields = fields.set("tenant_id", Value::Null);
                }
                if password_stdin {
                    fields = fields.set("password", Value::String(password(true)?));
                }
                Op::update(r, &target.id, fields.into_value(), target.if_match)
            }
            Users::Delete(t) => Op::delete(r, &t.id, t.if_match),
        })
    }
}

/// stdin can carry the body or the password, not both.
fn check_stdin(body: &BodyArgs, password_stdin: bool) -> anyhow::Result<()> {
    if password_stdin && body.uses_stdin() {
        bail!("--password-stdin and --body-file - both read stdin; put the body in a file");
    }
    Ok(())
}
