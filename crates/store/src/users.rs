//! Admin users (argon2id passwords) and their login sessions (random
//! tokens stored as SHA-256).

use std::sync::OnceLock;
use std::time::Duration;

use sqlx::any::AnyRow;

use crate::crypto::{hash_password, random_token, sha256_hex, verify_password};
use crate::db::{Audit, Store, Where, audit_json, col, flag, new_id, now_ms};
use crate::entity::{self, AnyQuery, Entity};
use crate::error::{Result, StoreError};
use crate::model::{Actor, Page, Paged, Role, Session, User};

const SESSION_KIND: &str = "session";
/// Session tokens start with this, so a leaked one is recognisable.
pub const SESSION_PREFIX: &str = "sya_";

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

impl Entity for User {
    const KIND: &'static str = "user";
    const TABLE: &'static str = "users";
    const SELECT: &'static str = "SELECT id, username, role, tenant_id, disabled, version, \
                                  created_at, updated_at FROM users";

    entity::entity_fields!();

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

    fn tenant_id(&self) -> Option<&str> {
        self.tenant_id.as_deref()
    }

    fn unique(&self) -> (&'static str, &str) {
        ("username", &self.username)
    }

    /// Keeps the password.
    fn update_query(&self, prev: i64) -> Result<AnyQuery<'_>> {
        Ok(update_query(self, prev, None))
    }
}

/// The `UPDATE` of `u` at version `prev`, with a new password hash if given.
fn update_query(u: &User, prev: i64, new_hash: Option<String>) -> AnyQuery<'_> {
    sqlx::query(
        "UPDATE users SET role = $1, tenant_id = $2, disabled = $3, \
         password_hash = COALESCE($4, password_hash), version = $5, updated_at = $6 \
         WHERE id = $7 AND version = $8",
    )
    .bind(u.role.as_str())
    .bind(u.tenant_id.as_deref())
    .bind(i64::from(u.disabled))
    .bind(new_hash)
    .bind(u.version)
    .bind(u.updated_at)
    .bind(&u.id)
    .bind(prev)
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
        let insert = sqlx::query(
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
        .bind(user.updated_at);
        let mut tx = self.write().await?;
        entity::insert(&mut tx, actor, &user, insert).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// The user with this id.
    pub async fn get_user(&self, id: &str) -> Result<User> {
        entity::get(&self.pool, "id", id).await
    }

    /// The user with this username.
    pub async fn user_by_name(&self, username: &str) -> Result<User> {
        entity::get(&self.pool, "username", username).await
    }

    /// Users in creation order.
    pub async fn list_users(&self, filter: &UserFilter, page: &Page) -> Result<Paged<User>> {
        let mut w = Where::default();
        w.eq_opt("tenant_id", filter.tenant_id.as_deref());
        self.list_of(w, page).await
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
        let before: User = entity::for_change(&mut tx, id, expected_version).await?;
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
        after.touch(now_ms());
        let update = update_query(&after, before.version, new_hash);
        entity::update_with(&mut tx, actor, "update", &before, &after, update).await?;
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
        self.delete_row::<User>(actor, id, expected_version).await
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
            Some(r) => (Some(User::decode(r)?), col::<String>(r, "password_hash")?),
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
        let user: User = entity::get(&mut *tx.tx, "id", user_id).await?;
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
        row.as_ref().map(User::decode).transpose()
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
