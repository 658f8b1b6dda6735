//! Admin users (argon2id passwords) and their login sessions (random
//! tokens stored as SHA-256).

use std::sync::OnceLock;
use std::time::Duration;

use sqlx::any::AnyRow;
use sqlx::{Any, Executor};

use crate::crypto::{hash_password, random_token, sha256_hex, verify_password};
use crate::db::{Audit, Store, Where, audit_json, check_version, col, flag, new_id, now_ms};
use crate::error::{Result, StoreError};
use crate::model::{Actor, Page, Paged, Role, Session, User};

const KIND: &str = "user";
const SESSION_KIND: &str = "session";
/// Session tokens start with this, so a leaked one is recognisable.
pub const SESSION_PREFIX: &str = "sya_";
const SELECT: &str =
    "SELECT id, username, role, tenant_id, disabled, version, created_at, updated_at FROM users";

/// Input of [`Store::create_user`]. Debug hides the password.
#[derive(Clone, PartialEq)]
pub struct NewUser {
    /// Unique login name.
    pub username: String,
    /// Password in clear; only its argon2id hash is stored.
    pub password: String,
    /// What the user may do.
    pub role: Role,
    /// Required unless `role` is `PlatformAdmin`.
    pub tenant_id: Option<String>,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("role", &self.role)
            .field("tenant_id", &self.tenant_id)
            .finish()
    }
}

/// Changes for [`Store::update_user`]; `None` keeps the field. Debug hides
/// the password.
#[derive(Clone, Default, PartialEq)]
pub struct UserPatch {
    /// New role.
    pub role: Option<Role>,
    /// New tenant (`Some(None)` clears it, for platform admins).
    pub tenant_id: Option<Option<String>>,
    /// Disable or re-enable logins.
    pub disabled: Option<bool>,
    /// New password in clear.
    pub password: Option<String>,
}

impl std::fmt::Debug for UserPatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserPatch")
            .field("role", &self.role)
            .field("tenant_id", &self.tenant_id)
            .field("disabled", &self.disabled)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Filters of [`Store::list_users`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Only this tenant's users.
    pub tenant_id: Option<String>,
}

fn decode(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: col(row, "id")?,
        username: col(row, "username")?,
        role: Role::parse(&col::<String>(row, "role")?)?,
        tenant_id: col(row, "tenant_id")?,
        disabled: flag(row, "disabled")?,
        version: col(row, "version")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
    })
}

async fn fetch<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    field: &str,
    value: &str,
) -> Result<Option<User>> {
    let sql = format!("{SELECT} WHERE {field} = $1");
    let row = sqlx::query(&sql).bind(value).fetch_optional(ex).await?;
    row.as_ref().map(decode).transpose()
}

fn check_role(role: Role, tenant_id: Option<&str>) -> Result<()> {
    if role != Role::PlatformAdmin && tenant_id.is_none() {
        return Err(StoreError::Invalid(format!(
            "a {role} user needs a tenant_id"
        )));
    }
    Ok(())
}

/// Runs argon2 off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Crypto(format!("password hashing task failed: {e}")))
}

/// A hash to verify against when the user does not exist, so a wrong
/// username costs as long as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("switchyard-dummy").unwrap_or_default())
}

impl Store {
    /// Creates a user; the password is hashed with argon2id.
    pub async fn create_user(&self, actor: &Actor, new: NewUser) -> Result<User> {
        if new.username.trim().is_empty() {
            return Err(StoreError::Invalid("username must not be empty".into()));
        }
        check_role(new.role, new.tenant_id.as_deref())?;
        let password = new.password;
        let hash = blocking(move || hash_password(&password)).await??;
        let now = now_ms();
        let user = User {
            id: new_id(),
            username: new.username,
            role: new.role,
            tenant_id: new.tenant_id,
            disabled: false,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO users (id, username, password_hash, role, tenant_id, disabled, version, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&user.id)
        .bind(&user.username)
        .bind(&hash)
        .bind(user.role.as_str())
        .bind(user.tenant_id.as_deref())
        .bind(0_i64)
        .bind(user.version)
        .bind(user.created_at)
        .bind(user.updated_at)
        .execute(&mut *tx.tx)
        .await
        .map_err(|e| StoreError::from_write(e, KIND, "username", &user.username))?;
        let audit = Audit {
            action: "create",
            kind: KIND,
            entity_id: &user.id,
            tenant_id: user.tenant_id.as_deref(),
            before: None,
            after: audit_json(&user)?,
        };
        tx.record(actor, audit).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// The user with this id.
    pub async fn get_user(&self, id: &str) -> Result<User> {
        fetch(&self.pool, "id", id)
            .await?
            .ok_or_else(|| StoreError::not_found(KIND, id))
    }

    /// The user with this username.
    pub async fn user_by_name(&self, username: &str) -> Result<User> {
        fetch(&self.pool, "username", username)
            .await?
            .ok_or_else(|| StoreError::not_found(KIND, username))
    }

    /// Users in creation order.
    pub async fn list_users(&self, filter: &UserFilter, page: &Page) -> Result<Paged<User>> {
        let mut w = Where::default();
        w.eq_opt("tenant_id", filter.tenant_id.as_deref());
        self.list(SELECT, w, page, decode, |u| &u.id).await
    }

    /// Applies `patch` (a new password is hashed first).
    pub async fn update_user(
        &self,
        actor: &Actor,
        id: &str,
        patch: UserPatch,
        expected_version: Option<i64>,
    ) -> Result<User> {
        let new_hash = match patch.password {
            Some(p) => Some(blocking(move || hash_password(&p)).await??),
            None => None,
        };
        let mut tx = self.write().await?;
        let before = fetch(&mut *tx.tx, "id", id)
            .await?
            .ok_or_else(|| StoreError::not_found(KIND, id))?;
        check_version(expected_version, before.version)?;
        let mut after = before.clone();
        if let Some(r) = patch.role {
            after.role = r;
        }
        if let Some(t) = patch.tenant_id {
            after.tenant_id = t;
        }
        if let Some(d) = patch.disabled {
            after.disabled = d;
        }
        check_role(after.role, after.tenant_id.as_deref())?;
        after.version += 1;
        after.updated_at = now_ms();
        let done = sqlx::query(
            "UPDATE users SET role = $1, tenant_id = $2, disabled = $3, \
             password_hash = COALESCE($4, password_hash), version = $5, updated_at = $6 \
             WHERE id = $7 AND version = $8",
        )
        .bind(after.role.as_str())
        .bind(after.tenant_id.as_deref())
        .bind(i64::from(after.disabled))
        .bind(new_hash)
        .bind(after.version)
        .bind(after.updated_at)
        .bind(id)
        .bind(before.version)
        .execute(&mut *tx.tx)
        .await
        .map_err(|e| StoreError::from_write(e, KIND, "username", &after.username))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::VersionMismatch {
                current: before.version,
            });
        }
        let audit = Audit {
            action: "update",
            kind: KIND,
            entity_id: id,
            tenant_id: after.tenant_id.as_deref(),
            before: audit_json(&before)?,
            after: audit_json(&after)?,
        };
        tx.record(actor, audit).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes the user and their sessions.
    pub async fn delete_user(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: Option<i64>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let user = fetch(&mut *tx.tx, "id", id)
            .await?
            .ok_or_else(|| StoreError::not_found(KIND, id))?;
        check_version(expected_version, user.version)?;
        sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        let audit = Audit {
            action: "delete",
            kind: KIND,
            entity_id: id,
            tenant_id: user.tenant_id.as_deref(),
            before: audit_json(&user)?,
            after: None,
        };
        tx.record(actor, audit).await?;
        tx.commit().await
    }

    /// The user if `password` is theirs and they are not disabled. argon2
    /// runs on the blocking pool; an unknown username takes as long.
    pub async fn verify_password(&self, username: &str, password: &str) -> Result<Option<User>> {
        let row = sqlx::query(
            "SELECT id, username, role, tenant_id, disabled, version, created_at, updated_at, \
             password_hash FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        let (user, hash) = match &row {
            Some(r) => (Some(decode(r)?), col::<String>(r, "password_hash")?),
            None => (None, dummy_hash().to_owned()),
        };
        let password = password.to_owned();
        let ok = blocking(move || verify_password(&hash, &password)).await?;
        Ok(user.filter(|u| ok && !u.disabled))
    }

    /// Starts a session for `user_id` valid for `ttl`. Returns the token
    /// (`sya_` + base64url of 32 random bytes) in clear, once; only its
    /// SHA-256 is stored.
    pub async fn create_session(&self, user_id: &str, ttl: Duration) -> Result<(String, Session)> {
        let token = random_token(SESSION_PREFIX)?;
        let now = now_ms();
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let session = Session {
            id: new_id(),
            user_id: user_id.to_owned(),
            expires_at: now.saturating_add(ttl_ms),
            created_at: now,
        };
        let mut tx = self.write().await?;
        let user = fetch(&mut *tx.tx, "id", user_id)
            .await?
            .ok_or_else(|| StoreError::not_found(KIND, user_id))?;
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, user_id, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&session.id)
        .bind(sha256_hex(&token))
        .bind(user_id)
        .bind(session.expires_at)
        .bind(session.created_at)
        .execute(&mut *tx.tx)
        .await?;
        let actor = Actor::user(user_id, user.tenant_id.clone());
        let audit = Audit {
            action: "login",
            kind: SESSION_KIND,
            entity_id: &session.id,
            tenant_id: user.tenant_id.as_deref(),
            before: None,
            after: audit_json(&session)?,
        };
        tx.record(&actor, audit).await?;
        tx.commit().await?;
        Ok((token, session))
    }

    /// The user behind an unexpired session token (`None` when unknown,
    /// expired or the user is disabled).
    pub async fn session_user(&self, token: &str) -> Result<Option<User>> {
        let row = sqlx::query(
            "SELECT u.id, u.username, u.role, u.tenant_id, u.disabled, u.version, u.created_at, \
             u.updated_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = 0",
        )
        .bind(sha256_hex(token))
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(decode).transpose()
    }

    /// Ends the session (logout). `false` when the token was unknown.
    pub async fn delete_session(&self, token: &str) -> Result<bool> {
        let mut tx = self.write().await?;
        let row = sqlx::query(
            "SELECT s.id, s.user_id, s.expires_at, s.created_at, u.tenant_id FROM sessions s \
             JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
        )
        .bind(sha256_hex(token))
        .fetch_optional(&mut *tx.tx)
        .await?;
        let Some(row) = row else { return Ok(false) };
        let session = Session {
            id: col(&row, "id")?,
            user_id: col(&row, "user_id")?,
            expires_at: col(&row, "expires_at")?,
            created_at: col(&row, "created_at")?,
        };
        let tenant_id: Option<String> = col(&row, "tenant_id")?;
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(&session.id)
            .execute(&mut *tx.tx)
            .await?;
        let actor = Actor::user(&session.user_id, tenant_id.clone());
        let audit = Audit {
            action: "logout",
            kind: SESSION_KIND,
            entity_id: &session.id,
            tenant_id: tenant_id.as_deref(),
            before: audit_json(&session)?,
            after: None,
        };
        tx.record(&actor, audit).await?;
        tx.commit().await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_passwords() {
        let u = NewUser {
            username: "a".into(),
            password: "hunter2".into(),
            role: Role::PlatformAdmin,
            tenant_id: None,
        };
        assert!(!format!("{u:?}").contains("hunter2"));
        let p = UserPatch {
            password: Some("hunter2".into()),
            ..UserPatch::default()
        };
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
