//! What the CLI knows of each admin API entity: where it lives, whether it
//! can be found by name, and the columns of its table. Everything else
//! (fields, validation) is the API's business.

use super::table::{Column, Fmt, col, text};

/// One entity group of the admin API.
#[derive(Debug)]
pub struct Resource {
    /// Singular noun for messages: `tenant`, `api key`.
    pub noun: &'static str,
    /// Collection path under `/admin/v1`: `/tenants`.
    pub path: &'static str,
    /// The list filters by `?name=<prefix>` and names are what people type,
    /// so a name given where an id is expected is looked up.
    pub by_name: bool,
    /// Table columns.
    pub columns: &'static [Column],
}

/// `GET /me`: the caller (a user, or the bootstrap token).
pub static ME: Resource = Resource {
    noun: "caller",
    path: "/me",
    by_name: false,
    columns: &[
        col("ID", "id", Fmt::Text),
        col("USERNAME", "user.username", Fmt::Text),
        col("ROLE", "role", Fmt::Text),
        col("TENANT", "tenant_id", Fmt::Text),
    ],
};

/// `/tenants`.
pub static TENANTS: Resource = Resource {
    noun: "tenant",
    path: "/tenants",
    by_name: true,
    columns: &[
        col("ID", "id", Fmt::Text),
        col("NAME", "name", Fmt::Text),
        text("DISPLAY NAME", "display_name", 32),
        col("FILE", "file_managed", Fmt::Bool),
        col("VERSION", "version", Fmt::Text),
        col("CREATED", "created_at", Fmt::Time),
    ],
};

/// `/users`.
pub static USERS: Resource = Resource {
    noun: "user",
    path: "/users",
    by_name: false,
    columns: &[
        col("ID", "id", Fmt::Text),
        col("USERNAME", "username", Fmt::Text),
        col("ROLE", "role", Fmt::Text),
        col("TENANT", "tenant_id", Fmt::Text),
        col("DISABLED", "disabled", Fmt::Bool),
        col("VERSION", "version", Fmt::Text),
        col("CREATED", "created_at", Fmt::Time),
    ],
};

/// `/consumers`.
pub static CONSUMERS: Resource = Resource {
    noun: "consumer",
    path: "/consumers",
    by_name: true,
    columns: &[
        col("ID", "id", Fmt::Text),
        col("NAME", "name", Fmt::Text),
        col("TENANT", "tenant_id", Fmt::Text),
        text("DESCRIPTION", "description", 40),
        col("VERSION", "version", Fmt::Text),
        col("CREATED", "created_at", Fmt::Time),
    ],
};

/// `/keys`.
pub static KEYS: Resource = Resource {
    noun: "api key",
    path: "/keys",
    by_name: false,
    columns: &[
        col("ID", "id", Fmt::Text),
        col("NAME", "name", Fmt::Text),
        col("PREFIX", "prefix", Fmt::Text),
        col("CONSUMER", "consumer_id", Fmt::Text),
        col("STATE", "", Fmt::KeyState),
        col("EXPIRES", "expires_at", Fmt::Time),
        col("CREATED", "created_at", Fmt::Time),
    ],
};

/// `/products`.
pub static PRODUCTS: Resource = Resource {
    noun: "product",
    path: "/products",
    by_name: true,
    columns: &[
        col("ID", "id", Fmt::Text),
        col("NAME", "name", Fmt::Text),
        col("TENANT", "tenant_id", Fmt::Text),
        col("VISIBILITY", "visibility", Fmt::Text),
        col("APPROVAL", "requires_approval", Fmt::Bool),
        Column {
            max: 40,
            ..col("ROUTES", "routes", Fmt::List)
        },
        Column {
            max: 40,
            ..col("MODELS", "models", Fmt::List)
        },
        col("CREATED", "created_at", Fmt::Time),
    ],
};

/// `/subscriptions`.
pub static SUBSCRIPTIONS: Resource = Resource {
    noun: "subscription",
    path: "/subscriptions",
    by_name: false,
    columns: &[
        col("ID", "id", Fmt::Text),
        col("CONSUMER", "consumer_id", Fmt::Text),
        col("PRODUCT", "product_id", Fmt::Text),
        col("STATE", "state", Fmt::Text),
        text("REASON", "reason", 40),
        col("VERSION", "version", Fmt::Text),
        col("CREATED", "created_at", Fmt::Time),
    ],
};

/// `/audit`.
pub static AUDIT: Resource = Resource {
    noun: "audit entry",
    path: "/audit",
    by_name: false,
    columns: &[
        col("AT", "at", Fmt::Time),
        col("ACTOR", "actor", Fmt::Text),
        col("ACTION", "action", Fmt::Text),
        col("KIND", "kind", Fmt::Text),
        col("ENTITY", "entity_id", Fmt::Text),
        col("TENANT", "tenant_id", Fmt::Text),
    ],
};
