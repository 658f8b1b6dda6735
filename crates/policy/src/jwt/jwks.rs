//! A cached JSON Web Key Set (RFC 7517) fetched from an identity provider.
//!
//! Requests read the current key set with one atomic load. A background
//! task fetches the set when the cache is created and every `refresh`
//! interval after (retrying with back-off while fetches fail); a token
//! naming an unknown key id asks for an early fetch, at most once per
//! [`FORCED_REFRESH_EVERY`], so a flood of made-up key ids cannot hammer
//! the provider. A failed fetch never replaces the last good set.
//!
//! The task holds only a `Weak` reference: it ends once the last policy
//! using the cache is dropped (a reload that removes the route).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use http::header::ACCEPT;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use sy_http::client::UpstreamClient;
use tokio::time::Instant;

use super::fetch::{exchange, idp_client};

/// The least time between two fetches asked for by requests (unknown key
/// id, or no key set yet).
pub(crate) const FORCED_REFRESH_EVERY: Duration = Duration::from_secs(30);
/// How long one fetch may take, and how long a request waits for one.
pub(crate) const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// First retry delay after a failed background fetch; doubles up to the
/// refresh interval.
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// One verification key of the set.
pub(crate) struct SetKey {
    /// The key id (`kid`), if the provider gave one.
    pub(crate) kid: Option<String>,
    /// The algorithm the key is pinned to (`alg`), if any.
    pub(crate) alg: Option<Algorithm>,
    /// The key.
    pub(crate) key: DecodingKey,
}

/// The usable keys of one fetched document.
pub(crate) struct KeySet {
    /// Signature keys (RSA and P-256) in document order.
    pub(crate) keys: Vec<SetKey>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<_> = self.keys.iter().map(|k| k.kid.as_deref()).collect();
        f.debug_struct("KeySet").field("kids", &kids).finish()
    }
}

impl KeySet {
    /// Whether any key has id `kid`.
    pub(crate) fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }
}

/// A rate gate: [`Throttle::try_pass`] succeeds at most once per window.
/// Lock-free; time is tokio's, so paused-time tests can move it.
#[derive(Debug)]
pub(crate) struct Throttle {
    window: Duration,
    epoch: Instant,
    /// Milliseconds since `epoch` of the last pass, plus one (0: never).
    last: AtomicU64,
}

impl Throttle {
    /// A gate opening once per `window`.
    pub(crate) fn new(window: Duration) -> Self {
        Throttle {
            window,
            epoch: Instant::now(),
            last: AtomicU64::new(0),
        }
    }

    /// Pass if the window since the last pass is over; only one of many
    /// concurrent callers passes.
    pub(crate) fn try_pass(&self) -> bool {
        let now = u64::try_from(self.epoch.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let window = u64::try_from(self.window.as_millis()).unwrap_or(u64::MAX);
        let last = self.last.load(Ordering::Acquire);
        if last != 0 && now.saturating_sub(last) < window {
            return false;
        }
        self.last
            .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

/// A cached key set and its fetcher.
pub(crate) struct Jwks {
    url: http::Uri,
    /// The URL as configured, for log lines.
    url_text: Box<str>,
    refresh: Duration,
    client: UpstreamClient,
    keys: ArcSwapOption<KeySet>,
    /// Serialises fetches; a request that finds one running waits for it.
    fetching: tokio::sync::Mutex<()>,
    /// Fetches finished (either way); lets waiters tell that one ran.
    attempts: AtomicU64,
    /// Whether the last fetch failed.
    failing: AtomicBool,
    /// Gate for fetches asked for by requests.
    forced: Throttle,
    /// Whether the background task runs.
    started: AtomicBool,
    /// Fetches sent (for tests and debugging).
    fetches: AtomicU64,
}

impl std::fmt::Debug for Jwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwks")
            .field("url", &self.url_text)
            .field("refresh", &self.refresh)
            .field("keys", &self.keys.load().as_ref().map(|s| s.keys.len()))
            .finish()
    }
}

impl Jwks {
    /// A cache for `url`, not fetched yet; call [`Jwks::start`].
    pub(crate) fn new(url: &str, refresh: Duration) -> Result<Self, String> {
        Self::with_throttle(url, refresh, FORCED_REFRESH_EVERY)
    }

    /// [`Jwks::new`] with another gap between request-driven fetches.
    pub(crate) fn with_throttle(
        url: &str,
        refresh: Duration,
        forced_every: Duration,
    ) -> Result<Self, String> {
        let parsed: http::Uri = url
            .parse()
            .map_err(|_| format!("jwks_url `{url}` is not a URL"))?;
        if !matches!(parsed.scheme_str(), Some("http" | "https")) || parsed.host().is_none() {
            return Err(format!(
                "jwks_url `{url}` must be an absolute http:// or https:// URL"
            ));
        }
        Ok(Jwks {
            url: parsed,
            url_text: url.into(),
            refresh: refresh.max(Duration::from_secs(1)),
            client: idp_client()?,
            keys: ArcSwapOption::empty(),
            fetching: tokio::sync::Mutex::new(()),
            attempts: AtomicU64::new(0),
            failing: AtomicBool::new(false),
            forced: Throttle::new(forced_every),
            started: AtomicBool::new(false),
            fetches: AtomicU64::new(0),
        })
    }

    /// The key set now, if one was ever fetched.
    pub(crate) fn current(&self) -> Option<Arc<KeySet>> {
        self.keys.load_full()
    }

    /// Fetches sent so far.
    #[cfg(test)]
    pub(crate) fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Start the background refresh task if it is not running and a tokio
    /// runtime is at hand (policies compiled outside one start it on their
    /// first request).
    pub(crate) fn start(self: &Arc<Self>) {
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            self.started.store(false, Ordering::Release);
            return;
        };
        rt.spawn(refresh_loop(Arc::downgrade(self)));
    }

    /// A request found no usable key (no set yet, or an unknown key id):
    /// wait for a running fetch, or run one if the gate allows, at most
    /// [`FETCH_TIMEOUT`]. Returns whether a fetch finished meanwhile (the
    /// caller looks at [`Jwks::current`] again).
    pub(crate) async fn refresh_for_request(self: &Arc<Self>) -> bool {
        self.start();
        let seen = self.attempts.load(Ordering::Acquire);
        let running = self.fetching.try_lock().is_err();
        if !running && !self.forced.try_pass() {
            return false;
        }
        let wait = tokio::time::timeout(FETCH_TIMEOUT, self.refresh(seen)).await;
        wait.is_ok() && self.attempts.load(Ordering::Acquire) != seen
    }

    /// Fetch unless another fetch finished since the caller saw `seen`
    /// attempts (it then waited for that one instead).
    async fn refresh(&self, seen: u64) {
        let _one = self.fetching.lock().await;
        if self.attempts.load(Ordering::Acquire) != seen {
            return;
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        match self.fetch().await {
            Ok(set) => {
                if self.failing.swap(false, Ordering::AcqRel) {
                    tracing::info!(url = %self.url_text, keys = set.keys.len(), "JWKS fetched again");
                }
                self.keys.store(Some(Arc::new(set)));
            }
            Err(e) => {
                self.failing.store(true, Ordering::Release);
                let kept = self.keys.load().as_ref().map_or(0, |s| s.keys.len());
                tracing::warn!(url = %self.url_text, error = %e, kept_keys = kept, "JWKS fetch failed");
            }
        }
        self.attempts.fetch_add(1, Ordering::AcqRel);
    }

    /// One GET of the document, parsed.
    async fn fetch(&self) -> Result<KeySet, String> {
        let req = http::Request::get(self.url.clone())
            .header(ACCEPT, "application/json")
            .body(sy_http::empty())
            .map_err(|e| format!("bad request: {e}"))?;
        let body = exchange(&self.client, req, FETCH_TIMEOUT).await?;
        parse_jwks(&body)
    }
}

/// Refresh every interval while the cache is in use; retry failures sooner,
/// with doubling back-off.
async fn refresh_loop(cache: Weak<Jwks>) {
    let mut retry = FIRST_RETRY;
    loop {
        let Some(jwks) = cache.upgrade() else {
            return;
        };
        jwks.refresh(jwks.attempts.load(Ordering::Acquire)).await;
        let wait = if jwks.failing.load(Ordering::Acquire) {
            let w = retry;
            retry = (retry * 2).min(jwks.refresh);
            w
        } else {
            retry = FIRST_RETRY;
            jwks.refresh
        };
        drop(jwks);
        tokio::time::sleep(wait).await;
    }
}

/// The signature keys of a JWKS document. Keys the gateway cannot or must
/// not use are skipped: encryption keys, symmetric (`oct`) keys (a secret
/// published at a URL is no secret), curves other than P-256, unknown key
/// types. A document with no usable key is an error, so it never replaces
/// a good set.
pub(crate) fn parse_jwks(body: &[u8]) -> Result<KeySet, String> {
    let doc: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| "the answer is not JSON".to_owned())?;
    let Some(entries) = doc.get("keys").and_then(|k| k.as_array()) else {
        return Err("the answer has no `keys` array".into());
    };
    let mut keys = Vec::new();
    for entry in entries {
        let Ok(jwk) = serde_json::from_value::<Jwk>(entry.clone()) else {
            continue;
        };
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            continue;
        }
        let usable = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => true,
            AlgorithmParameters::EllipticCurve(ec) => ec.curve == EllipticCurve::P256,
            _ => false,
        };
        if !usable {
            continue;
        }
        let Ok(key) = DecodingKey::from_jwk(&jwk) else {
            continue;
        };
        let alg = jwk
            .common
            .key_algorithm
            .and_then(|a| Algorithm::try_from(a).ok());
        keys.push(SetKey {
            kid: jwk.common.key_id.clone(),
            alg,
            key,
        });
    }
    if keys.is_empty() {
        return Err(format!(
            "none of the {} keys is a usable RSA or P-256 signature key",
            entries.len()
        ));
    }
    Ok(KeySet { keys })
}
