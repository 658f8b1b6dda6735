//! Wiring and the control loop: `Gateway::start` binds and serves; reloads
//! compile a new snapshot beside the old and swap it in one step.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, anyhow};
use sy_config::{ConfigSpec, ListenerSpec};
use sy_http::tls::{ReloadingTls, ServerTlsFiles};
use sy_http::{Limits, Listener, ListenerStats};
use sy_proxy::{AdminHandler, CompileDeps, Proxy, SnapshotHolder};

use crate::admin_listener::AdminListener;
use crate::control::ControlPlane;
use crate::usage::Usage;
use sy_telemetry::{AccessLog, Metrics};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Load the configuration, build the runtime and serve until SIGTERM/SIGINT.
pub fn serve(config: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    init_tracing();
    let spec = load(config.as_deref()).map_err(|e| anyhow!("{e}"))?;
    // One worker means one thread: the current-thread scheduler then avoids
    // the work-stealing machinery (atomics, cross-thread wake-ups) entirely.
    let mut rt = if spec.server.workers == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        if spec.server.workers > 0 {
            b.worker_threads(spec.server.workers);
        }
        b
    };
    let rt = rt
        .enable_all()
        .thread_name("switchyard")
        .build()
        .context("starting the runtime")?;
    rt.block_on(async move {
        let (access_log, log_task) = if spec.access_log.enabled {
            let (l, t) = AccessLog::stdout();
            (l, Some(t))
        } else {
            (AccessLog::disabled(), None)
        };
        Gateway::start(spec, config, access_log, log_task)
            .await?
            .run_until_signalled()
            .await
    })?;
    Ok(ExitCode::SUCCESS)
}

fn load(path: Option<&Path>) -> Result<ConfigSpec, sy_config::ConfigErrors> {
    match path {
        Some(p) => sy_config::load_file(p),
        None => sy_config::defaults(),
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWITCHYARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Diagnostics go to stderr as JSON; stdout carries only the access log.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_current_span(false)
        .try_init();
}

/// A running gateway: listeners bound, snapshot serving, control tasks up.
/// Tests start one in-process on ephemeral ports; `serve` starts one and
/// waits for signals.
pub struct Gateway {
    /// Data-plane listener addresses, in config order.
    pub addrs: Vec<SocketAddr>,
    /// Admin listener address.
    pub admin_addr: Option<SocketAddr>,
    reloader: Reloader,
    /// The store and its sync, when the config names a store.
    pub control: Option<Arc<ControlPlane>>,
    /// The limiter and quota ledger: saved to the store, or flushed to
    /// Redis, at shutdown.
    usage: Usage,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    ready: Arc<AtomicBool>,
    admin: Option<(tokio::task::JoinHandle<()>, CancellationToken)>,
    proxy: Option<Arc<Proxy>>,
    log_task: Option<tokio::task::JoinHandle<()>>,
    grace: Duration,
    _watcher: Option<notify::RecommendedWatcher>,
    reload_rx: Option<tokio::sync::mpsc::Receiver<&'static str>>,
}

impl Gateway {
    /// Compile `spec`, bind every listener and start serving. `config_path`
    /// is what reloads re-read (and what the file watcher watches).
    pub async fn start(
        spec: ConfigSpec,
        config_path: Option<PathBuf>,
        access_log: AccessLog,
        log_task: Option<tokio::task::JoinHandle<()>>,
    ) -> anyhow::Result<Gateway> {
        // Watch before anything serves: a change made as soon as /readyz
        // answers must not fall between the first snapshot and the watch.
        let (reload_tx, reload_rx) = tokio::sync::mpsc::channel::<&'static str>(8);
        let watcher = match &config_path {
            Some(p) => Some(watch_file(p, reload_tx)?),
            None => None,
        };
        let shutdown = CancellationToken::new();
        let tracker = TaskTracker::new();
        let metrics = Metrics::new();
        // One limiter and ledger for the life of the process: reloads keep
        // the counts.
        let usage = Usage::new(spec.cluster.as_ref())?;
        usage.report_to(&metrics);
        let deps = CompileDeps {
            metrics: metrics.clone(),
            limiter: usage.limiter(),
            ledger: usage.ledger(),
            token_caches: sy_policy::TokenCaches::default(),
            shutdown: shutdown.clone(),
            directory: None,
        };
        let control = ControlPlane::start(&spec).await?.map(Arc::new);
        // With a cluster, Redis holds the usage: nothing to restore or save.
        if let (Some(c), Some(ledger)) = (&control, usage.local_ledger()) {
            match c.restore_usage(ledger).await {
                Ok(n) => tracing::info!(counters = n, "day and month usage restored"),
                Err(e) => tracing::error!(error = %e, "usage counters could not be restored"),
            }
        }
        let deps = CompileDeps {
            directory: control.as_ref().map(|c| c.directory()),
            ..deps
        };
        let effective = match &control {
            Some(c) => c.merge(&spec),
            None => spec.clone(),
        };

        let (first, whole) = match sy_proxy::compile(&effective, None, 1, &deps) {
            Ok(snapshot) => (snapshot, true),
            // The file is fine but what the admin API stored beside it is
            // not (say the file dropped an upstream an API route uses).
            // Start from the file alone, so the admin API is up to repair
            // the stored resources; the next store change recompiles both.
            Err(errors) if control.is_some() => {
                let first = sy_proxy::compile(&spec, None, 1, &deps)
                    .map_err(|e| anyhow!("invalid configuration:\n{}", e.join("\n")))?;
                tracing::error!(
                    errors = %errors.join("; "),
                    "the routes, upstreams, providers or models stored through the admin API \
                     do not compile with this file; serving the file alone until they are fixed"
                );
                (first, false)
            }
            Err(errors) => return Err(anyhow!("invalid configuration:\n{}", errors.join("\n"))),
        };
        let holder = SnapshotHolder::new(first);
        metrics.reload(whole, 1);
        let proxy = Proxy::new(holder.clone(), access_log);

        let mut stats = Vec::new();
        let mut bound = Vec::new();
        let mut addrs = Vec::new();
        for l in &spec.listeners {
            let listener = bind_listener(l).await?;
            let addr = listener.socket.local_addr()?;
            stats.push((l.name.clone(), listener.stats.clone()));
            if let Some(tls) = &listener.tls {
                tokio::spawn(tls.clone().watch(Duration::from_secs(2), shutdown.clone()));
            }
            tracing::info!(listener = %l.name, addr = %addr, tls = l.tls.is_some(), "listening");
            addrs.push(addr);
            bound.push(listener);
        }
        let ready = Arc::new(AtomicBool::new(false));
        let mut admin_addr = None;
        let admin = match &spec.admin {
            Some(a) => {
                let addr: SocketAddr = a
                    .bind
                    .parse()
                    .with_context(|| format!("admin bind address `{}`", a.bind))?;
                let socket = TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding admin listener {addr}"))?;
                admin_addr = Some(socket.local_addr()?);
                tracing::info!(addr = %socket.local_addr()?, "admin listening");
                let ops = AdminHandler::new(
                    holder.clone(),
                    metrics.clone(),
                    stats.clone(),
                    ready.clone(),
                );
                let api = control
                    .as_ref()
                    .map(|c| admin_api(c, config_path.as_deref()));
                let handler = AdminListener::new(ops, api);
                let listener = Listener {
                    name: "admin".into(),
                    socket,
                    tls: None,
                    http2: false,
                    limits: Limits::default(),
                    stats: Arc::new(ListenerStats::default()),
                };
                // The admin listener stops last, so /readyz can report the drain.
                let admin_stop = CancellationToken::new();
                let t = tokio::spawn(listener.run(handler, admin_stop.clone(), TaskTracker::new()));
                Some((t, admin_stop))
            }
            None => None,
        };
        let grace = spec.server.shutdown_grace.get();
        for listener in bound {
            tokio::spawn(listener.run_draining_within(
                proxy.clone(),
                shutdown.clone(),
                tracker.clone(),
                Some(grace),
            ));
        }
        ready.store(true, Ordering::Relaxed);

        // Bucket sweeping keeps the limiter's memory bounded by active
        // clients; the ledger drops ended windows and idle gauges.
        if let Usage::Local { limiter, ledger } = &usage {
            let stop = shutdown.clone();
            let (limiter, ledger) = (Arc::clone(limiter), ledger.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(30));
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tick.tick() => { limiter.sweep(); ledger.sweep(); }
                    }
                }
            });
        }
        // Day and month usage is saved every few seconds (and at shutdown),
        // so a restart loses at most that much of it.
        if let (Some(c), Some(ledger)) = (&control, usage.local_ledger()) {
            let (c, ledger, stop) = (Arc::clone(c), ledger.clone(), shutdown.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(USAGE_SAVE_EVERY);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tick.tick() => {
                            if let Err(e) = c.save_usage(&ledger).await {
                                tracing::warn!(error = %e, "saving usage counters failed; retrying");
                            }
                        }
                    }
                }
            });
        }

        let reloader = Reloader {
            path: config_path.clone(),
            holder: holder.clone(),
            deps: deps.clone(),
            listeners: spec.listeners.clone(),
            cluster: spec.cluster.clone(),
            control: control.clone(),
        };
        // Store changes (from this process's admin API or any other node)
        // reach the key index directly; new routes, upstreams, providers or
        // models recompile the snapshot.
        if let Some(c) = &control {
            let r = reloader.clone();
            tokio::spawn(Arc::clone(c).run(shutdown.clone(), move || {
                let _ = r.reload("store change");
            }));
        }
        Ok(Gateway {
            addrs,
            admin_addr,
            reloader,
            control,
            usage,
            shutdown,
            tracker,
            ready,
            admin,
            proxy: Some(proxy),
            log_task,
            grace: spec.server.shutdown_grace.get(),
            _watcher: watcher,
            reload_rx: Some(reload_rx),
        })
    }

    /// The configuration generation serving now.
    pub fn generation(&self) -> u64 {
        self.reloader.holder.load().generation
    }

    /// Re-read the config file, compile and swap. On any error the current
    /// snapshot keeps serving and the error is logged and returned.
    pub fn reload(&self, why: &str) -> Result<u64, String> {
        self.reloader.reload(why)
    }

    /// Serve until SIGTERM or SIGINT, reloading on SIGHUP and file changes.
    pub async fn run_until_signalled(mut self) -> anyhow::Result<()> {
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let mut reload_rx = self.reload_rx.take();
        loop {
            tokio::select! {
                _ = hup.recv() => { let _ = self.reload("SIGHUP"); }
                Some(why) = async { match reload_rx.as_mut() { Some(rx) => rx.recv().await, None => std::future::pending().await } } => {
                    // Editors write files in several steps; let the burst settle.
                    tokio::time::sleep(Duration::from_millis(150)).await;
                    if let Some(rx) = reload_rx.as_mut() { while rx.try_recv().is_ok() {} }
                    let _ = self.reload(why);
                }
                _ = term.recv() => break,
                _ = tokio::signal::ctrl_c() => break,
            }
        }
        self.shutdown().await;
        Ok(())
    }

    /// Reload whenever the watched file changes (for tests and embedders
    /// that do not want signal handling). Returns when the gateway shuts down.
    pub fn spawn_file_reloads(&mut self) {
        let Some(mut rx) = self.reload_rx.take() else {
            return;
        };
        let reloader = self.reloader.clone();
        let stop = self.shutdown.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    Some(why) = rx.recv() => {
                        tokio::time::sleep(Duration::from_millis(150)).await;
                        while rx.try_recv().is_ok() {}
                        let _ = reloader.reload(why);
                    }
                }
            }
        });
    }

    /// Stop accepting, let in-flight requests and streams finish within the
    /// grace period, then stop the admin listener and flush the access log.
    pub async fn shutdown(mut self) {
        let grace = self.grace;
        tracing::info!(
            grace_ms = grace.as_millis() as u64,
            "shutting down: draining in-flight requests"
        );
        self.ready.store(false, Ordering::Relaxed);
        self.shutdown.cancel();
        self.tracker.close();
        if tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("grace period over; closing remaining connections");
        }
        if let (Some(c), Some(ledger)) = (&self.control, self.usage.local_ledger())
            && let Err(e) = c.save_usage(ledger).await
        {
            tracing::error!(error = %e, "saving usage counters at shutdown failed");
        }
        self.usage.flush().await;
        if let Some((t, stop)) = self.admin.take() {
            stop.cancel();
            let _ = t.await;
        }
        self.proxy.take();
        if let Some(t) = self.log_task.take() {
            // The writer ends once every handle is gone and its queue is written.
            drop(self);
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
        tracing::info!("stopped");
    }
}

/// The admin REST API over the control plane's store. A change made
/// through it wakes the store sync at once, so this node applies it without
/// waiting for the next poll.
fn admin_api(control: &Arc<ControlPlane>, config_path: Option<&Path>) -> axum::Router {
    let bootstrap = std::env::var(ADMIN_TOKEN_ENV)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .map(|t| {
            use sha2::Digest;
            let hash: [u8; 32] = sha2::Sha256::digest(t.trim().as_bytes()).into();
            hash
        });
    if bootstrap.is_none() {
        tracing::info!("{ADMIN_TOKEN_ENV} is not set: the admin API accepts user logins only");
    }
    let nudge = Arc::clone(&control.nudge);
    let checker = Arc::clone(control);
    let path = config_path.map(Path::to_path_buf);
    sy_admin::router(sy_admin::AdminState {
        store: control.store().clone(),
        bootstrap_token_sha256: bootstrap,
        on_change: Some(Arc::new(move || nudge.notify_one())),
        check_resource: Some(Arc::new(move |kind, name, spec| {
            let checker = Arc::clone(&checker);
            let path = path.clone();
            Box::pin(async move {
                let file = match &path {
                    Some(p) => sy_config::load_file(p),
                    None => sy_config::defaults(),
                }
                .map_err(|e| {
                    vec![(
                        String::new(),
                        format!("the configuration file does not load: {e}"),
                    )]
                })?;
                // Count every stored change, including one made a moment ago.
                checker.sync().await.map_err(|e| {
                    vec![(String::new(), format!("the store could not be read: {e}"))]
                })?;
                checker.check_change(&file, kind, &name, spec.as_ref())
            })
        })),
    })
}

/// How often the quota ledger's day and month counters are saved.
const USAGE_SAVE_EVERY: Duration = Duration::from_secs(5);

/// The environment variable holding the bootstrap admin token.
pub const ADMIN_TOKEN_ENV: &str = "SWITCHYARD_ADMIN_TOKEN";

/// Everything a reload needs; cloned into the tasks that trigger reloads.
#[derive(Clone)]
struct Reloader {
    path: Option<PathBuf>,
    holder: Arc<SnapshotHolder>,
    deps: CompileDeps,
    listeners: Vec<ListenerSpec>,
    cluster: Option<sy_config::ClusterSpec>,
    control: Option<Arc<ControlPlane>>,
}

impl Reloader {
    /// Re-read the config file (or the embedded defaults), merge what the
    /// store adds, compile and swap. A file change is also applied to the
    /// store, in the background; when that changes stored resources, a
    /// second reload follows.
    fn reload(&self, why: &str) -> Result<u64, String> {
        let loaded = match &self.path {
            Some(path) => sy_config::load_file(path),
            None => sy_config::defaults(),
        };
        let file = match loaded {
            Ok(s) => s,
            Err(e) => {
                self.deps.metrics.reload(false, 0);
                tracing::error!(trigger = why, errors = %e, "configuration rejected; the previous one keeps serving");
                return Err(e.to_string());
            }
        };
        if file.listeners != self.listeners {
            tracing::warn!("listener changes take effect on restart; the other changes apply now");
        }
        if file.cluster != self.cluster {
            tracing::warn!("cluster changes take effect on restart; the other changes apply now");
        }
        let spec = match &self.control {
            Some(c) => c.merge(&file),
            None => file.clone(),
        };
        let prev = self.holder.load();
        let generation = self.holder.next_generation();
        let result = match sy_proxy::compile(&spec, Some(&prev), generation, &self.deps) {
            Ok(next) => {
                self.holder.store(next);
                self.deps.metrics.reload(true, generation);
                tracing::info!(trigger = why, generation, "configuration reloaded");
                Ok(generation)
            }
            Err(errors) => {
                self.deps.metrics.reload(false, 0);
                let joined = errors.join("; ");
                tracing::error!(trigger = why, errors = %joined, "configuration rejected; the previous one keeps serving");
                Err(joined)
            }
        };
        if let (Some(control), true) = (&self.control, why != "store change") {
            let control = Arc::clone(control);
            let again = self.clone();
            tokio::spawn(async move {
                match control.reapply(&file).await {
                    Ok(synced) if synced.resources => {
                        let _ = again.reload("store change");
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::error!(error = %e, "applying the configuration to the store failed")
                    }
                }
            });
        }
        result
    }
}

fn watch_file(
    path: &Path,
    tx: tokio::sync::mpsc::Sender<&'static str>,
) -> anyhow::Result<notify::RecommendedWatcher> {
    use notify::{RecursiveMode, Watcher};
    let file =
        std::fs::canonicalize(path).with_context(|| format!("config file {}", path.display()))?;
    // Watch the directory: editors and config managers replace files by rename.
    let dir = file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let name = file.file_name().map(|n| n.to_os_string());
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res {
            let ours = ev
                .paths
                .iter()
                .any(|p| p.file_name().map(|n| n.to_os_string()) == name);
            if ours && !ev.kind.is_access() {
                let _ = tx.try_send("file change");
            }
        }
    })?;
    watcher.watch(&dir, RecursiveMode::NonRecursive)?;
    Ok(watcher)
}

async fn bind_listener(l: &ListenerSpec) -> anyhow::Result<Listener> {
    let addr: SocketAddr = l
        .bind
        .parse()
        .with_context(|| format!("listener {}: bind address `{}`", l.name, l.bind))?;
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.set_nodelay(true)?;
    socket
        .bind(&addr.into())
        .with_context(|| format!("listener {}: binding {addr}", l.name))?;
    socket.listen(4096)?;
    let socket = TcpListener::from_std(socket.into())?;
    let tls = match &l.tls {
        Some(t) => Some(
            ReloadingTls::new(
                ServerTlsFiles {
                    cert: t.cert_file.clone().into(),
                    key: t.key_file.clone().into(),
                    client_ca: t.client_ca_file.clone().map(Into::into),
                    require_client_cert: t.require_client_cert,
                },
                l.http2,
            )
            .map_err(|e| anyhow!("listener {}: {e}", l.name))?,
        ),
        None => None,
    };
    let lim = &l.limits;
    Ok(Listener {
        name: l.name.as_str().into(),
        socket,
        tls,
        http2: l.http2,
        limits: Limits {
            max_header_bytes: usize::try_from(lim.max_header_bytes.0).unwrap_or(usize::MAX),
            header_read_timeout: lim.header_read_timeout.get(),
            idle_timeout: lim.idle_timeout.get(),
            max_connections: lim.max_connections,
            h2_max_concurrent_streams: lim.h2_max_concurrent_streams,
            h2_max_pending_reset_streams: lim.h2_max_pending_reset_streams,
        },
        stats: Arc::new(ListenerStats::default()),
    })
}
