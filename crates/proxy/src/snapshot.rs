//! The compiled, immutable view of the configuration that requests read.
//!
//! `compile` is the fallible prepare step: it builds the router, pools,
//! policy chains and AI gateway from a validated spec. Swapping the result
//! into the [`SnapshotHolder`] is the infallible commit. A request loads the
//! current snapshot once and keeps that `Arc` to its end, so a reload never
//! changes the rules under a request in flight.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use sy_ai::AiGateway;
use sy_config::{Cidr, ConfigSpec, RewriteSpec, RouteTargetSpec, UpstreamSpec};
use sy_http::client::{ClientOptions, UpstreamClient, build_client};
use sy_http::tls::ClientTlsFiles;
use sy_policy::{Order, PolicyChain, PolicyDeps, QuotaPolicy};
use sy_telemetry::{Metrics, RouteMetrics, UpstreamMetrics};
use tokio_util::sync::CancellationToken;

use crate::router::{Router, check_rewrite};
use crate::upstream::{Pool, ProbeFn, ProbeTarget};

/// An upstream pool with its client and metric handles; reused across
/// reloads while its spec is unchanged, so health and pooled connections survive.
pub struct PoolRuntime {
    /// Balancing, health, breaker, budget.
    pub pool: Arc<Pool>,
    /// Pooled connections to the targets.
    pub client: UpstreamClient,
    /// Metric handles by target index.
    pub metrics: Vec<UpstreamMetrics>,
}

impl std::fmt::Debug for PoolRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolRuntime")
            .field("pool", &self.pool.name())
            .finish()
    }
}

/// Where a compiled route sends requests.
#[derive(Debug)]
pub enum RouteTarget {
    /// One pool.
    Pool(Arc<PoolRuntime>),
    /// Weighted split: `(pool, cumulative weight)`, and the total.
    Split(Vec<(Arc<PoolRuntime>, u32)>, u32),
    /// The AI gateway, limited to these models (empty = all).
    Ai(Vec<String>),
    /// A fixed response.
    Respond {
        /// Status.
        status: StatusCode,
        /// Headers.
        headers: HeaderMap,
        /// Body.
        body: Bytes,
    },
}

/// A compiled route.
#[derive(Debug)]
pub struct Route {
    /// Name.
    pub name: Arc<str>,
    /// Target.
    pub target: RouteTarget,
    /// Policies in order.
    pub chain: PolicyChain,
    /// Path and host rewriting.
    pub rewrite: Option<RewriteSpec>,
    /// Metric handles.
    pub metrics: RouteMetrics,
}

impl Route {
    /// Whether a request on this route needs its fields in a header map:
    /// policies and the AI endpoints read and edit the map; a policy-free
    /// route to a pool, or a fixed answer, works on lines.
    pub fn reads_map(&self) -> bool {
        !self.chain.is_empty() || matches!(self.target, RouteTarget::Ai(_))
    }
}

/// Everything a request needs, compiled.
pub struct Snapshot {
    /// Increases by one per successful reload.
    pub generation: u64,
    /// The route table.
    pub router: Router<Arc<Route>>,
    /// Pools by name.
    pub pools: HashMap<String, Arc<PoolRuntime>>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<Cidr>,
    /// Body limit per listener name (a handful: a scan beats hashing).
    pub body_limits: Vec<(Arc<str>, u64)>,
    /// The AI gateway.
    pub ai: Arc<AiGateway>,
    /// Metrics for requests that match no route.
    pub unmatched: RouteMetrics,
    /// Some route passes a request on without a policy or the AI
    /// endpoints, so keeping request fields as lines can pay off (see
    /// `Route::reads_map`); when none does, they would only be made into
    /// a map again.
    pub passes_lines: bool,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("generation", &self.generation)
            .field("routes", &self.router.len())
            .finish()
    }
}

/// What compile needs besides the spec: shared state that outlives snapshots.
#[derive(Clone)]
pub struct CompileDeps {
    /// Metric families.
    pub metrics: Arc<Metrics>,
    /// Policy dependencies (consumer directory is rebuilt per compile from the spec).
    pub limiter: Arc<dyn sy_state::RateLimiter>,
    /// JWKS key sets and introspection answers, kept across reloads.
    pub token_caches: sy_policy::TokenCaches,
    /// Cancelled at shutdown; ends health-check tasks.
    pub shutdown: CancellationToken,
    /// The store-backed key index, when there is a store; without one the
    /// config file's consumers are indexed at every compile.
    pub directory: Option<Arc<dyn sy_policy::ConsumerDirectory>>,
    /// Usage limits (requests, concurrency, tokens, spend) of routes,
    /// models and callers. One per process: reloads keep the counts.
    pub ledger: Arc<dyn sy_state::QuotaLedger>,
}

/// Holds the current snapshot. One atomic load per request.
#[derive(Debug)]
pub struct SnapshotHolder {
    current: ArcSwap<Snapshot>,
    generation: AtomicU64,
    passes_lines: AtomicBool,
}

impl SnapshotHolder {
    /// Start with `first`.
    pub fn new(first: Snapshot) -> Arc<Self> {
        let generation = AtomicU64::new(first.generation);
        let passes_lines = AtomicBool::new(first.passes_lines);
        Arc::new(SnapshotHolder {
            current: ArcSwap::from_pointee(first),
            generation,
            passes_lines,
        })
    }

    /// The snapshot serving now.
    pub fn load(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// The next generation number to compile with.
    pub fn next_generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed) + 1
    }

    /// Swap in a new snapshot (the commit step; cannot fail).
    pub fn store(&self, next: Snapshot) {
        self.generation.store(next.generation, Ordering::Relaxed);
        self.passes_lines
            .store(next.passes_lines, Ordering::Relaxed);
        self.current.store(Arc::new(next));
    }

    /// [`Snapshot::passes_lines`] of the snapshot serving now, without
    /// loading it (asked once per request head).
    pub fn passes_lines(&self) -> bool {
        self.passes_lines.load(Ordering::Relaxed)
    }
}

/// Compile a validated spec. `previous` lends pools whose spec is unchanged.
/// Returns every problem found.
pub fn compile(
    spec: &ConfigSpec,
    previous: Option<&Snapshot>,
    generation: u64,
    deps: &CompileDeps,
) -> Result<Snapshot, Vec<String>> {
    let mut errors = Vec::new();

    let mut pools = HashMap::new();
    for up in &spec.upstreams {
        let existing = previous.and_then(|p| p.pools.get(&up.name));
        match existing {
            Some(rt) if rt.pool.spec() == up => {
                pools.insert(up.name.clone(), rt.clone());
            }
            _ => match build_pool(up, deps) {
                Ok(rt) => {
                    pools.insert(up.name.clone(), rt);
                }
                Err(mut e) => errors.append(&mut e),
            },
        }
    }

    let directory: Arc<dyn sy_policy::ConsumerDirectory> = match &deps.directory {
        Some(d) => Arc::clone(d),
        None => Arc::new(sy_policy::directory_from_config(&spec.consumers)),
    };
    let policy_deps = PolicyDeps {
        consumers: directory,
        limiter: deps.limiter.clone(),
        token_caches: deps.token_caches.clone(),
    };

    let mut builder = Router::builder();
    let mut passes_lines = false;
    for route in &spec.routes {
        let target = match &route.target {
            RouteTargetSpec::Upstream(name) => match pools.get(name) {
                Some(p) => RouteTarget::Pool(p.clone()),
                None => {
                    errors.push(format!(
                        "route {}: upstream `{name}` is not defined",
                        route.name
                    ));
                    continue;
                }
            },
            RouteTargetSpec::Split(branches) => {
                let mut acc = Vec::new();
                let mut total = 0u32;
                for b in branches {
                    match pools.get(&b.upstream) {
                        Some(p) => {
                            total = total.saturating_add(b.weight);
                            acc.push((p.clone(), total));
                        }
                        None => errors.push(format!(
                            "route {}: upstream `{}` is not defined",
                            route.name, b.upstream
                        )),
                    }
                }
                if total == 0 {
                    errors.push(format!("route {}: split weights add up to 0", route.name));
                    continue;
                }
                RouteTarget::Split(acc, total)
            }
            RouteTargetSpec::Ai(ai) => RouteTarget::Ai(ai.models.clone()),
            RouteTargetSpec::Respond(r) => {
                let mut headers = HeaderMap::new();
                for (k, v) in &r.headers {
                    match (
                        HeaderName::try_from(k.as_str()),
                        HeaderValue::try_from(v.as_str()),
                    ) {
                        (Ok(k), Ok(v)) => {
                            headers.insert(k, v);
                        }
                        _ => errors.push(format!(
                            "route {}: invalid response header `{k}`",
                            route.name
                        )),
                    }
                }
                let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
                RouteTarget::Respond {
                    status,
                    headers,
                    body: Bytes::from(r.body.clone()),
                }
            }
        };
        if let Some(rw) = &route.rewrite
            && let Err(e) = check_rewrite(rw, route.matches.path.as_ref())
        {
            errors.push(format!("route {}: rewrite: {e}", route.name));
        }
        let mut chain = match sy_policy::build_chain(&route.policies, &route.name, &policy_deps) {
            Ok(c) => c,
            Err(mut e) => {
                errors.append(&mut e);
                continue;
            }
        };
        // Request and concurrency limits of the route, and of its callers
        // once authenticated.
        let authenticates = chain.policies().iter().any(|p| p.order() == Order::Auth);
        if authenticates || !route.limits.is_empty() {
            let ledger = Arc::clone(&deps.ledger);
            chain = chain.with(Arc::new(QuotaPolicy::new(
                &route.name,
                &route.limits,
                ledger,
            )));
        }
        let compiled = Arc::new(Route {
            name: Arc::from(route.name.as_str()),
            target,
            chain,
            rewrite: route.rewrite.clone(),
            metrics: deps.metrics.route(&route.name),
        });
        passes_lines |= !compiled.reads_map();
        if let Err(e) = builder.add(&route.matches, route.priority, compiled) {
            errors.push(format!("route {}: {e}", route.name));
        }
    }

    // Unchanged deployments keep their routing state (cool-downs, limit
    // windows, latencies), as unchanged pools do.
    let ai = match AiGateway::compile_next(spec, previous.map(|p| p.ai.as_ref())) {
        Ok(ai) => Arc::new(ai.with_ledger(Arc::clone(&deps.ledger))),
        Err(mut e) => {
            errors.append(&mut e);
            return Err(errors);
        }
    };

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Snapshot {
        generation,
        router: builder.build(),
        pools,
        trusted_proxies: spec.trusted_proxies.clone(),
        body_limits: spec
            .listeners
            .iter()
            .map(|l| (Arc::from(l.name.as_str()), l.limits.max_body_bytes.0))
            .collect(),
        ai,
        unmatched: deps.metrics.route("<none>"),
        passes_lines,
    })
}

fn build_pool(spec: &UpstreamSpec, deps: &CompileDeps) -> Result<Arc<PoolRuntime>, Vec<String>> {
    let pool = Arc::new(Pool::from_spec(spec)?);
    let tls = spec.tls.clone().unwrap_or_default();
    let opts = ClientOptions {
        connect_timeout: nonzero(spec.timeouts.connect.get()),
        http2_only: spec.http2,
        max_idle_per_host: spec.max_idle_per_target,
        idle_timeout: std::time::Duration::from_secs(90),
        tls: ClientTlsFiles {
            ca: tls.ca_file.map(Into::into),
            client_cert: tls.client_cert_file.map(Into::into),
            client_key: tls.client_key_file.map(Into::into),
        },
        server_name: tls.server_name,
    };
    let client = build_client(&opts).map_err(|e| vec![format!("upstream {}: {e}", spec.name)])?;
    let metrics = pool
        .targets()
        .iter()
        .map(|t| deps.metrics.target(&spec.name, t.url()))
        .collect();
    let rt = Arc::new(PoolRuntime {
        pool: pool.clone(),
        client: client.clone(),
        metrics,
    });
    if tokio::runtime::Handle::try_current().is_ok() {
        let probe_client = client;
        let probe: ProbeFn = Arc::new(move |t: ProbeTarget| {
            let client = probe_client.clone();
            Box::pin(async move { probe_once(&client, &t).await })
        });
        pool.spawn_health_checks(probe, deps.shutdown.child_token());
    }
    Ok(rt)
}

/// One active health probe: GET the path; 2xx and 3xx are healthy.
async fn probe_once(client: &UpstreamClient, t: &ProbeTarget) -> bool {
    let uri = Uri::builder()
        .scheme(t.scheme.clone())
        .authority(t.authority.clone())
        .path_and_query(&*t.path)
        .build();
    let Ok(uri) = uri else { return false };
    let Ok(req) = http::Request::get(uri)
        .header("user-agent", "switchyard-health")
        .body(sy_http::empty())
    else {
        return false;
    };
    match tokio::time::timeout(t.timeout, client.request(req)).await {
        Ok(Ok(res)) => {
            let ok = res.status().is_success() || res.status().is_redirection();
            // Drain so the connection returns to the pool.
            let _ = http_body_util::BodyExt::collect(res.into_body()).await;
            ok
        }
        _ => false,
    }
}

fn nonzero(d: std::time::Duration) -> Option<std::time::Duration> {
    (!d.is_zero()).then_some(d)
}
