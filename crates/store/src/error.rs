//! `StoreError`: what a store call can fail with, and the HTTP status the
//! admin API answers for each.

/// Everything a store operation can fail with. Building one has no side
/// effects; the admin edge logs and renders it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No row of `kind` with this id (or name).
    #[error("{kind} {id:?} not found")]
    NotFound {
        /// Entity kind, e.g. `tenant`.
        kind: &'static str,
        /// The id or name that was looked up.
        id: String,
    },
    /// A unique field already holds this value.
    #[error("{kind} with {field} {value:?} already exists")]
    Conflict {
        /// Entity kind.
        kind: &'static str,
        /// The unique field, e.g. `name`.
        field: &'static str,
        /// The value that collided.
        value: String,
    },
    /// The caller's `expected_version` is stale.
    #[error("version mismatch: the current version is {current}")]
    VersionMismatch {
        /// The row's version now.
        current: i64,
    },
    /// The row is declared in the configuration file; change the file instead.
    #[error("{kind} {name:?} is managed by the configuration file")]
    FileManaged {
        /// Entity kind.
        kind: &'static str,
        /// The row's name.
        name: String,
    },
    /// A subscription cannot move between these states.
    #[error("invalid transition from {from} to {to}")]
    InvalidTransition {
        /// The current state.
        from: String,
        /// The requested state.
        to: String,
    },
    /// The input breaks a rule (slug syntax, missing tenant, …).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// A stored value no longer parses (JSON column, enum text): a bug or a
    /// hand-edited database.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Encryption, decryption, hashing or the secret key failed.
    #[error("crypto error: {0}")]
    Crypto(String),
}

impl StoreError {
    /// The HTTP status the admin API answers for this error.
    pub fn status(&self) -> u16 {
        match self {
            StoreError::NotFound { .. } => 404,
            StoreError::Conflict { .. } => 409,
            StoreError::VersionMismatch { .. } => 412,
            StoreError::FileManaged { .. } => 409,
            StoreError::InvalidTransition { .. } => 409,
            StoreError::Invalid(_) => 422,
            StoreError::Corrupt(_) | StoreError::Database(_) | StoreError::Crypto(_) => 500,
        }
    }

    pub(crate) fn not_found(kind: &'static str, id: impl Into<String>) -> Self {
        StoreError::NotFound {
            kind,
            id: id.into(),
        }
    }

    /// Turns a unique violation into `Conflict`, a foreign-key violation
    /// into `Invalid`, and passes anything else through.
    pub(crate) fn from_write(
        e: sqlx::Error,
        kind: &'static str,
        field: &'static str,
        value: &str,
    ) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                return StoreError::Conflict {
                    kind,
                    field,
                    value: value.to_owned(),
                };
            }
            if db.is_foreign_key_violation() {
                return StoreError::Invalid(format!("{kind}: a referenced row does not exist"));
            }
        }
        StoreError::Database(e)
    }
}

/// Result of a store call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
