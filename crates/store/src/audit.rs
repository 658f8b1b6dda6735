//! Reading the audit log. Entries are written only by `WriteTx::record`,
//! inside the transaction of the change they describe.

use serde_json::Value;
use sqlx::any::AnyRow;

use crate::db::{Store, Where, col};
use crate::error::{Result, StoreError};
use crate::model::{AuditEntry, Page, Paged};

const SELECT: &str = "SELECT id, at, actor, tenant_id, action, kind, entity_id, before_json, \
                      after_json FROM audit";

/// Filters of [`Store::list_audit`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only entries about this tenant's entities.
    pub tenant_id: Option<String>,
    /// Only this entity kind (`tenant`, `api_key`, `route`, …).
    pub kind: Option<String>,
    /// Only this entity.
    pub entity_id: Option<String>,
}

fn json(row: &AnyRow, name: &str) -> Result<Option<Value>> {
    let text: Option<String> = col(row, name)?;
    text.map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("audit.{name}: {e}")))
}

fn decode(row: &AnyRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: col(row, "id")?,
        at: col(row, "at")?,
        actor: col(row, "actor")?,
        tenant_id: col(row, "tenant_id")?,
        action: col(row, "action")?,
        kind: col(row, "kind")?,
        entity_id: col(row, "entity_id")?,
        before: json(row, "before_json")?,
        after: json(row, "after_json")?,
    })
}

impl Store {
    /// Audit entries, oldest first (ids are time-ordered).
    pub async fn list_audit(&self, filter: &AuditFilter, page: &Page) -> Result<Paged<AuditEntry>> {
        let mut w = Where::default();
        w.eq_opt("tenant_id", filter.tenant_id.as_deref());
        w.eq_opt("kind", filter.kind.as_deref());
        w.eq_opt("entity_id", filter.entity_id.as_deref());
        self.list(SELECT, w, page, decode, |a| &a.id).await
    }
}
