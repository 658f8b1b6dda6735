//! The registry: turns a route's [`PoliciesSpec`] into a [`PolicyChain`],
//! and the config file's consumers into a [`StaticDirectory`]. A new policy
//! is one file plus one block in [`build_chain`].

use std::sync::Arc;

use sha2::{Digest, Sha256};
use sy_config::{ConsumerSpec, KeySpec, PoliciesSpec};
use sy_state::RateLimiter;

use crate::body_limit::BodyLimit;
use crate::consumer::{
    Consumer, ConsumerDirectory, Grants, LimitScope, ScopedLimits, StaticDirectory,
};
use crate::cors::Cors;
use crate::headers::{RequestHeaders, ResponseHeaders};
use crate::introspect::Introspection;
use crate::ip::IpRules;
use crate::jwt::{Jwt, TokenCaches};
use crate::key_auth::KeyAuth;
use crate::policy::{Policy, PolicyChain};
use crate::rate_limit::RateLimit;

/// Shared state the policies of every route use. Built once by the binary
/// (in-memory or cluster back ends) and passed to every compile.
#[derive(Debug, Clone)]
pub struct PolicyDeps {
    /// Where `key_auth` looks up keys.
    pub consumers: Arc<dyn ConsumerDirectory>,
    /// Where `rate_limits` keep their buckets.
    pub limiter: Arc<dyn RateLimiter>,
    /// JWKS key sets and introspection answers, kept across reloads.
    pub token_caches: TokenCaches,
}

/// Compile `spec` for `route` into a chain in [`crate::Order`]. Returns every
/// problem at once, each as `route `r`: <policy>: <problem>`; config
/// validation catches most of them earlier, these are the last line.
pub fn build_chain(
    spec: &PoliciesSpec,
    route: &str,
    deps: &PolicyDeps,
) -> Result<PolicyChain, Vec<String>> {
    let mut policies: Vec<Arc<dyn Policy>> = Vec::new();
    let mut errors = Vec::new();
    let mut push = |r: Result<Arc<dyn Policy>, Vec<String>>| match r {
        Ok(p) => policies.push(p),
        Err(e) => errors.extend(e.into_iter().map(|e| format!("route `{route}`: {e}"))),
    };

    if let Some(ip) = &spec.ip {
        push(Ok(Arc::new(IpRules::new(ip))));
    }
    if let Some(cors) = &spec.cors {
        push(Cors::new(cors).map(|p| Arc::new(p) as Arc<dyn Policy>));
    }
    if let Some(auth) = &spec.key_auth {
        push(Ok(Arc::new(KeyAuth::new(
            auth,
            Arc::clone(&deps.consumers),
        ))));
    }
    if let Some(jwt) = &spec.jwt {
        let directory = Arc::clone(&deps.consumers);
        push(Jwt::new(jwt, directory, &deps.token_caches).map(|p| Arc::new(p) as Arc<dyn Policy>));
    }
    if let Some(oauth) = &spec.oauth2_introspection {
        let directory = Arc::clone(&deps.consumers);
        push(
            Introspection::new(oauth, directory, &deps.token_caches)
                .map(|p| Arc::new(p) as Arc<dyn Policy>),
        );
    }
    if !spec.rate_limits.is_empty() {
        let limiter = Arc::clone(&deps.limiter);
        push(
            RateLimit::new(&spec.rate_limits, route, limiter)
                .map(|p| Arc::new(p) as Arc<dyn Policy>),
        );
    }
    if let Some(limit) = spec.body_limit {
        push(Ok(Arc::new(BodyLimit::new(limit.0))));
    }
    if let Some(h) = &spec.request_headers {
        push(RequestHeaders::new(h).map(|p| Arc::new(p) as Arc<dyn Policy>));
    }
    if let Some(h) = &spec.response_headers {
        push(ResponseHeaders::new(h).map(|p| Arc::new(p) as Arc<dyn Policy>));
    }

    if errors.is_empty() {
        Ok(PolicyChain::new(policies))
    } else {
        Err(errors)
    }
}

/// The consumers of the config file as a key directory. Clear keys are
/// hashed here and then dropped; hex digests are decoded (either case). A
/// malformed digest is skipped, which can only refuse that key: config
/// validation reports it. Consumer ids are the consumer names.
pub fn directory_from_config(consumers: &[ConsumerSpec]) -> StaticDirectory {
    let entries = consumers.iter().flat_map(|c| {
        let consumer = config_consumer(c);
        c.keys.iter().filter_map(move |k| {
            let hash = match k {
                KeySpec::Key(k) if !k.is_empty() => Sha256::digest(k.as_bytes()).into(),
                KeySpec::Key(_) => return None,
                KeySpec::Sha256(hex) => decode_sha256_hex(hex)?,
            };
            Some((hash, consumer.clone()))
        })
    });
    StaticDirectory::new(entries).with_consumers(consumers.iter().map(config_consumer))
}

/// A config-file consumer: no scopes, its `limits` counted per consumer.
fn config_consumer(c: &ConsumerSpec) -> Consumer {
    let mut consumer = Consumer::unrestricted(&c.name, &c.name, c.tenant.as_deref());
    if !c.limits.is_empty() {
        consumer.grants = Arc::new(Grants {
            limits: vec![ScopedLimits {
                scope: LimitScope::Consumer,
                id: Arc::from(c.name.as_str()),
                limits: c.limits.clone(),
            }],
            ..Grants::default()
        });
    }
    consumer
}

/// 64 hex digits to 32 bytes.
fn decode_sha256_hex(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim().as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        *byte = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use sy_config::{
        ByteSize, CorsSpec, DurationSpec, HeaderTransformSpec, IpRulesSpec, KeyAuthSpec,
        RateLimitKeySpec, RateLimitSpec,
    };
    use sy_state::LocalLimiter;

    use super::*;
    use crate::error::PolicyError;
    use crate::policy::{Flow, Order};
    use crate::test_util::{ctx_from, parts};

    fn deps() -> PolicyDeps {
        PolicyDeps {
            consumers: Arc::new(directory_from_config(&[ConsumerSpec {
                name: "web".into(),
                tenant: None,
                subscriptions: vec![],
                limits: Default::default(),
                keys: vec![KeySpec::Key("sk-1".into())],
            }])),
            limiter: Arc::new(LocalLimiter::new()),
            token_caches: TokenCaches::default(),
        }
    }

    fn full_spec() -> PoliciesSpec {
        PoliciesSpec {
            ip: Some(IpRulesSpec {
                allow: vec!["10.0.0.0/8".parse().unwrap()],
                deny: vec![],
            }),
            cors: Some(CorsSpec {
                allow_origins: vec!["https://app.example".into()],
                allow_methods: vec!["GET".into()],
                allow_headers: vec![],
                expose_headers: vec![],
                allow_credentials: false,
                max_age: None,
            }),
            key_auth: Some(KeyAuthSpec::default()),
            jwt: None,
            oauth2_introspection: None,
            rate_limits: vec![RateLimitSpec {
                requests: 1,
                per: DurationSpec::from_secs(60),
                burst: None,
                key: RateLimitKeySpec::Consumer,
            }],
            body_limit: Some(ByteSize(10)),
            request_headers: Some(HeaderTransformSpec::default()),
            response_headers: Some(HeaderTransformSpec::default()),
        }
    }

    #[test]
    fn chain_is_built_in_order() {
        let chain = build_chain(&full_spec(), "api", &deps()).unwrap();
        let names: Vec<_> = chain.policies().iter().map(|p| p.name()).collect();
        assert_eq!(
            names,
            [
                "ip",
                "cors",
                "key_auth",
                "rate_limit",
                "body_limit",
                "request_headers",
                "response_headers"
            ]
        );
        let orders: Vec<Order> = chain.policies().iter().map(|p| p.order()).collect();
        assert!(orders.is_sorted());
        assert!(
            build_chain(&PoliciesSpec::default(), "api", &deps())
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn chain_runs_end_to_end() {
        let chain = build_chain(&full_spec(), "api", &deps()).unwrap();
        let mut req = parts(
            "POST",
            "/",
            &[("x-api-key", "sk-1"), ("content-length", "5")],
        );
        let mut ctx = ctx_from("10.1.1.1");
        assert!(matches!(
            chain.on_request(&mut req, &mut ctx).await.unwrap(),
            Flow::Continue
        ));
        assert_eq!(ctx.consumer.as_ref().unwrap().id.as_ref(), "web");
        assert_eq!(ctx.body_limit, 10);
        assert_eq!(ctx.response_headers["ratelimit-remaining"], "0");
        // Same consumer again: its one request per minute is spent.
        let mut req = parts("POST", "/", &[("x-api-key", "sk-1")]);
        let err = chain
            .on_request(&mut req, &mut ctx_from("10.1.1.2"))
            .await
            .unwrap_err();
        assert!(matches!(err, PolicyError::RateLimited { .. }));
        // IP rules run before authentication.
        let mut req = parts("GET", "/", &[]);
        let err = chain
            .on_request(&mut req, &mut ctx_from("192.0.2.1"))
            .await
            .unwrap_err();
        assert_eq!(err.status(), http::StatusCode::FORBIDDEN);
        // A preflight is answered before authentication asks for a key.
        let mut req = parts(
            "OPTIONS",
            "/",
            &[
                ("origin", "https://app.example"),
                ("access-control-request-method", "GET"),
            ],
        );
        let flow = chain
            .on_request(&mut req, &mut ctx_from("10.1.1.3"))
            .await
            .unwrap();
        assert!(matches!(flow, Flow::Respond(_)));
    }

    #[test]
    fn errors_name_route_and_policy() {
        let mut spec = full_spec();
        spec.cors.as_mut().unwrap().allow_origins = vec!["nope".into()];
        spec.rate_limits[0].requests = 0;
        spec.response_headers.as_mut().unwrap().remove = vec!["bad name".into()];
        let errors = build_chain(&spec, "api", &deps()).unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].starts_with("route `api`: cors: `nope` is not an origin"));
        assert_eq!(
            errors[1],
            "route `api`: rate_limits[0]: requests must be at least 1"
        );
        assert_eq!(
            errors[2],
            "route `api`: response_headers: `bad name` is not a header name"
        );
    }

    #[test]
    fn directory_hashes_keys_and_decodes_digests() {
        let digest: [u8; 32] = Sha256::digest(b"sk-2").into();
        let hex: String = digest.iter().map(|b| format!("{b:02X}")).collect();
        let dir = directory_from_config(&[ConsumerSpec {
            name: "batch".into(),
            tenant: None,
            subscriptions: vec![],
            limits: Default::default(),
            keys: vec![
                KeySpec::Sha256(hex),
                KeySpec::Sha256("zz".into()),
                KeySpec::Key("sk-3".into()),
            ],
        }]);
        assert_eq!(dir.lookup_key(&digest).unwrap().name.as_ref(), "batch");
        assert!(dir.lookup_key(&Sha256::digest(b"sk-3").into()).is_some());
        assert!(dir.lookup_key(&Sha256::digest(b"sk-4").into()).is_none());
        assert_eq!(decode_sha256_hex("ab"), None);
        assert_eq!(decode_sha256_hex(&"g".repeat(64)), None);
    }
}
