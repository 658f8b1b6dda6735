//! The control plane inside the binary: the store, what the file declares
//! applied into it, and the data plane's view of it kept fresh.
//!
//! At start the store is opened and migrated, the file's tenants,
//! consumers, keys (by hash), products and resources are applied as
//! file-managed rows, and the [`KeyIndex`] is loaded. Afterwards a poller
//! reads the store's change feed every [`POLL`] (and at once when the admin
//! API in this process reports a change): key changes are applied to the
//! index one by one, any other change to tenants, consumers, products or
//! subscriptions rebuilds the consumers' grants, and a change to routes,
//! upstreams, providers or models recompiles the snapshot. So a change made
//! through the API reaches the data plane well within a second, and the
//! request path never waits on the store.

mod directory;
mod file;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures_util::StreamExt;
use sy_config::{ConfigSpec, ModelSpec, ProviderSpec, RouteSpec, UpstreamSpec};
use sy_policy::{ConsumerDirectory, KeyIndex};
use sy_store::{Page, ResourceFilter, ResourceKind, SecretBox, Store};

pub use file::DEFAULT_TENANT;
use tokio::sync::Notify;

/// Page through a store list to the end: `all!(store, list_x, filter)`.
macro_rules! all {
    ($store:expr, $method:ident, $filter:expr) => {{
        let filter = $filter;
        let mut out = Vec::new();
        let mut page = Page::first(PAGE);
        loop {
            let got = $store.$method(&filter, &page).await?;
            out.extend(got.items);
            match got.next {
                Some(next) => page = Page::after(PAGE, next),
                None => break out,
            }
        }
    }};
}

/// How often the change feed is polled; the bound on how stale the data
/// plane can be after a change made by another process.
pub const POLL: Duration = Duration::from_millis(250);

/// Rows per page when loading lists.
const PAGE: u32 = 500;

/// The store and the data plane's index of it.
pub struct ControlPlane {
    store: Store,
    index: Arc<KeyIndex>,
    /// Change-feed position the index reflects.
    head: tokio::sync::Mutex<i64>,
    /// Woken by the admin API after a change, so this process sees its own
    /// changes without waiting for the next poll.
    pub(crate) nudge: Arc<Notify>,
    /// API-created resources, as of the last sync.
    resources: std::sync::Mutex<Extra>,
    /// Set by any sync that found the API's resources changed, cleared by
    /// the poll loop when it recompiles; so a sync run elsewhere (the admin
    /// API's pre-write check) never swallows a needed recompile.
    recompile: std::sync::atomic::AtomicBool,
    /// The change-feed position the data plane serves: published by the
    /// poll loop once a sync (and the recompile it called for) is done.
    applied: tokio::sync::watch::Sender<i64>,
}

/// What a sync found, for the caller to act on.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Synced {
    /// Routes, upstreams, providers or models changed: recompile.
    pub resources: bool,
}

impl ControlPlane {
    /// Open and migrate the store `spec.store` names, apply the file's
    /// entities and load the index. `None` when the config has no store.
    pub async fn start(spec: &ConfigSpec) -> anyhow::Result<Option<ControlPlane>> {
        let Some(url) = spec.store.as_deref() else {
            return Ok(None);
        };
        let store = open(url).await?;
        let report = store
            .apply_file(&file::entities(spec))
            .await
            .context("applying the configuration file to the store")?;
        tracing::info!(
            created = report.created,
            updated = report.updated,
            deleted = report.deleted,
            unchanged = report.unchanged,
            "configuration applied to the store"
        );
        file::apply_subscriptions(&store, spec).await?;
        let plane = ControlPlane {
            store,
            index: Arc::new(KeyIndex::new()),
            head: tokio::sync::Mutex::new(0),
            nudge: Arc::new(Notify::new()),
            resources: std::sync::Mutex::new(Extra::default()),
            recompile: std::sync::atomic::AtomicBool::new(false),
            applied: tokio::sync::watch::Sender::new(0),
        };
        plane.load_all().await?;
        plane.load_resources().await?;
        plane.applied.send_replace(*plane.head.lock().await);
        Ok(Some(plane))
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The directory authentication uses.
    pub fn directory(&self) -> Arc<dyn ConsumerDirectory> {
        self.index.clone()
    }

    /// Reload everything: consumers with their grants, then every key.
    async fn load_all(&self) -> anyhow::Result<()> {
        let mut head = self.head.lock().await;
        let at = self.store.head().await?;
        self.load_consumers().await?;
        let started = tokio::time::Instant::now();
        let mut keys = self.store.all_active_keys();
        let mut n = 0usize;
        while let Some(row) = keys.next().await {
            let row = row?;
            let consumer = self.index.consumer(&row.consumer_id);
            self.index
                .insert(row.hash, directory::key_entry(&row, consumer.as_ref()));
            n += 1;
        }
        tracing::info!(
            keys = n,
            ms = started.elapsed().as_millis() as u64,
            "key index loaded"
        );
        *head = at;
        Ok(())
    }

    /// Rebuild every consumer's grants (and the grants of keys that have
    /// their own, which embed their consumer's).
    async fn load_consumers(&self) -> anyhow::Result<()> {
        let rows = directory::Rows {
            tenants: all!(self.store, list_tenants, Default::default()),
            consumers: all!(self.store, list_consumers, Default::default()),
            products: all!(self.store, list_products, Default::default()),
            subscriptions: all!(self.store, list_subscriptions, Default::default()),
        };
        let built = directory::build(&rows);
        self.index.replace_consumers(built.consumers);
        for (hash, key) in self.index.keys_with_own_grants() {
            if let Some((row, true)) = self.store.key_row_any(&key.key_id).await? {
                let consumer = self.index.consumer(&row.consumer_id);
                self.index
                    .insert(hash, directory::key_entry(&row, consumer.as_ref()));
            }
        }
        Ok(())
    }

    /// Drop index entries whose key no longer exists or is revoked.
    async fn reconcile_keys(&self) -> anyhow::Result<()> {
        let mut live = std::collections::HashSet::new();
        let mut keys = self.store.all_active_keys();
        while let Some(row) = keys.next().await {
            live.insert(row?.hash);
        }
        for hash in self.index.hashes() {
            if !live.contains(&hash) {
                self.index.remove(&hash);
            }
        }
        Ok(())
    }

    /// Apply every change since the last sync to the index.
    pub async fn sync(&self) -> anyhow::Result<Synced> {
        let mut head = self.head.lock().await;
        let mut out = Synced::default();
        loop {
            let changes = self.store.changes_since(*head, 1_000).await?;
            let Some(last) = changes.last() else {
                return Ok(out);
            };
            let last = last.seq;
            let mut consumers = false;
            let mut reconcile = false;
            let mut resources = false;
            for c in &changes {
                match c.kind.as_str() {
                    "api_key" => {
                        match self.store.key_row_any(&c.entity_id).await? {
                            Some((row, true)) => {
                                let consumer = self.index.consumer(&row.consumer_id);
                                self.index.insert(
                                    row.hash,
                                    directory::key_entry(&row, consumer.as_ref()),
                                );
                            }
                            Some((row, false)) => self.index.remove(&row.hash),
                            // Deleted: its hash went with the row. Rare
                            // (revoking is the usual way), so the whole key
                            // set is reconciled.
                            None => reconcile = true,
                        }
                    }
                    "route" | "upstream" | "provider" | "model" => resources = true,
                    "tenant" | "consumer" | "product" | "subscription" => consumers = true,
                    _ => {}
                }
            }
            if consumers {
                self.load_consumers().await?;
            }
            if reconcile {
                self.reconcile_keys().await?;
            }
            if resources {
                // File-managed resources change with the file, which is
                // compiled directly; only a change to the API's ones needs
                // a recompile.
                if self.load_resources().await? {
                    out.resources = true;
                    self.recompile
                        .store(true, std::sync::atomic::Ordering::Release);
                    self.nudge.notify_one();
                }
            }
            *head = last;
        }
    }

    /// Wait until the data plane serves every store change up to `seq`
    /// (keys and grants applied, the snapshot recompiled if resources
    /// changed). For tests and tools that must not guess with sleeps.
    pub async fn applied(&self, seq: i64) {
        let mut rx = self.applied.subscribe();
        let _ = rx.wait_for(|at| *at >= seq).await;
    }

    /// Apply the file again after it changed (its entities, then its
    /// subscriptions), and sync.
    pub async fn reapply(&self, spec: &ConfigSpec) -> anyhow::Result<Synced> {
        self.store.apply_file(&file::entities(spec)).await?;
        file::apply_subscriptions(&self.store, spec).await?;
        self.sync().await
    }

    /// Poll the change feed until `stop`, calling `on_resources` when the
    /// snapshot must be recompiled.
    pub async fn run(
        self: Arc<Self>,
        stop: tokio_util::sync::CancellationToken,
        on_resources: impl Fn() + Send + 'static,
    ) {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
                _ = self.nudge.notified() => {}
            }
            match self.sync().await {
                Ok(_) => {
                    if self
                        .recompile
                        .swap(false, std::sync::atomic::Ordering::AcqRel)
                    {
                        on_resources();
                    }
                    let head = *self.head.lock().await;
                    self.applied.send_if_modified(|at| {
                        let moved = *at != head;
                        *at = head;
                        moved
                    });
                }
                // The store may be briefly away; the index keeps serving.
                Err(e) => tracing::warn!(error = %e, "store sync failed; retrying"),
            }
        }
    }

    /// The file's config plus the routes, upstreams, providers and models
    /// created through the API (file-managed ones come from the file
    /// itself, in file order; API ones follow in creation order). Reads the
    /// copy the last sync loaded, so it never waits on the store.
    pub fn merge(&self, file: &ConfigSpec) -> ConfigSpec {
        self.resources
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
            .onto(file)
    }

    /// Would the configuration still be valid with resource `name` of
    /// `kind` set to `spec` (or deleted, `None`)? Every problem as `(path,
    /// message)`, paths as in the merged configuration (`routes[3].target`).
    /// A file-managed name cannot be changed through the API, so the file's
    /// own entries are never replaced here.
    pub fn check_change(
        &self,
        file: &ConfigSpec,
        kind: ResourceKind,
        name: &str,
        spec: Option<&serde_json::Value>,
    ) -> Result<(), Vec<(String, String)>> {
        let mut extra = self.resources.lock().map(|r| r.clone()).unwrap_or_default();
        extra
            .set(kind, name, spec.cloned())
            .map_err(|e| vec![(String::new(), e.to_string())])?;
        let merged = extra.onto(file);
        let violations = sy_config::validate(&merged);
        if violations.is_empty() {
            Ok(())
        } else {
            Err(violations
                .into_iter()
                .map(|v| (v.path, v.message))
                .collect())
        }
    }

    /// Load the API-created resources into the copy [`Self::merge`] reads;
    /// `true` when they differ from the copy held. A stored spec that no
    /// longer parses is skipped with an error in the log rather than
    /// stopping the gateway.
    async fn load_resources(&self) -> anyhow::Result<bool> {
        let rows = all!(self.store, list_resources, ResourceFilter::default());
        let mut extra = Extra::default();
        for r in rows.into_iter().filter(|r| !r.file_managed) {
            if let Err(e) = extra.set(r.kind, &r.name, Some(r.spec)) {
                tracing::error!(kind = r.kind.as_str(), name = %r.name, error = %e, "stored spec does not parse; skipped");
                continue;
            }
            if r.kind == ResourceKind::Provider && r.has_secret {
                let secret = self.store.provider_secret(&r.name).await?;
                if let Some(p) = extra.providers.iter_mut().find(|p| p.name == r.name) {
                    p.api_key = secret;
                }
            }
        }
        let mut held = self
            .resources
            .lock()
            .map_err(|_| anyhow::anyhow!("resource cache poisoned"))?;
        let changed = *held != extra;
        *held = extra;
        Ok(changed)
    }
}

/// Resources created through the API, parsed.
#[derive(Debug, Clone, Default, PartialEq)]
struct Extra {
    routes: Vec<RouteSpec>,
    upstreams: Vec<UpstreamSpec>,
    providers: Vec<ProviderSpec>,
    models: Vec<ModelSpec>,
}

impl Extra {
    /// Set resource `name` of `kind` to `spec` (parsed into its spec type),
    /// or remove it when `spec` is `None`.
    fn set(
        &mut self,
        kind: ResourceKind,
        name: &str,
        spec: Option<serde_json::Value>,
    ) -> Result<(), serde_json::Error> {
        fn put<T: serde::de::DeserializeOwned>(
            list: &mut Vec<T>,
            name_of: impl Fn(&T) -> &str,
            name: &str,
            spec: Option<serde_json::Value>,
        ) -> Result<(), serde_json::Error> {
            list.retain(|x| name_of(x) != name);
            if let Some(v) = spec {
                list.push(serde_json::from_value(v)?);
            }
            Ok(())
        }
        match kind {
            ResourceKind::Route => put(&mut self.routes, |r| &r.name, name, spec),
            ResourceKind::Upstream => put(&mut self.upstreams, |u| &u.name, name, spec),
            ResourceKind::Provider => put(&mut self.providers, |p| &p.name, name, spec),
            ResourceKind::Model => put(&mut self.models, |m| &m.name, name, spec),
        }
    }

    /// `file` with these resources after its own.
    fn onto(self, file: &ConfigSpec) -> ConfigSpec {
        let mut spec = file.clone();
        spec.routes.extend(self.routes);
        spec.upstreams.extend(self.upstreams);
        spec.providers.extend(self.providers);
        spec.models.extend(self.models);
        spec
    }
}

impl ControlPlane {
    /// Put the day and month usage saved before a restart back into
    /// `ledger`, so a budget cannot be spent twice in one window.
    pub async fn restore_usage(&self, ledger: &sy_state::LocalLedger) -> anyhow::Result<usize> {
        let now = i64::try_from(ledger.now_ms()).unwrap_or(i64::MAX);
        let rows = self.store.load_usage(now).await?;
        let saved = rows.into_iter().filter_map(|r| {
            Some(sy_state::SavedCounter {
                counter: sy_state::CounterId {
                    scope: sy_state::Scope::parse(&r.scope)?,
                    entity: Arc::from(r.entity.as_str()),
                    measure: sy_state::Measure::from_field(&r.measure)?,
                },
                start_ms: u64::try_from(r.window_start).ok()?,
                end_ms: u64::try_from(r.window_end).ok()?,
                used: u64::try_from(r.used).ok()?,
            })
        });
        Ok(ledger.restore(saved))
    }

    /// Save `ledger`'s open day and month counters.
    pub async fn save_usage(&self, ledger: &sy_state::LocalLedger) -> anyhow::Result<()> {
        let rows: Vec<sy_store::UsageRow> = ledger
            .saved_counters()
            .into_iter()
            .map(|c| sy_store::UsageRow {
                scope: c.counter.scope.as_str().to_owned(),
                entity: c.counter.entity.to_string(),
                measure: c.counter.measure.field().to_owned(),
                window_start: i64::try_from(c.start_ms).unwrap_or(i64::MAX),
                window_end: i64::try_from(c.end_ms).unwrap_or(i64::MAX),
                used: i64::try_from(c.used).unwrap_or(i64::MAX),
            })
            .collect();
        self.store.save_usage(&rows).await?;
        Ok(())
    }
}

/// Open and migrate the store at `url`, with the secret key from the
/// environment when one is set.
pub async fn open(url: &str) -> anyhow::Result<Store> {
    let mut store = Store::open(url)
        .await
        .with_context(|| format!("opening the store `{}`", redact_url(url)))?;
    store.migrate().await.context("migrating the store")?;
    if let Some(secrets) = SecretBox::from_env_or_file().context("loading the secret key")? {
        store = store.with_secrets(secrets);
    }
    Ok(store)
}

/// A store URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls_lose_their_password_in_messages() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/gw"),
            "postgres://app:***@db:5432/gw"
        );
        assert_eq!(redact_url("postgres://app@db/gw"), "postgres://app@db/gw");
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
