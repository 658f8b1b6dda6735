//! What every entity module shares: reading a row by a column, fetching one
//! to change it (not found, file-managed and stale-version refusals),
//! writing it with its audit entry and change-feed row, deleting it, and
//! listing a page. An entity module implements [`Entity`] (its table, kind,
//! row decoding and `UPDATE`) and keeps only what is its own: columns,
//! validation, patches and inserts.

use serde::Serialize;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Executor};

use crate::db::{Audit, Store, Where, WriteTx, audit_json, check_version, now_ms};
use crate::error::{Result, StoreError};
use crate::model::{Actor, Page, Paged};

/// A query with its binds, ready to execute.
pub(crate) type AnyQuery<'q> = Query<'q, Any, AnyArguments<'q>>;

/// A stored, versioned, audited row type.
pub(crate) trait Entity: Clone + PartialEq + Serialize + Send + Sync + 'static {
    /// The kind named when a lookup by id finds nothing; also the audit kind
    /// unless [`Entity::kind`] says otherwise.
    const KIND: &'static str;
    /// The table.
    const TABLE: &'static str;
    /// `SELECT <every column> FROM <table>`, without a `WHERE`.
    const SELECT: &'static str;

    /// Reads one row of [`Entity::SELECT`].
    fn decode(row: &AnyRow) -> Result<Self>;

    /// The row's id.
    fn id(&self) -> &str;

    /// The row's version (1 at creation, bumped by every update).
    fn version(&self) -> i64;

    /// The tenant the audit log files the row under.
    fn tenant_id(&self) -> Option<&str>;

    /// The unique field an insert can collide on, and this row's value of it
    /// (for [`StoreError::Conflict`]).
    fn unique(&self) -> (&'static str, &str);

    /// Bumps the version and sets `updated_at` to `now`.
    fn touch(&mut self, now: i64);

    /// The `UPDATE` writing every mutable column of `self` if the row is
    /// still at version `prev`.
    fn update_query(&self, prev: i64) -> Result<AnyQuery<'_>>;

    /// The kind in the audit log, the change feed and `FileManaged`.
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    /// Declared in the configuration file: the API may not change it.
    fn file_managed(&self) -> bool {
        false
    }

    /// The name `FileManaged` reports.
    fn name(&self) -> &str {
        self.id()
    }
}

/// Implements the [`Entity`] accessors that read the same fields in every
/// row type: `id`, `version` and `updated_at`; with `file_managed`, also the
/// `file_managed` flag and the `name` that `FileManaged` reports.
macro_rules! entity_fields {
    () => {
        fn id(&self) -> &str {
            &self.id
        }

        fn version(&self) -> i64 {
            self.version
        }

        fn touch(&mut self, now: i64) {
            self.version += 1;
            self.updated_at = now;
        }
    };
    (file_managed) => {
        $crate::entity::entity_fields!();

        fn file_managed(&self) -> bool {
            self.file_managed
        }

        fn name(&self) -> &str {
            &self.name
        }
    };
}
pub(crate) use entity_fields;

/// The row matching `cond`, whose `$1`, `$2`, … are bound to `args` in order.
pub(crate) async fn fetch<'e, T: Entity>(
    ex: impl Executor<'e, Database = Any>,
    cond: &str,
    args: &[&str],
) -> Result<Option<T>> {
    let sql = format!("{} WHERE {cond}", T::SELECT);
    let mut q = sqlx::query(&sql);
    for a in args {
        q = q.bind(*a);
    }
    let row = q.fetch_optional(ex).await?;
    row.as_ref().map(T::decode).transpose()
}

/// The row whose `column` equals `value`.
pub(crate) async fn find<'e, T: Entity>(
    ex: impl Executor<'e, Database = Any>,
    column: &str,
    value: &str,
) -> Result<Option<T>> {
    fetch(ex, &format!("{column} = $1"), &[value]).await
}

/// The row whose `column` equals `value`; `NotFound` naming `value` if none.
pub(crate) async fn get<'e, T: Entity>(
    ex: impl Executor<'e, Database = Any>,
    column: &str,
    value: &str,
) -> Result<T> {
    find(ex, column, value)
        .await?
        .ok_or_else(|| StoreError::not_found(T::KIND, value))
}

/// Row `id`, read in `tx` to be changed through the API: refused when it is
/// missing, file-managed, or not at `expected_version` (when given).
pub(crate) async fn for_change<T: Entity>(
    tx: &mut WriteTx<'_>,
    id: &str,
    expected_version: Option<i64>,
) -> Result<T> {
    let row: T = get(&mut *tx.tx, "id", id).await?;
    if row.file_managed() {
        return Err(StoreError::FileManaged {
            kind: row.kind(),
            name: row.name().to_owned(),
        });
    }
    check_version(expected_version, row.version())?;
    Ok(row)
}

/// Runs `insert` (the `INSERT` of `row`) and records the creation.
pub(crate) async fn insert<T: Entity>(
    tx: &mut WriteTx<'_>,
    actor: &Actor,
    row: &T,
    insert: AnyQuery<'_>,
) -> Result<()> {
    insert
        .execute(&mut *tx.tx)
        .await
        .map_err(|e| write_error(e, row))?;
    record(tx, actor, "create", row, None, Some(row)).await
}

/// Writes `after` over `before` with [`Entity::update_query`] and records
/// `action`.
pub(crate) async fn update<T: Entity>(
    tx: &mut WriteTx<'_>,
    actor: &Actor,
    action: &str,
    before: &T,
    after: &T,
) -> Result<()> {
    let query = after.update_query(before.version())?;
    update_with(tx, actor, action, before, after, query).await
}

/// Runs `update` (an `UPDATE` of `after` guarded by `before`'s version) and
/// records `action`. When no row matched, the row is read again to report
/// its current version (or that it is gone).
pub(crate) async fn update_with<T: Entity>(
    tx: &mut WriteTx<'_>,
    actor: &Actor,
    action: &str,
    before: &T,
    after: &T,
    update: AnyQuery<'_>,
) -> Result<()> {
    let done = update
        .execute(&mut *tx.tx)
        .await
        .map_err(|e| write_error(e, after))?;
    if done.rows_affected() == 0 {
        let current: Option<T> = find(&mut *tx.tx, "id", after.id()).await?;
        return Err(match current {
            Some(c) => StoreError::VersionMismatch {
                current: c.version(),
            },
            None => StoreError::not_found(T::KIND, after.id()),
        });
    }
    record(tx, actor, action, after, Some(before), Some(after)).await
}

/// Deletes `row` (and, by cascade, what it owns) and records the deletion.
pub(crate) async fn remove<T: Entity>(tx: &mut WriteTx<'_>, actor: &Actor, row: &T) -> Result<()> {
    sqlx::query(&format!("DELETE FROM {} WHERE id = $1", T::TABLE))
        .bind(row.id())
        .execute(&mut *tx.tx)
        .await?;
    record(tx, actor, "delete", row, Some(row), None).await
}

/// Writes the audit entry and change-feed row of `action` on `row`.
async fn record<T: Entity>(
    tx: &mut WriteTx<'_>,
    actor: &Actor,
    action: &str,
    row: &T,
    before: Option<&T>,
    after: Option<&T>,
) -> Result<()> {
    let json = |v: Option<&T>| v.map_or(Ok(None), audit_json);
    let audit = Audit {
        action,
        kind: row.kind(),
        entity_id: row.id(),
        tenant_id: row.tenant_id(),
        before: json(before)?,
        after: json(after)?,
    };
    tx.record(actor, audit).await
}

/// A write error: `Conflict` on the row's unique field, `Invalid` for a
/// missing referenced row, else the database error.
fn write_error<T: Entity>(e: sqlx::Error, row: &T) -> StoreError {
    let (field, value) = row.unique();
    StoreError::from_write(e, row.kind(), field, value)
}

impl Store {
    /// One page of `T` filtered by `w`, in creation order.
    pub(crate) async fn list_of<T: Entity>(&self, w: Where, page: &Page) -> Result<Paged<T>> {
        self.list(T::SELECT, w, page, T::decode, T::id).await
    }

    /// Applies `change` to row `id` through the API: refused like
    /// [`for_change`], then versioned, written, audited as `update` and
    /// committed. Returns the row as written.
    pub(crate) async fn modify<T: Entity>(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: Option<i64>,
        change: impl FnOnce(&mut T) -> Result<()>,
    ) -> Result<T> {
        let mut tx = self.write().await?;
        let before: T = for_change(&mut tx, id, expected_version).await?;
        let mut after = before.clone();
        change(&mut after)?;
        after.touch(now_ms());
        update(&mut tx, actor, "update", &before, &after).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes row `id` through the API (refused like [`for_change`]).
    pub(crate) async fn delete_row<T: Entity>(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: Option<i64>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let row: T = for_change(&mut tx, id, expected_version).await?;
        remove(&mut tx, actor, &row).await?;
        tx.commit().await
    }
}
