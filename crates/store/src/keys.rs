//! API keys. A key is `sk-sy-` + base64url of 32 random bytes from the OS
//! CSPRNG; the store keeps only its lower-case hex SHA-256. A 256-bit random
//! secret cannot be guessed or brute-forced from its hash, so a slow
//! password hash would add nothing, and a plain SHA-256 lets the data plane
//! find a presented key in O(1) in a hash map built from
//! [`Store::all_active_keys`].

use futures_util::stream::{BoxStream, StreamExt};
use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sy_config::LimitsSpec;

use crate::crypto::{hex, parse_hash, random_token, sha256_hex};
use crate::db::{Store, Where, WriteTx, col, flag, json_col, new_id, now_ms, to_json};
use crate::entity::{self, AnyQuery, Entity};
use crate::error::{Result, StoreError};
use crate::model::{Actor, ApiKey, Consumer, KeyRow, Page, Paged, Scopes};
use crate::tenants::check_limits;

/// Every API key starts with this.
pub const API_KEY_PREFIX: &str = "sk-sy-";

/// Input of [`Store::create_key`] and [`Store::import_key_hash`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewKey {
    /// Owning consumer (its tenant becomes the key's).
    pub consumer_id: String,
    /// Label.
    pub name: String,
    /// What the key may reach; empty lists allow everything.
    pub scopes: Scopes,
    /// Limits on this key alone.
    pub limits: LimitsSpec,
    /// Free-form labels.
    pub metadata: Map<String, Value>,
    /// Unix milliseconds after which the key is refused.
    pub expires_at: Option<i64>,
}

/// Changes for [`Store::update_key`]; `None` keeps the field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyPatch {
    /// New label.
    pub name: Option<String>,
    /// New scopes.
    pub scopes: Option<Scopes>,
    /// New limits.
    pub limits: Option<LimitsSpec>,
    /// New metadata.
    pub metadata: Option<Map<String, Value>>,
    /// New expiry (`Some(None)` = never).
    pub expires_at: Option<Option<i64>>,
}

/// Filters of [`Store::list_keys`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyFilter {
    /// Only this tenant's keys.
    pub tenant_id: Option<String>,
    /// Only this consumer's keys.
    pub consumer_id: Option<String>,
    /// Include revoked keys too.
    pub include_revoked: bool,
}

impl Entity for ApiKey {
    const KIND: &'static str = "api_key";
    const TABLE: &'static str = "api_keys";
    const SELECT: &'static str = "SELECT id, tenant_id, consumer_id, name, prefix, scopes, \
                                  limits, metadata, expires_at, revoked_at, file_managed, \
                                  version, created_at, updated_at FROM api_keys";

    entity::entity_fields!(file_managed);

    fn decode(row: &AnyRow) -> Result<ApiKey> {
        Ok(ApiKey {
            id: col(row, "id")?,
            tenant_id: col(row, "tenant_id")?,
            consumer_id: col(row, "consumer_id")?,
            name: col(row, "name")?,
            prefix: col(row, "prefix")?,
            scopes: json_col(row, "scopes")?,
            limits: json_col(row, "limits")?,
            metadata: json_col(row, "metadata")?,
            expires_at: col(row, "expires_at")?,
            revoked_at: col(row, "revoked_at")?,
            file_managed: flag(row, "file_managed")?,
            version: col(row, "version")?,
            created_at: col(row, "created_at")?,
            updated_at: col(row, "updated_at")?,
        })
    }

    fn tenant_id(&self) -> Option<&str> {
        Some(&self.tenant_id)
    }

    /// The hash is what must be unique; the prefix stands for it.
    fn unique(&self) -> (&'static str, &str) {
        ("hash", &self.prefix)
    }

    fn update_query(&self, prev: i64) -> Result<AnyQuery<'_>> {
        Ok(sqlx::query(
            "UPDATE api_keys SET name = $1, scopes = $2, limits = $3, metadata = $4, \
             expires_at = $5, revoked_at = $6, file_managed = $7, version = $8, updated_at = $9 \
             WHERE id = $10 AND version = $11",
        )
        .bind(&self.name)
        .bind(to_json(&self.scopes)?)
        .bind(to_json(&self.limits)?)
        .bind(to_json(&self.metadata)?)
        .bind(self.expires_at)
        .bind(self.revoked_at)
        .bind(i64::from(self.file_managed))
        .bind(self.version)
        .bind(self.updated_at)
        .bind(&self.id)
        .bind(prev))
    }
}

/// The stored JSON of the common case, decoded without serde.
const EMPTY_SCOPES: &str = r#"{"routes":[],"models":[]}"#;

fn decode_key_row(row: &AnyRow) -> Result<KeyRow> {
    let hash_text: String = col(row, "key_hash")?;
    let hash = parse_hash(&hash_text)
        .ok_or_else(|| StoreError::Corrupt(format!("api_keys.key_hash {hash_text:?}")))?;
    let scopes_text: String = col(row, "scopes")?;
    let scopes = if scopes_text == EMPTY_SCOPES {
        Scopes::default()
    } else {
        serde_json::from_str(&scopes_text)
            .map_err(|e| StoreError::Corrupt(format!("api_keys.scopes: {e}")))?
    };
    let limits_text: String = col(row, "limits")?;
    let limits = if limits_text == "{}" {
        LimitsSpec::default()
    } else {
        serde_json::from_str(&limits_text)
            .map_err(|e| StoreError::Corrupt(format!("api_keys.limits: {e}")))?
    };
    Ok(KeyRow {
        id: col(row, "id")?,
        hash,
        tenant_id: col(row, "tenant_id")?,
        consumer_id: col(row, "consumer_id")?,
        scopes,
        limits,
        expires_at: col(row, "expires_at")?,
    })
}

/// Normalises a hex SHA-256 to lower case; `Invalid` if it is not one.
pub(crate) fn normalize_hash(hash: &str) -> Result<String> {
    parse_hash(hash)
        .map(|b| hex(&b))
        .ok_or_else(|| StoreError::Invalid("key hash must be 64 hex digits (SHA-256)".into()))
}

/// Inserts a key for `hash` (already normalised) under an existing consumer.
pub(crate) async fn insert_in(
    tx: &mut WriteTx<'_>,
    actor: &Actor,
    new: NewKey,
    hash: &str,
    prefix: String,
    file_managed: bool,
) -> Result<ApiKey> {
    check_limits(&new.limits)?;
    let consumer: Consumer = entity::get(&mut *tx.tx, "id", &new.consumer_id).await?;
    let now = now_ms();
    let key = ApiKey {
        id: new_id(),
        tenant_id: consumer.tenant_id,
        consumer_id: new.consumer_id,
        name: new.name,
        prefix,
        scopes: new.scopes,
        limits: new.limits,
        metadata: new.metadata,
        expires_at: new.expires_at,
        revoked_at: None,
        file_managed,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let insert = sqlx::query(
        "INSERT INTO api_keys (id, tenant_id, consumer_id, name, prefix, key_hash, scopes, \
         limits, metadata, expires_at, revoked_at, file_managed, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&key.id)
    .bind(&key.tenant_id)
    .bind(&key.consumer_id)
    .bind(&key.name)
    .bind(&key.prefix)
    .bind(hash)
    .bind(to_json(&key.scopes)?)
    .bind(to_json(&key.limits)?)
    .bind(to_json(&key.metadata)?)
    .bind(key.expires_at)
    .bind(key.revoked_at)
    .bind(i64::from(key.file_managed))
    .bind(key.version)
    .bind(key.created_at)
    .bind(key.updated_at);
    entity::insert(tx, actor, &key, insert).await?;
    Ok(key)
}

impl Store {
    /// Creates a key and returns its secret in clear, the only time it is
    /// ever available, with the stored key.
    pub async fn create_key(&self, actor: &Actor, new: NewKey) -> Result<(String, ApiKey)> {
        let secret = random_token(API_KEY_PREFIX)?;
        let prefix: String = secret.chars().take(12).collect();
        let mut tx = self.write().await?;
        let key = insert_in(&mut tx, actor, new, &sha256_hex(&secret), prefix, false).await?;
        tx.commit().await?;
        Ok((secret, key))
    }

    /// Stores a key known only by its SHA-256 (hex), e.g. one moved from
    /// another system. Its prefix is `sha256:` and the first 5 hex digits.
    pub async fn import_key_hash(
        &self,
        actor: &Actor,
        new: NewKey,
        sha256_hex: &str,
    ) -> Result<ApiKey> {
        let hash = normalize_hash(sha256_hex)?;
        let prefix = format!("sha256:{}", &hash[..5]);
        let mut tx = self.write().await?;
        let key = insert_in(&mut tx, actor, new, &hash, prefix, false).await?;
        tx.commit().await?;
        Ok(key)
    }

    /// The key with this id.
    pub async fn get_key(&self, id: &str) -> Result<ApiKey> {
        entity::get(&self.pool, "id", id).await
    }

    /// The key whose SHA-256 is `hash_hex` (either case), revoked or not.
    pub async fn key_by_hash(&self, hash_hex: &str) -> Result<Option<ApiKey>> {
        let Some(bytes) = parse_hash(hash_hex) else {
            return Ok(None);
        };
        entity::find(&self.pool, "key_hash", &hex(&bytes)).await
    }

    /// Keys in creation order (without revoked ones unless asked).
    pub async fn list_keys(&self, filter: &KeyFilter, page: &Page) -> Result<Paged<ApiKey>> {
        let mut w = Where::default();
        w.eq_opt("tenant_id", filter.tenant_id.as_deref());
        w.eq_opt("consumer_id", filter.consumer_id.as_deref());
        if !filter.include_revoked {
            w.raw("revoked_at IS NULL");
        }
        self.list_of(w, page).await
    }

    /// Applies `patch`. Refused for file-managed keys, revoked keys and
    /// stale versions.
    pub async fn update_key(
        &self,
        actor: &Actor,
        id: &str,
        patch: KeyPatch,
        expected_version: Option<i64>,
    ) -> Result<ApiKey> {
        self.modify(actor, id, expected_version, |k: &mut ApiKey| {
            if k.revoked_at.is_some() {
                return Err(StoreError::Invalid(
                    "a revoked key cannot be changed".into(),
                ));
            }
            if let Some(n) = patch.name {
                k.name = n;
            }
            if let Some(s) = patch.scopes {
                k.scopes = s;
            }
            if let Some(l) = patch.limits {
                check_limits(&l)?;
                k.limits = l;
            }
            if let Some(m) = patch.metadata {
                k.metadata = m;
            }
            if let Some(e) = patch.expires_at {
                k.expires_at = e;
            }
            Ok(())
        })
        .await
    }

    /// Revokes the key for good. Revoking a revoked key changes nothing.
    pub async fn revoke_key(&self, actor: &Actor, id: &str) -> Result<ApiKey> {
        let mut tx = self.write().await?;
        let before: ApiKey = entity::for_change(&mut tx, id, None).await?;
        if before.revoked_at.is_some() {
            return Ok(before);
        }
        let mut after = before.clone();
        let now = now_ms();
        after.revoked_at = Some(now);
        after.touch(now);
        entity::update(&mut tx, actor, "revoke", &before, &after).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes the key row (revoking keeps it for the record; prefer that).
    pub async fn delete_key(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: Option<i64>,
    ) -> Result<()> {
        self.delete_row::<ApiKey>(actor, id, expected_version).await
    }

    /// Every non-revoked key, streamed in one query, for the data plane's
    /// key index. Expired keys are included (with `expires_at`): the data
    /// plane checks expiry per request, so no reload is needed when a key
    /// expires.
    pub fn all_active_keys(&self) -> BoxStream<'_, Result<KeyRow>> {
        sqlx::query(
            "SELECT id, key_hash, tenant_id, consumer_id, scopes, limits, expires_at \
             FROM api_keys WHERE revoked_at IS NULL",
        )
        .fetch(&self.pool)
        .map(|row| {
            row.map_err(StoreError::from)
                .and_then(|r| decode_key_row(&r))
        })
        .boxed()
    }

    /// The index row of key `id` whether or not it is revoked, and whether
    /// it is active (`false` once revoked); `None` when no such key exists.
    /// The data plane uses it to apply one key's change.
    pub async fn key_row_any(&self, id: &str) -> Result<Option<(KeyRow, bool)>> {
        let row = sqlx::query(
            "SELECT id, key_hash, tenant_id, consumer_id, scopes, limits, expires_at, revoked_at \
             FROM api_keys WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => {
                let revoked: Option<i64> = col(&r, "revoked_at")?;
                Ok(Some((decode_key_row(&r)?, revoked.is_none())))
            }
            None => Ok(None),
        }
    }

    /// [`Store::all_active_keys`] collected.
    pub async fn load_active_keys(&self) -> Result<Vec<KeyRow>> {
        let mut out = Vec::new();
        let mut stream = self.all_active_keys();
        while let Some(row) = stream.next().await {
            out.push(row?);
        }
        Ok(out)
    }
}
