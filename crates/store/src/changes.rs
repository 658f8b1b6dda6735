//! The change feed: one row per mutation, appended in the mutation's
//! transaction. The data plane's control loop remembers the last `seq` it
//! applied and polls [`Store::changes_since`] about once a second.

use crate::db::{Store, col};
use crate::error::Result;
use crate::model::Change;

impl Store {
    /// The highest `seq` so far; 0 when the feed is empty.
    pub async fn head(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS head FROM changes")
            .fetch_one(&self.pool)
            .await?;
        col(&row, "head")
    }

    /// Up to `limit` changes with `seq > after`, in `seq` order. Sequence
    /// numbers are assigned in commit order (see `WriteTx::record`), so a
    /// reader that resumes from the last `seq` it saw never skips one.
    pub async fn changes_since(&self, after: i64, limit: u32) -> Result<Vec<Change>> {
        let rows = sqlx::query(
            "SELECT seq, kind, entity_id, at FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit.max(1)))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Change {
                    seq: col(r, "seq")?,
                    kind: col(r, "kind")?,
                    entity_id: col(r, "entity_id")?,
                    at: col(r, "at")?,
                })
            })
            .collect()
    }
}
