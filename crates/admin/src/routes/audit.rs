//! `/audit`: the audit log, read-only. Platform admins read everything;
//! tenant admins their tenant's entries; developers nothing.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sy_store::AuditFilter;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{check_limit, empty, page, page_type};
use crate::auth::{Principal, Scope};
use crate::error::{ApiResult, FieldError};
use crate::extract::{QueryParams, Validate};
use crate::state::AdminState;

/// One audit log entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntry {
    /// UUID v7 (time-ordered).
    pub id: String,
    /// Unix milliseconds.
    pub at: i64,
    /// Who: a user id, `bootstrap` or `file`.
    pub actor: String,
    /// Tenant of the entity, if any.
    pub tenant_id: Option<String>,
    /// `create`, `update`, `delete`, `approve`, `reject`, `revoke`, `login`, …
    pub action: String,
    /// Entity kind, e.g. `tenant`, `api_key`, `route`.
    pub kind: String,
    /// Id of the entity.
    pub entity_id: String,
    /// The entity before the change; `null` for a create.
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    /// The entity after the change; `null` for a delete.
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
}

impl From<sy_store::AuditEntry> for AuditEntry {
    fn from(a: sy_store::AuditEntry) -> Self {
        AuditEntry {
            id: a.id,
            at: a.at,
            actor: a.actor,
            tenant_id: a.tenant_id,
            action: a.action,
            kind: a.kind,
            entity_id: a.entity_id,
            before: a.before,
            after: a.after,
        }
    }
}

page_type!(
    /// A page of audit entries.
    AuditPage,
    AuditEntry
);

/// Query of `GET /audit`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Rows per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Only entries about this tenant's entities (tenant admins: always
    /// their own).
    pub tenant_id: Option<String>,
    /// Only this entity kind.
    pub kind: Option<String>,
    /// Only this entity.
    pub entity_id: Option<String>,
}

impl Validate for AuditQuery {
    fn validate(&self, errors: &mut Vec<FieldError>) {
        check_limit(errors, self.limit);
    }
}

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

/// Lists audit entries, oldest first.
#[utoipa::path(get, path = "/admin/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "One page of audit entries", body = AuditPage)))]
async fn list_audit(
    State(st): State<AdminState>,
    p: Principal,
    QueryParams(q): QueryParams<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    p.require_admin()?;
    let paged = match p.scope(q.tenant_id) {
        Scope::Nothing => empty(),
        scope => {
            let filter = AuditFilter {
                tenant_id: scope.tenant(),
                kind: q.kind,
                entity_id: q.entity_id,
            };
            st.store
                .list_audit(&filter, &page(q.limit, q.after))
                .await?
        }
    };
    Ok(Json(AuditPage::from_paged(paged)))
}
