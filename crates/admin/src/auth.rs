//! Who is calling, and what they may do.
//!
//! Every route except `GET /openapi.json` and `POST /login` takes a
//! [`Principal`], so a handler that forgets authorization still refuses
//! anonymous callers. `Authorization: Bearer <token>` carries either the
//! bootstrap token (platform admin, actor `bootstrap`) or a session token
//! from `POST /login`.
//!
//! Isolation rule: an entity of another tenant answers 404, exactly like a
//! missing one ([`Principal::see_tenant`]), so ids do not leak existence;
//! list endpoints are narrowed to the caller's tenant ([`Scope`]). A role
//! that may see an entity but not change it gets 403.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use subtle::ConstantTimeEq;
use sy_store::{Actor, Role, User};

use crate::error::ApiError;
use crate::state::{AdminState, sha256};

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// User id, or `bootstrap`.
    pub id: String,
    /// What they may do.
    pub role: Role,
    /// Their tenant (`None` for platform admins).
    pub tenant_id: Option<String>,
    /// The user record (`None` for the bootstrap token).
    pub user: Option<User>,
    /// The bearer token, for logout.
    pub(crate) token: String,
}

/// Which tenant's rows a list may return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every tenant's (platform admins without a filter).
    All,
    /// One tenant's.
    Tenant(String),
    /// None: a tenant user asked for another tenant.
    Nothing,
}

impl Scope {
    /// The tenant filter to pass to the store (`None` = all).
    pub fn tenant(&self) -> Option<String> {
        match self {
            Scope::Tenant(t) => Some(t.clone()),
            _ => None,
        }
    }
}

impl Principal {
    /// The audit-log actor for changes made by this caller.
    pub fn actor(&self) -> Actor {
        Actor::user(self.id.clone(), self.tenant_id.clone())
    }

    /// A platform admin (or the bootstrap token).
    pub fn is_platform(&self) -> bool {
        self.role == Role::PlatformAdmin
    }

    /// A platform admin, or a tenant admin of `tenant_id`.
    pub fn is_admin_of(&self, tenant_id: &str) -> bool {
        self.is_platform()
            || (self.role == Role::TenantAdmin && self.tenant_id.as_deref() == Some(tenant_id))
    }

    /// Whether the caller may see rows of `tenant_id` at all.
    pub fn sees_tenant(&self, tenant_id: &str) -> bool {
        self.is_platform() || self.tenant_id.as_deref() == Some(tenant_id)
    }

    /// 404 (as if it did not exist) unless the caller may see `tenant_id`.
    pub fn see_tenant(&self, tenant_id: &str, kind: &str, id: &str) -> Result<(), ApiError> {
        if self.sees_tenant(tenant_id) {
            Ok(())
        } else {
            Err(ApiError::not_found(kind, id))
        }
    }

    /// 403 unless a platform admin.
    pub fn require_platform(&self) -> Result<(), ApiError> {
        if self.is_platform() {
            Ok(())
        } else {
            Err(ApiError::forbidden("only platform admins may do this"))
        }
    }

    /// 403 unless a platform admin or tenant admin (of any tenant: the
    /// handler checks which one).
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if matches!(self.role, Role::PlatformAdmin | Role::TenantAdmin) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "only platform and tenant admins may do this",
            ))
        }
    }

    /// The scope of a list the caller asked to filter by `requested`.
    pub fn scope(&self, requested: Option<String>) -> Scope {
        if self.is_platform() {
            return requested.map_or(Scope::All, Scope::Tenant);
        }
        match (&self.tenant_id, requested) {
            (Some(own), None) => Scope::Tenant(own.clone()),
            (Some(own), Some(r)) if *own == r => Scope::Tenant(r),
            _ => Scope::Nothing,
        }
    }
}

impl FromRequestParts<AdminState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AdminState) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        if let Some(expected) = &state.bootstrap_token_sha256
            && bool::from(sha256(&token).ct_eq(expected))
        {
            return Ok(Principal {
                id: "bootstrap".into(),
                role: Role::PlatformAdmin,
                tenant_id: None,
                user: None,
                token,
            });
        }
        let user = state
            .store
            .session_user(&token)
            .await?
            .ok_or_else(|| ApiError::unauthorized("unknown or expired token"))?;
        Ok(Principal {
            id: user.id.clone(),
            role: user.role,
            tenant_id: user.tenant_id.clone(),
            user: Some(user),
            token,
        })
    }
}

/// The token of `Authorization: Bearer <token>`.
fn bearer(parts: &Parts) -> Result<String, ApiError> {
    let value = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <token>"))?
        .to_str()
        .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or_else(|| ApiError::unauthorized("Authorization must be `Bearer <token>`"))?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(ApiError::unauthorized(
            "Authorization must be `Bearer <token>`",
        ));
    }
    Ok(token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, tenant: Option<&str>) -> Principal {
        Principal {
            id: "u".into(),
            role,
            tenant_id: tenant.map(str::to_owned),
            user: None,
            token: String::new(),
        }
    }

    #[test]
    fn scopes_never_widen_past_the_callers_tenant() {
        let admin = principal(Role::PlatformAdmin, None);
        assert_eq!(admin.scope(None), Scope::All);
        assert_eq!(admin.scope(Some("b".into())), Scope::Tenant("b".into()));
        let dev = principal(Role::Developer, Some("a"));
        assert_eq!(dev.scope(None), Scope::Tenant("a".into()));
        assert_eq!(dev.scope(Some("a".into())), Scope::Tenant("a".into()));
        assert_eq!(dev.scope(Some("b".into())), Scope::Nothing);
        assert!(
            dev.see_tenant("b", "consumer", "x")
                .is_err_and(|e| e.status == 404)
        );
        assert!(dev.require_admin().is_err_and(|e| e.status == 403));
        let ta = principal(Role::TenantAdmin, Some("a"));
        assert!(ta.is_admin_of("a") && !ta.is_admin_of("b"));
        assert!(ta.require_platform().is_err());
    }

    #[test]
    fn bearer_parsing() {
        let parts = |v: &str| {
            let (parts, ()) = axum::http::Request::builder()
                .header(AUTHORIZATION, v)
                .body(())
                .unwrap()
                .into_parts();
            parts
        };
        assert_eq!(bearer(&parts("Bearer abc")).unwrap(), "abc");
        assert_eq!(bearer(&parts("bearer  abc ")).unwrap(), "abc");
        assert_eq!(bearer(&parts("Basic abc")).unwrap_err().status, 401);
        assert_eq!(bearer(&parts("Bearer")).unwrap_err().status, 401);
    }
}
