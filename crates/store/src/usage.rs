//! Saved usage counters: the quota ledger's day and month windows, kept
//! across restarts. Not an administrative change, so no audit entry and no
//! change-feed row; the data plane writes them itself.

use sqlx::Row;

use crate::db::{Store, now_ms};
use crate::error::Result;

/// One counter's usage in one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    /// `key`, `consumer`, `tenant`, `route` or `model`.
    pub scope: String,
    /// The entity's id within the scope.
    pub entity: String,
    /// The `LimitsSpec` field (`spend_per_day`, …).
    pub measure: String,
    /// Window start, Unix ms.
    pub window_start: i64,
    /// Window end (exclusive), Unix ms.
    pub window_end: i64,
    /// Tokens, or micro-USD for spend.
    pub used: i64,
}

impl Store {
    /// Write `rows` (each replacing its earlier value) and drop rows whose
    /// window has ended, in one transaction.
    pub async fn save_usage(&self, rows: &[UsageRow]) -> Result<()> {
        let now = now_ms();
        let mut tx = self.write().await?;
        for r in rows {
            sqlx::query(
                "INSERT INTO usage_counters \
                 (scope, entity, measure, window_start, window_end, used, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (scope, entity, measure, window_start) DO UPDATE SET \
                 window_end = excluded.window_end, used = excluded.used, \
                 updated_at = excluded.updated_at",
            )
            .bind(r.scope.as_str())
            .bind(r.entity.as_str())
            .bind(r.measure.as_str())
            .bind(r.window_start)
            .bind(r.window_end)
            .bind(r.used)
            .bind(now)
            .execute(&mut *tx.tx)
            .await?;
        }
        sqlx::query("DELETE FROM usage_counters WHERE window_end <= $1")
            .bind(now)
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await
    }

    /// Every saved counter whose window is still open at `now_ms`.
    pub async fn load_usage(&self, now_ms: i64) -> Result<Vec<UsageRow>> {
        let rows = sqlx::query(
            "SELECT scope, entity, measure, window_start, window_end, used \
             FROM usage_counters WHERE window_end > $1",
        )
        .bind(now_ms)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(UsageRow {
                    scope: r.try_get("scope")?,
                    entity: r.try_get("entity")?,
                    measure: r.try_get("measure")?,
                    window_start: r.try_get("window_start")?,
                    window_end: r.try_get("window_end")?,
                    used: r.try_get("used")?,
                })
            })
            .collect()
    }
}
