//! `AdminState`: what every handler shares.

use std::sync::Arc;

use sha2::{Digest, Sha256};

/// Shared by every admin handler. Cheap to clone.
#[derive(Clone)]
pub struct AdminState {
    /// The control-plane store.
    pub store: sy_store::Store,
    /// SHA-256 of `SWITCHYARD_ADMIN_TOKEN`; a request bearing that token acts
    /// as platform admin with actor id `bootstrap`. `None` disables it.
    pub bootstrap_token_sha256: Option<[u8; 32]>,
    /// Called after every successful mutation (not after login or logout,
    /// which the data plane does not see), so the binary can rebuild the
    /// data plane's snapshot at once instead of waiting for its poll.
    pub on_change: Option<Arc<dyn Fn() + Send + Sync>>,
    /// Checks a route, upstream, provider or model change against the whole
    /// configuration before it is stored: `(kind, name, new spec or None
    /// for a delete)` → every problem as `(path, message)`. Provided by the
    /// binary (which knows the file the store's resources are merged with),
    /// so a write that would leave the gateway unable to compile its
    /// configuration — a route to a missing upstream, a model with no
    /// provider — is refused with 422 instead of being stored.
    pub check_resource: Option<Arc<ResourceCheck>>,
}

/// See [`AdminState::check_resource`]. Asynchronous so the binary can
/// first bring its view of the store up to date (a resource created a
/// moment ago must count).
pub type ResourceCheck = dyn Fn(
        sy_store::ResourceKind,
        String,
        Option<serde_json::Value>,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<(), Vec<(String, String)>>> + Send>,
    > + Send
    + Sync;

impl std::fmt::Debug for AdminState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminState")
            .field("store", &self.store)
            .field(
                "bootstrap_token",
                &self.bootstrap_token_sha256.map(|_| "<redacted>"),
            )
            .field("on_change", &self.on_change.is_some())
            .field("check_resource", &self.check_resource.is_some())
            .finish()
    }
}

impl AdminState {
    /// State over `store` with no bootstrap token and no change hook.
    pub fn new(store: sy_store::Store) -> Self {
        AdminState {
            store,
            bootstrap_token_sha256: None,
            on_change: None,
            check_resource: None,
        }
    }

    /// Accepts `token` (in clear; only its SHA-256 is kept) as the
    /// bootstrap platform-admin token.
    pub fn with_bootstrap_token(mut self, token: &str) -> Self {
        self.bootstrap_token_sha256 = Some(sha256(token));
        self
    }

    /// Calls `f` after every successful mutation.
    pub fn with_on_change(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.on_change = Some(Arc::new(f));
        self
    }

    /// Runs the binary's whole-configuration check on a resource change.
    pub(crate) async fn check_resource(
        &self,
        kind: sy_store::ResourceKind,
        name: &str,
        spec: Option<&serde_json::Value>,
    ) -> Result<(), crate::ApiError> {
        let Some(check) = &self.check_resource else {
            return Ok(());
        };
        check(kind, name.to_owned(), spec.cloned())
            .await
            .map_err(|problems| {
                crate::ApiError::validation(
                    problems
                        .into_iter()
                        .map(|(field, message)| crate::error::FieldError { field, message })
                        .collect(),
                )
            })
    }

    /// Tells the binary that something changed.
    pub(crate) fn changed(&self) {
        if let Some(f) = &self.on_change {
            f();
        }
    }
}

/// SHA-256 of `text`.
pub fn sha256(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}
