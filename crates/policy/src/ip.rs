//! IP allow and deny lists: the cheapest refusal, so it runs first.

use std::net::IpAddr;

use ipnet::IpNet;
use sy_config::IpRulesSpec;

use crate::context::RequestContext;
use crate::error::PolicyError;
use crate::policy::{Order, Policy, Step};

/// Refuses clients by network. A deny match always wins; a non-empty allow
/// list refuses everything outside it. Lists are scanned linearly: route
/// rules are short, and a scan of a few dozen prefixes costs nanoseconds.
#[derive(Debug, Clone)]
pub struct IpRules {
    allow: Vec<IpNet>,
    deny: Vec<IpNet>,
}

impl IpRules {
    /// Rules from the route's `ip` section.
    pub fn new(spec: &IpRulesSpec) -> Self {
        IpRules {
            allow: spec.allow.iter().map(|c| c.0).collect(),
            deny: spec.deny.iter().map(|c| c.0).collect(),
        }
    }

    /// Whether `ip` may call. An IPv4 client seen on a dual-stack socket as
    /// `::ffff:a.b.c.d` is judged as the IPv4 address, so `10.0.0.0/8` rules
    /// apply to it.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        if self.deny.iter().any(|n| n.contains(&ip)) {
            return false;
        }
        self.allow.is_empty() || self.allow.iter().any(|n| n.contains(&ip))
    }
}

impl Policy for IpRules {
    fn name(&self) -> &'static str {
        "ip"
    }

    fn order(&self) -> Order {
        Order::IpRules
    }

    /// No response phase.
    fn reads_response(&self) -> bool {
        false
    }

    fn on_request<'a>(
        &'a self,
        _req: &'a mut http::request::Parts,
        ctx: &'a mut RequestContext,
    ) -> Step<'a> {
        if self.permits(ctx.client_ip) {
            return Step::next();
        }
        // Name the client's own address (useful behind NAT), never the rules.
        let ip = ctx.client_ip.to_canonical();
        Step::Ready(Err(PolicyError::Forbidden(format!(
            "client IP {ip} is not allowed"
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{ctx_from, parts};

    fn rules(allow: &[&str], deny: &[&str]) -> IpRules {
        IpRules::new(&IpRulesSpec {
            allow: allow.iter().map(|s| s.parse().unwrap()).collect(),
            deny: deny.iter().map(|s| s.parse().unwrap()).collect(),
        })
    }

    async fn run(r: &IpRules, ip: &str) -> Result<(), PolicyError> {
        let mut req = parts("GET", "/", &[]);
        let mut ctx = ctx_from(ip);
        r.on_request(&mut req, &mut ctx).await.map(|_| ())
    }

    #[tokio::test]
    async fn deny_wins_over_allow() {
        let r = rules(&["10.0.0.0/8"], &["10.1.0.0/16"]);
        assert!(run(&r, "10.2.3.4").await.is_ok());
        let err = run(&r, "10.1.2.3").await.unwrap_err();
        assert_eq!(err.status(), http::StatusCode::FORBIDDEN);
        assert_eq!(err.to_string(), "client IP 10.1.2.3 is not allowed");
    }

    #[tokio::test]
    async fn allow_list_refuses_everything_else() {
        let r = rules(&["192.168.1.7"], &[]);
        assert!(run(&r, "192.168.1.7").await.is_ok());
        let err = run(&r, "192.168.1.8").await.unwrap_err();
        assert!(
            !err.to_string().contains("192.168.1.7"),
            "the rule list must not leak"
        );
    }

    #[tokio::test]
    async fn empty_rules_and_deny_only() {
        assert!(run(&rules(&[], &[]), "1.2.3.4").await.is_ok());
        let r = rules(&[], &["1.2.3.0/24"]);
        assert!(run(&r, "1.2.3.4").await.is_err());
        assert!(run(&r, "1.2.4.4").await.is_ok());
    }

    #[tokio::test]
    async fn ipv6_networks() {
        let r = rules(&["2001:db8::/32"], &["2001:db8:bad::/48"]);
        assert!(run(&r, "2001:db8::1").await.is_ok());
        assert!(run(&r, "2001:db8:bad::1").await.is_err());
        assert!(run(&r, "2001:db9::1").await.is_err());
        assert!(
            run(&r, "10.0.0.1").await.is_err(),
            "an IPv4 client is outside an IPv6-only allow list"
        );
    }

    #[tokio::test]
    async fn ipv4_mapped_addresses_match_ipv4_rules() {
        let r = rules(&[], &["10.0.0.0/8"]);
        let err = run(&r, "::ffff:10.0.0.1").await.unwrap_err();
        assert_eq!(err.to_string(), "client IP 10.0.0.1 is not allowed");
        assert!(
            run(&rules(&["10.0.0.0/8"], &[]), "::ffff:10.9.9.9")
                .await
                .is_ok()
        );
    }
}
