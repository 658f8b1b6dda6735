//! The subcommands of each entity group and how each becomes one [`Op`]:
//! flags map to query parameters or body fields by the API's names, and
//! names given where the API wants an id are looked up first.

use anyhow::bail;
use clap::{Args, Subcommand, ValueEnum};
use reqwest::Method;
use serde_json::{Value, json};

use super::client::{Client, Query};
use super::input::{BodyArgs, Fields, Nested, api_name, password};
use super::resources::{AUDIT, CONSUMERS, KEYS, PRODUCTS, Resource, SUBSCRIPTIONS, TENANTS, USERS};

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

// ---- login ---------------------------------------------------------------

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

impl Plan for LoginArgs {
    async fn plan(self, _c: &Client) -> anyhow::Result<Op> {
        let password = password(self.password_stdin)?;
        Ok(Op {
            body: Some(json!({"username": self.username, "password": password})),
            ..Op::new(Method::POST, "/login".to_owned(), Show::Token)
        })
    }
}

// ---- tenants -------------------------------------------------------------

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

// ---- users ---------------------------------------------------------------

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

// ---- consumers -----------------------------------------------------------

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

// ---- keys ----------------------------------------------------------------

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

// ---- products ------------------------------------------------------------

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

// ---- subscriptions -------------------------------------------------------

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

// ---- audit ---------------------------------------------------------------

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
