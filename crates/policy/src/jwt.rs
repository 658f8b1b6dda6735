//! JWT authentication (RFC 7519): verify a signed bearer token, then make
//! the request as the consumer its `consumer_claim` names.
//!
//! The token comes from `Authorization: Bearer`, or a configured header or
//! query parameter; every one of those places is scrubbed before the
//! request goes upstream. Accepted signatures: `HS256` with the configured
//! secret, `RS256` and `ES256` with configured PEM keys or the provider's
//! JWKS ([`jwks`]). The header's `alg` must be one the route accepts (never
//! `none`), and the key family must match it, so an `HS256` token "signed"
//! with a public key is never checked against that key. Then `exp` and `nbf`
//! (with leeway), `iss` and `aud` are checked, and the consumer's route
//! grants, as `key_auth` does.
//!
//! A request whose key is at hand is decided synchronously; only one that
//! needs the JWKS fetched (first use, unknown `kid`) waits, at most five
//! seconds. Refusals say what is wrong without echoing the token.

mod fetch;
mod jwks;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::header::HeaderName;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
use serde_json::{Map, Value};
use sy_config::{JwtAlgorithmSpec, JwtSpec};

pub(crate) use fetch::{exchange, idp_client};
use jwks::{Jwks, KeySet};

use crate::consumer::ConsumerDirectory;
use crate::context::RequestContext;
use crate::credentials::{TokenSources, query_param, require};
use crate::error::PolicyError;
use crate::introspect::Endpoint;
use crate::policy::{Flow, Order, Policy, Step};

/// The message for a request without a token.
pub const MISSING_TOKEN: &str = "missing token: send `Authorization: Bearer <token>`";

/// The longest token looked at; real ones are a few KiB.
const MAX_TOKEN: usize = 16 * 1024;

/// Caches that outlive one compiled configuration: JWKS key sets and
/// introspection answers, shared by every route (and every reload) that
/// configures the same provider, so a reload neither refetches keys nor
/// forgets answers. Holds weak references: a cache lives as long as a
/// policy uses it. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct TokenCaches {
    inner: Arc<Mutex<CacheIndex>>,
}

#[derive(Debug, Default)]
struct CacheIndex {
    jwks: HashMap<(String, Duration), Weak<Jwks>>,
    introspection: HashMap<String, Weak<Endpoint>>,
}

impl TokenCaches {
    /// The JWKS cache for `url` refreshed every `refresh`, made if needed.
    fn jwks(&self, url: &str, refresh: Duration) -> Result<Arc<Jwks>, String> {
        let mut index = self.inner.lock().map_err(|_| "token cache poisoned")?;
        index.jwks.retain(|_, w| w.strong_count() > 0);
        let key = (url.to_owned(), refresh);
        if let Some(j) = index.jwks.get(&key).and_then(Weak::upgrade) {
            return Ok(j);
        }
        let j = Arc::new(Jwks::new(url, refresh)?);
        index.jwks.insert(key, Arc::downgrade(&j));
        Ok(j)
    }

    /// Use `jwks` for `url` and `refresh` (tests: a cache with another throttle).
    #[cfg(test)]
    fn insert_jwks(&self, url: &str, refresh: Duration, jwks: &Arc<Jwks>) {
        if let Ok(mut index) = self.inner.lock() {
            index
                .jwks
                .insert((url.to_owned(), refresh), Arc::downgrade(jwks));
        }
    }

    /// The introspection endpoint (and its answer cache) with identity
    /// `key`, made by `make` if needed.
    pub(crate) fn introspection(
        &self,
        key: String,
        make: impl FnOnce() -> Result<Endpoint, String>,
    ) -> Result<Arc<Endpoint>, String> {
        let mut index = self.inner.lock().map_err(|_| "token cache poisoned")?;
        index.introspection.retain(|_, w| w.strong_count() > 0);
        if let Some(e) = index.introspection.get(&key).and_then(Weak::upgrade) {
            return Ok(e);
        }
        let e = Arc::new(make()?);
        index.introspection.insert(key, Arc::downgrade(&e));
        Ok(e)
    }
}

/// Requires a valid signed JWT naming a known consumer.
pub struct Jwt {
    directory: Arc<dyn ConsumerDirectory>,
    sources: TokenSources,
    /// Accepted algorithms with their prepared claim checks.
    accepted: Vec<(Algorithm, Validation)>,
    secret: Option<DecodingKey>,
    /// Configured PEM keys (RSA or EC).
    public_keys: Vec<DecodingKey>,
    jwks: Option<Arc<Jwks>>,
    /// `consumer_claim` as written, for messages.
    claim: Box<str>,
    /// `consumer_claim` split on dots.
    claim_path: Vec<Box<str>>,
}

impl std::fmt::Debug for Jwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwt")
            .field(
                "algorithms",
                &self.accepted.iter().map(|(a, _)| a).collect::<Vec<_>>(),
            )
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("public_keys", &self.public_keys.len())
            .field("jwks", &self.jwks)
            .field("consumer_claim", &self.claim)
            .finish_non_exhaustive()
    }
}

/// What the token's header says, read before any key is chosen.
struct Head {
    alg: Algorithm,
    kid: Option<String>,
}

/// The outcome of checking a token against the keys at hand.
enum Verdict {
    Valid(Map<String, Value>),
    Refused(PolicyError),
    /// No key set fetched yet.
    NoKeySet,
    /// The token names a key id the set does not have.
    UnknownKid,
}

fn unauthorized(why: &str) -> PolicyError {
    PolicyError::Unauthorized(format!("invalid token: {why}"))
}

impl Jwt {
    /// Authentication against `directory` as `spec` configures it; JWKS
    /// caches come from `caches`. Returns every problem with the keys.
    pub fn new(
        spec: &JwtSpec,
        directory: Arc<dyn ConsumerDirectory>,
        caches: &TokenCaches,
    ) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        let secret = spec
            .secret
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| DecodingKey::from_secret(s.as_bytes()));
        let mut public_keys = Vec::new();
        for (i, pem) in spec.public_keys.iter().enumerate() {
            let pem = pem.as_bytes();
            match DecodingKey::from_rsa_pem(pem).or_else(|_| DecodingKey::from_ec_pem(pem)) {
                Ok(k) => public_keys.push(k),
                Err(_) => errors.push(format!(
                    "jwt: public_keys[{i}] is not an RSA or EC public key in PEM"
                )),
            }
        }
        let jwks = match &spec.jwks_url {
            Some(url) => match caches.jwks(url, spec.jwks_refresh.get()) {
                Ok(j) => Some(j),
                Err(e) => {
                    errors.push(format!("jwt: {e}"));
                    None
                }
            },
            None => None,
        };
        let has_public = !public_keys.is_empty() || jwks.is_some();
        let usable = |a: JwtAlgorithmSpec| match a {
            JwtAlgorithmSpec::Hs256 => secret.is_some(),
            JwtAlgorithmSpec::Rs256 | JwtAlgorithmSpec::Es256 => has_public,
        };
        let wanted: Vec<JwtAlgorithmSpec> = if spec.algorithms.is_empty() {
            [
                JwtAlgorithmSpec::Hs256,
                JwtAlgorithmSpec::Rs256,
                JwtAlgorithmSpec::Es256,
            ]
            .into_iter()
            .filter(|a| usable(*a))
            .collect()
        } else {
            for a in &spec.algorithms {
                if !usable(*a) {
                    errors.push(format!(
                        "jwt: {} is accepted but no key can verify it",
                        a.as_str()
                    ));
                }
            }
            spec.algorithms.clone()
        };
        if wanted.is_empty() && errors.is_empty() {
            errors.push("jwt: no key source (`secret`, `public_keys` or `jwks_url`)".into());
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let accepted = wanted
            .iter()
            .map(|a| {
                let alg = match a {
                    JwtAlgorithmSpec::Hs256 => Algorithm::HS256,
                    JwtAlgorithmSpec::Rs256 => Algorithm::RS256,
                    JwtAlgorithmSpec::Es256 => Algorithm::ES256,
                };
                (alg, validation(spec, alg))
            })
            .collect();
        if let Some(j) = &jwks {
            j.start();
        }
        Ok(Jwt {
            directory,
            sources: TokenSources {
                header: spec
                    .header
                    .as_deref()
                    .and_then(|h| HeaderName::try_from(h).ok()),
                query_param: query_param(spec.query_param.as_deref()),
            },
            accepted,
            secret,
            public_keys,
            jwks,
            claim: spec.consumer_claim.as_str().into(),
            claim_path: spec.consumer_claim.split('.').map(Box::from).collect(),
        })
    }

    /// Read the header: the shape, `alg` (accepted here, never `none`),
    /// `kid`, and no `crit` extensions we would have to understand.
    fn head(&self, token: &str) -> Result<Head, PolicyError> {
        let malformed = || unauthorized("malformed (expected three base64url parts)");
        if token.len() > MAX_TOKEN {
            return Err(unauthorized("longer than 16 KiB"));
        }
        let mut parts = token.split('.');
        let (Some(header), Some(_), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(header.trim_end_matches('='))
            .map_err(|_| malformed())?;
        let Ok(Value::Object(h)) = serde_json::from_slice::<Value>(&bytes) else {
            return Err(malformed());
        };
        let Some(alg) = h.get("alg").and_then(Value::as_str) else {
            return Err(unauthorized("the header has no `alg`"));
        };
        if alg.eq_ignore_ascii_case("none") {
            return Err(unauthorized(
                "unsigned tokens (`alg: none`) are not accepted",
            ));
        }
        let accepted = self.accepted.iter().map(|(a, _)| *a);
        let Some(alg) = accepted.clone().find(|a| alg_name(*a) == alg) else {
            let shown = if alg.len() <= 10 && alg.chars().all(|c| c.is_ascii_alphanumeric()) {
                format!("`{alg}` ")
            } else {
                String::new()
            };
            let list: Vec<&str> = accepted.map(alg_name).collect();
            return Err(unauthorized(&format!(
                "algorithm {shown}is not accepted (accepted: {})",
                list.join(", ")
            )));
        };
        if h.contains_key("crit") {
            return Err(unauthorized("critical header extensions are not supported"));
        }
        let kid = h.get("kid").and_then(Value::as_str).map(str::to_owned);
        Ok(Head { alg, kid })
    }

    /// Check the token with the keys at hand; `set` is the JWKS state
    /// (`None`: no JWKS configured; `Some(None)`: not fetched yet).
    fn verify(&self, token: &str, head: &Head, set: Option<Option<&KeySet>>) -> Verdict {
        let Some((_, validation)) = self.accepted.iter().find(|(a, _)| *a == head.alg) else {
            return Verdict::Refused(unauthorized("algorithm is not accepted"));
        };
        let family = head.alg.family();
        if family == AlgorithmFamily::Hmac {
            return match &self.secret {
                Some(k) => match try_keys(token, validation, [k]) {
                    Some(v) => v,
                    None => Verdict::Refused(unauthorized("bad signature")),
                },
                None => Verdict::Refused(unauthorized("algorithm is not accepted")),
            };
        }
        let statics = self.public_keys.iter().filter(|k| k.family() == family);
        if let Some(v) = try_keys(token, validation, statics) {
            return v;
        }
        match set {
            None => Verdict::Refused(unauthorized("bad signature")),
            Some(None) => Verdict::NoKeySet,
            Some(Some(set)) => {
                if let Some(kid) = &head.kid
                    && !set.has_kid(kid)
                {
                    return Verdict::UnknownKid;
                }
                let fits = set.keys.iter().filter(|k| {
                    head.kid
                        .as_deref()
                        .is_none_or(|kid| k.kid.as_deref() == Some(kid))
                        && k.key.family() == family
                        && k.alg.is_none_or(|a| a == head.alg)
                });
                match try_keys(token, validation, fits.map(|k| &k.key)) {
                    Some(v) => v,
                    None if head.kid.is_some() => Verdict::Refused(unauthorized(
                        "bad signature (or the key it names is not for its algorithm)",
                    )),
                    None => Verdict::Refused(unauthorized("bad signature")),
                }
            }
        }
    }

    /// Map the verified claims to a consumer and check its grants.
    fn admit(
        &self,
        claims: &Map<String, Value>,
        ctx: &mut RequestContext,
    ) -> Result<(), PolicyError> {
        admit_consumer(
            &*self.directory,
            claim_at(claims, &self.claim_path),
            &self.claim,
            ctx,
        )
    }
}

/// Verify with each key in turn; `None` if no key produced a good
/// signature. Any other failure (expired, wrong issuer, ...) means the
/// signature was good, so it is final.
fn try_keys<'k>(
    token: &str,
    validation: &Validation,
    keys: impl IntoIterator<Item = &'k DecodingKey>,
) -> Option<Verdict> {
    for key in keys {
        match jsonwebtoken::decode::<Map<String, Value>>(token, key, validation) {
            Ok(data) => return Some(Verdict::Valid(data.claims)),
            Err(e) => match e.kind() {
                ErrorKind::InvalidSignature
                | ErrorKind::InvalidEcdsaKey
                | ErrorKind::InvalidRsaKey(_)
                | ErrorKind::InvalidAlgorithm
                | ErrorKind::InvalidKeyFormat => {}
                kind => return Some(Verdict::Refused(refusal(kind))),
            },
        }
    }
    None
}

/// The 401 for a token that failed after its signature checked out (or
/// could not be parsed at all).
fn refusal(kind: &ErrorKind) -> PolicyError {
    unauthorized(match kind {
        ErrorKind::ExpiredSignature => "expired",
        ErrorKind::ImmatureSignature => "not yet valid (`nbf` is in the future)",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::InvalidAudience => "wrong audience",
        ErrorKind::MissingRequiredClaim(c) if c == "exp" => "no `exp` claim (it must expire)",
        ErrorKind::MissingRequiredClaim(c) if c == "iss" => "no `iss` claim (wrong issuer)",
        ErrorKind::MissingRequiredClaim(c) if c == "aud" => "no `aud` claim (wrong audience)",
        ErrorKind::MissingRequiredClaim(_) => "a required claim is missing",
        ErrorKind::InvalidClaimFormat(c) if c == "exp" => "`exp` is not a number",
        ErrorKind::InvalidClaimFormat(c) if c == "nbf" => "`nbf` is not a number",
        ErrorKind::InvalidClaimFormat(_) => "a claim has the wrong type",
        _ => "malformed",
    })
}

/// `exp` (unless not required), `nbf`, `iss` and `aud` checks for tokens
/// signed with `alg`. A configured issuer or audience makes the claim
/// required: a token without it is refused, not waved through.
fn validation(spec: &JwtSpec, alg: Algorithm) -> Validation {
    let mut v = Validation::new(alg);
    v.leeway = spec.leeway.get().as_secs();
    v.validate_exp = true;
    v.validate_nbf = true;
    let mut required = Vec::new();
    if spec.require_exp {
        required.push("exp");
    }
    if let Some(iss) = &spec.issuer {
        v.set_issuer(&[iss]);
        required.push("iss");
    }
    if spec.audiences.is_empty() {
        v.validate_aud = false;
    } else {
        v.set_audience(&spec.audiences);
        required.push("aud");
    }
    v.set_required_spec_claims(&required);
    v
}

fn alg_name(a: Algorithm) -> &'static str {
    match a {
        Algorithm::HS256 => "HS256",
        Algorithm::RS256 => "RS256",
        Algorithm::ES256 => "ES256",
        _ => "other",
    }
}

/// The value at a dotted claim path, as a consumer name: a non-empty
/// string, or an integer written in decimal.
pub(crate) fn claim_at(claims: &Map<String, Value>, path: &[Box<str>]) -> Option<String> {
    let (first, rest) = path.split_first()?;
    let mut v = claims.get(&**first)?;
    for name in rest {
        v = v.as_object()?.get(&**name)?;
    }
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        _ => None,
    }
}

/// Set `ctx.consumer` to the consumer `name` (from claim `claim`), after the
/// same route gate `key_auth` applies.
pub(crate) fn admit_consumer(
    directory: &dyn ConsumerDirectory,
    name: Option<String>,
    claim: &str,
    ctx: &mut RequestContext,
) -> Result<(), PolicyError> {
    let Some(name) = name else {
        return Err(unauthorized(&format!(
            "claim `{claim}` is missing or not a string"
        )));
    };
    let Some(consumer) = directory.lookup_consumer(&name) else {
        return Err(unauthorized(&format!(
            "claim `{claim}` names no known consumer"
        )));
    };
    if let Err(denied) = consumer.grants.check_route(&consumer.name, &ctx.route) {
        return Err(PolicyError::Forbidden(denied.0));
    }
    ctx.consumer = Some(consumer);
    Ok(())
}

impl Policy for Jwt {
    fn name(&self) -> &'static str {
        "jwt"
    }

    fn order(&self) -> Order {
        Order::Auth
    }

    /// No response phase.
    fn reads_response(&self) -> bool {
        false
    }

    fn on_request<'a>(
        &'a self,
        req: &'a mut http::request::Parts,
        ctx: &'a mut RequestContext,
    ) -> Step<'a> {
        let token = match require(self.sources.take(req), MISSING_TOKEN) {
            Ok(t) => t,
            Err(e) => return Step::Ready(Err(e)),
        };
        let head = match self.head(&token) {
            Ok(h) => h,
            Err(e) => return Step::Ready(Err(e)),
        };
        let set = self.jwks.as_ref().map(|j| j.current());
        let jwks = match self.verify(&token, &head, set.as_ref().map(Option::as_deref)) {
            Verdict::Valid(claims) => {
                return Step::Ready(self.admit(&claims, ctx).map(|()| Flow::Continue));
            }
            Verdict::Refused(e) => return Step::Ready(Err(e)),
            Verdict::NoKeySet | Verdict::UnknownKid => match &self.jwks {
                Some(j) => Arc::clone(j),
                None => return Step::Ready(Err(unauthorized("bad signature"))),
            },
        };
        Step::Pending(Box::pin(async move {
            jwks.refresh_for_request().await;
            let set = jwks.current();
            match self.verify(&token, &head, Some(set.as_deref())) {
                Verdict::Valid(claims) => self.admit(&claims, ctx).map(|()| Flow::Continue),
                Verdict::Refused(e) => Err(e),
                Verdict::NoKeySet => Err(PolicyError::IdentityProviderUnavailable(
                    "the token signing keys (JWKS) could not be fetched".into(),
                )),
                Verdict::UnknownKid => Err(unauthorized("unknown key id")),
            }
        }))
    }
}

#[cfg(test)]
mod jwks_tests;
#[cfg(test)]
pub(crate) mod test_server;
#[cfg(test)]
pub(crate) mod tests;
