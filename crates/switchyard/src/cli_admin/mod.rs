//! `switchyard login|whoami|logout|tenants|users|consumers|keys|products|subscriptions|audit`:
//! the admin REST API (`/admin/v1` on the admin listener, crate sy-admin)
//! from the command line, for people and for scripts.
//!
//! Every command becomes one [`commands::Op`] (method, path, query, body,
//! `If-Match`) that the one request helper, [`client::Client`], sends; the
//! answer is printed as the API's JSON, pretty (`-o json`), or as a table
//! whose columns come from the entity's [`resources::Resource`] spec
//! ([`table`]). Failures (the API's status and message, an unreachable
//! URL) are returned as errors, which `main` prints on stderr with exit
//! code 1; clap's usage errors exit with 2.

mod client;
mod commands;
mod input;
mod resources;
mod table;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::Value;

use client::Client;
use commands::{Op, Plan, Show};

/// How answers are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Aligned columns of the useful fields, one row per entity.
    Table,
    /// The API's JSON answer, pretty-printed.
    Json,
}

/// Options of every admin command.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Base URL of the gateway's admin listener.
    #[arg(
        long,
        global = true,
        help_heading = "Admin API",
        value_name = "URL",
        env = "SWITCHYARD_ADMIN_URL",
        default_value = "http://127.0.0.1:9901"
    )]
    admin_url: String,
    /// Bearer token: the server's bootstrap token or a session token from
    /// `switchyard login`.
    #[arg(
        long,
        global = true,
        help_heading = "Admin API",
        env = "SWITCHYARD_ADMIN_TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
    /// Output format.
    #[arg(short, long, global = true, help_heading = "Admin API", value_enum, default_value_t = Output::Table)]
    output: Output,
}

/// An entity group's subcommand with the global options.
#[derive(Debug, Clone, Args)]
pub struct Group<A: Subcommand> {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    action: A,
}

/// The admin commands, flattened into the CLI's top level.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Log in to the admin API and print a session token, for
    /// `export SWITCHYARD_ADMIN_TOKEN=$(switchyard login --username me --password-stdin <pw)`.
    Login {
        #[command(flatten)]
        global: Global,
        #[command(flatten)]
        login: commands::LoginArgs,
    },
    /// Who the token is: its user, role and tenant.
    Whoami {
        #[command(flatten)]
        global: Global,
        #[command(flatten)]
        whoami: commands::WhoamiArgs,
    },
    /// End the token's session: it stops working at once.
    Logout {
        #[command(flatten)]
        global: Global,
        #[command(flatten)]
        logout: commands::LogoutArgs,
    },
    /// Tenants, through the admin API: the unit of isolation.
    Tenants(Group<commands::Tenants>),
    /// Admin users, through the admin API.
    Users(Group<commands::Users>),
    /// Consumers (applications or teams holding keys), through the admin API.
    Consumers(Group<commands::Consumers>),
    /// API keys, through the admin API.
    Keys(Group<commands::Keys>),
    /// Products (bundles of routes and models), through the admin API.
    Products(Group<commands::Products>),
    /// Subscriptions of consumers to products and their approval, through
    /// the admin API.
    Subscriptions(Group<commands::Subscriptions>),
    /// The audit log, through the admin API.
    Audit(Group<commands::Audit>),
}

/// Runs an admin command: one call (a few more to look up names, or to
/// follow `--all` pages), its answer on stdout.
pub fn run(cmd: AdminCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AdminCommand::Login { global, login } => exec(global, login),
        AdminCommand::Whoami { global, whoami } => exec(global, whoami),
        AdminCommand::Logout { global, logout } => exec(global, logout),
        AdminCommand::Tenants(g) => exec(g.global, g.action),
        AdminCommand::Users(g) => exec(g.global, g.action),
        AdminCommand::Consumers(g) => exec(g.global, g.action),
        AdminCommand::Keys(g) => exec(g.global, g.action),
        AdminCommand::Products(g) => exec(g.global, g.action),
        AdminCommand::Subscriptions(g) => exec(g.global, g.action),
        AdminCommand::Audit(g) => exec(g.global, g.action),
    }
}

fn exec(global: Global, action: impl Plan) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (op, answer) = rt.block_on(async {
        let client = Client::new(&global.admin_url, global.token.clone())?;
        let op = action.plan(&client).await?;
        let answer = match op.list {
            Some(all) => Some(client.list(&op.path, op.query.clone(), all).await?),
            None => {
                client
                    .send(
                        op.method.clone(),
                        &op.path,
                        &op.query,
                        op.body.as_ref(),
                        op.if_match,
                    )
                    .await?
            }
        };
        anyhow::Ok((op, answer))
    })?;
    print(global.output, &op, answer)?;
    Ok(ExitCode::SUCCESS)
}

fn print(output: Output, op: &Op, answer: Option<Value>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let answer = answer.unwrap_or(Value::Null);
    if output == Output::Json {
        if !answer.is_null() {
            writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
        }
        return Ok(());
    }
    match &op.show {
        Show::Rows(r) if op.list.is_some() => {
            let rows = answer["items"].as_array().map(Vec::as_slice);
            write!(
                out,
                "{}",
                table::render(r.columns, rows.unwrap_or_default())
            )?;
            if let Some(next) = answer["next"].as_str() {
                writeln!(
                    std::io::stderr(),
                    "(more rows: pass --all, or --after {next})"
                )?;
            }
        }
        Show::Rows(r) => write!(out, "{}", table::render(r.columns, &[answer]))?,
        Show::NewKey => {
            let key = table::lookup(&answer, "key");
            write!(
                out,
                "{}",
                table::render(resources::KEYS.columns, std::slice::from_ref(key))
            )?;
            let secret = answer["secret"].as_str().unwrap_or_default();
            writeln!(out, "\nsecret: {secret}")?;
            writeln!(out, "Store this secret now: it will not be shown again.")?;
        }
        Show::Done(msg) => writeln!(out, "{msg}")?,
        Show::Token => {
            writeln!(out, "{}", answer["token"].as_str().unwrap_or_default())?;
            if std::io::stderr().is_terminal() {
                writeln!(
                    std::io::stderr(),
                    "logged in as {} ({}); the token expires at {}",
                    answer["user"]["username"].as_str().unwrap_or("?"),
                    answer["user"]["role"].as_str().unwrap_or("?"),
                    answer["expires_at"]
                        .as_i64()
                        .map_or_else(String::new, table::rfc3339),
                )?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        crate::cli::Cli::command().debug_assert();
    }
}
