//! The subcommands of each entity group and how each becomes one [`Op`]:
//! flags map to query parameters or body fields by the API's names, and
//! names given where the API wants an id are looked up first. One file per
//! entity group; this one holds what they share and `login`.

use clap::Args;
use reqwest::Method;
use serde_json::{Value, json};

use super::client::{Client, Query};
use super::input::password;
use super::resources::{ME, Resource};

mod consumers;
mod keys;
mod products;
mod subscriptions;
mod tenants;
mod users;

pub use consumers::*;
pub use keys::*;
pub use products::*;
pub use subscriptions::*;
pub use tenants::*;
pub use users::*;

/// One admin API call and how to show its answer.
#[derive(Debug)]
pub struct Op {
    /// HTTP method.
    pub method: Method,
    /// Path under `/admin/v1`.
    pub path: String,
    /// Query parameters.
    pub query: Query,
    /// JSON body.
    pub body: Option<Value>,
    /// `If-Match` version.
    pub if_match: Option<i64>,
    /// A list: `Some(all)`, where `all` follows `next` cursors.
    pub list: Option<bool>,
    /// How the answer is shown as a table.
    pub show: Show,
}

/// How an answer is shown with `--output table`.
#[derive(Debug)]
pub enum Show {
    /// A page of rows (lists) or one row, with this resource's columns.
    Rows(&'static Resource),
    /// `POST /keys`: the key's row, then its secret, once.
    NewKey,
    /// An answer without a body: this line.
    Done(String),
    /// `POST /login`: the token alone.
    Token,
}

impl Op {
    fn new(method: Method, path: String, show: Show) -> Op {
        Op {
            method,
            path,
            query: Vec::new(),
            body: None,
            if_match: None,
            list: None,
            show,
        }
    }

    fn list(r: &'static Resource, path: &str, mut query: Query, page: Paging) -> Op {
        if let Some(l) = page.limit {
            query.push(("limit", l.to_string()));
        }
        if let Some(a) = page.after {
            query.push(("after", a));
        }
        Op {
            query,
            list: Some(page.all),
            ..Op::new(Method::GET, path.to_owned(), Show::Rows(r))
        }
    }

    fn get(r: &'static Resource, id: &str) -> Op {
        Op::new(Method::GET, format!("{}/{id}", r.path), Show::Rows(r))
    }

    fn create(r: &'static Resource, body: Value) -> Op {
        Op {
            body: Some(body),
            ..Op::new(Method::POST, r.path.to_owned(), Show::Rows(r))
        }
    }

    fn update(r: &'static Resource, id: &str, body: Value, if_match: Option<i64>) -> Op {
        Op {
            body: Some(body),
            if_match,
            ..Op::new(Method::PATCH, format!("{}/{id}", r.path), Show::Rows(r))
        }
    }

    fn delete(r: &'static Resource, id: &str, if_match: Option<i64>) -> Op {
        let done = Show::Done(format!("deleted {} {id}", r.noun));
        Op {
            if_match,
            ..Op::new(Method::DELETE, format!("{}/{id}", r.path), done)
        }
    }

    /// `POST <path>/<id>/<verb>`, answering the changed entity.
    fn verb(
        r: &'static Resource,
        id: &str,
        verb: &str,
        body: Option<Value>,
        if_match: Option<i64>,
    ) -> Op {
        Op {
            body,
            if_match,
            ..Op::new(
                Method::POST,
                format!("{}/{id}/{verb}", r.path),
                Show::Rows(r),
            )
        }
    }
}

/// Turns a parsed subcommand into its call.
pub(crate) trait Plan {
    /// The call, after looking up names given for ids.
    async fn plan(self, c: &Client) -> anyhow::Result<Op>;
}

/// The query pairs whose values are given.
fn query<const N: usize>(pairs: [(&'static str, Option<String>); N]) -> Query {
    pairs
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
}

/// The id of an optional `--tenant`/`--consumer`/`--product` value.
async fn id_opt(
    c: &Client,
    r: &'static Resource,
    v: Option<String>,
) -> anyhow::Result<Option<String>> {
    match v {
        Some(v) => Ok(Some(c.resolve(r, &v).await?)),
        None => Ok(None),
    }
}

/// Flags of every `list`.
#[derive(Debug, Clone, Args)]
pub struct Paging {
    /// Rows per page, 1 to 500 (the API's default: 50).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=500))]
    pub limit: Option<u32>,
    /// Start after this cursor (the `next` of a previous page).
    #[arg(long, value_name = "CURSOR", conflicts_with = "all")]
    pub after: Option<String>,
    /// Follow the `next` cursors and show every row.
    #[arg(long)]
    pub all: bool,
}

/// One entity, by id.
#[derive(Debug, Clone, Args)]
pub struct Id {
    /// Its id (tenants, consumers, products: or its name).
    pub id: String,
}

/// One entity to change, by id, optionally at a version.
#[derive(Debug, Clone, Args)]
pub struct Target {
    /// Its id (tenants, consumers, products: or its name).
    pub id: String,
    /// Only if it is still at this version (its ETag); 412 otherwise.
    #[arg(long, value_name = "VERSION")]
    pub if_match: Option<i64>,
}

/// `switchyard login`.
#[derive(Debug, Clone, Args)]
pub struct LoginArgs {
    /// Login name.
    #[arg(long)]
    pub username: String,
    /// Read the password from stdin's first line (else it is asked for on
    /// the terminal).
    #[arg(long)]
    pub password_stdin: bool,
}

/// `switchyard whoami`: who the token is (`GET /me`).
#[derive(Debug, Clone, Args)]
pub struct WhoamiArgs {}

impl Plan for WhoamiArgs {
    async fn plan(self, _c: &Client) -> anyhow::Result<Op> {
        Ok(Op::new(Method::GET, ME.path.to_owned(), Show::Rows(&ME)))
    }
}

/// `switchyard logout`: end the token's session (`POST /logout`).
#[derive(Debug, Clone, Args)]
pub struct LogoutArgs {}

impl Plan for LogoutArgs {
    async fn plan(self, _c: &Client) -> anyhow::Result<Op> {
        Ok(Op::new(
            Method::POST,
            "/logout".to_owned(),
            // The bootstrap token has no session and stays valid.
            Show::Done("logged out (a session token; the bootstrap token stays valid)".to_owned()),
        ))
    }
}

impl Plan for LoginArgs {
    async fn plan(self, _c: &Client) -> anyhow::Result<Op> {
        let password = password(self.password_stdin)?;
        Ok(Op {
            body: Some(json!({"username": self.username, "password": password})),
            ..Op::new(Method::POST, "/login".to_owned(), Show::Token)
        })
    }
}
