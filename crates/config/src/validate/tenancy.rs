//! Tenants, products, consumers' tenants and subscriptions, and every
//! `limits` block.

use std::collections::HashSet;

use super::Report;
use crate::spec::{ConfigSpec, LimitsSpec, VisibilitySpec};

/// Longest tenant name; names become URL segments and metric labels.
const MAX_TENANT_NAME: usize = 63;

pub(super) fn check(spec: &ConfigSpec, r: &mut Report) {
    r.unique_names(
        "tenants",
        "tenant",
        spec.tenants.iter().map(|t| t.name.as_str()),
    );
    for (i, t) in spec.tenants.iter().enumerate() {
        if !t.name.is_empty() && !is_slug(&t.name) {
            r.push(
                format!("tenants[{i}].name"),
                format!(
                    "`{}` is not a valid tenant name: use lower-case letters, digits and `-`, \
                     starting with a letter or digit, at most {MAX_TENANT_NAME} characters",
                    t.name
                ),
            );
        }
        limits(r, &format!("tenants[{i}].limits"), &t.limits);
    }
    let tenants: HashSet<&str> = spec.tenants.iter().map(|t| t.name.as_str()).collect();
    let products: HashSet<&str> = spec.products.iter().map(|p| p.name.as_str()).collect();
    let routes: HashSet<&str> = spec.routes.iter().map(|r| r.name.as_str()).collect();
    let models: HashSet<&str> = spec.models.iter().map(|m| m.name.as_str()).collect();

    for (i, c) in spec.consumers.iter().enumerate() {
        if let Some(t) = &c.tenant
            && !tenants.contains(t.as_str())
        {
            r.push(
                format!("consumers[{i}].tenant"),
                unknown("tenant", t, "tenants", &tenants),
            );
        }
        for (s, p) in c.subscriptions.iter().enumerate() {
            if !products.contains(p.as_str()) {
                r.push(
                    format!("consumers[{i}].subscriptions[{s}]"),
                    unknown("product", p, "products", &products),
                );
            }
        }
    }

    r.unique_names(
        "products",
        "product",
        spec.products.iter().map(|p| p.name.as_str()),
    );
    for (i, p) in spec.products.iter().enumerate() {
        let base = format!("products[{i}]");
        match &p.tenant {
            Some(t) if !tenants.contains(t.as_str()) => {
                r.push(
                    format!("{base}.tenant"),
                    unknown("tenant", t, "tenants", &tenants),
                );
            }
            None if p.visibility != VisibilitySpec::Public => r.push(
                format!("{base}.visibility"),
                "only a product with a `tenant` can be `tenant` or `private`; \
                 a platform-wide product is `public`",
            ),
            _ => {}
        }
        for (k, route) in p.routes.iter().enumerate() {
            if !routes.contains(route.as_str()) {
                r.push(
                    format!("{base}.routes[{k}]"),
                    unknown("route", route, "routes", &routes),
                );
            }
        }
        for (k, model) in p.models.iter().enumerate() {
            if !models.contains(model.as_str()) {
                r.push(
                    format!("{base}.models[{k}]"),
                    unknown("model", model, "models", &models),
                );
            }
        }
        if p.routes.is_empty() && p.models.is_empty() {
            r.push(
                base,
                "a product must list at least one route or model".to_owned(),
            );
        }
    }

    for (i, route) in spec.routes.iter().enumerate() {
        limits(r, &format!("routes[{i}].limits"), &route.limits);
    }
    for (i, model) in spec.models.iter().enumerate() {
        limits(r, &format!("models[{i}].limits"), &model.limits);
    }
}

fn limits(r: &mut Report, path: &str, limits: &LimitsSpec) {
    if let Err(errors) = limits.check() {
        for (field, message) in errors {
            r.push(format!("{path}.{field}"), message);
        }
    }
}

/// `[a-z0-9][a-z0-9-]*`, at most [`MAX_TENANT_NAME`] characters.
pub(crate) fn is_slug(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_TENANT_NAME
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

fn unknown(what: &str, name: &str, section: &str, known: &HashSet<&str>) -> String {
    let mut names: Vec<&str> = known.iter().copied().collect();
    names.sort_unstable();
    if names.is_empty() {
        format!("unknown {what} `{name}`: no {section} are configured")
    } else {
        format!(
            "unknown {what} `{name}`; configured {section}: {}",
            names.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::load_str;

    fn errors(yaml: &str) -> String {
        match load_str(yaml, "t.yaml", &|_| None) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    }

    const BASE: &str =
        "store: null\nroutes:\n  - name: api\n    target: { respond: { status: 200 } }\n";

    #[test]
    fn a_consistent_tenancy_section_loads() {
        let yaml = format!(
            "{BASE}tenants:\n  - name: acme\n    limits: {{ spend_per_day: 5 }}\n\
             products:\n  - name: core\n    tenant: acme\n    visibility: tenant\n    routes: [api]\n\
             consumers:\n  - name: web\n    tenant: acme\n    subscriptions: [core]\n"
        );
        assert_eq!(errors(&yaml), "");
    }

    #[test]
    fn every_dangling_reference_is_reported_with_its_path() {
        let yaml = format!(
            "{BASE}tenants:\n  - name: Acme Corp\n\
             products:\n  - name: core\n    visibility: private\n    routes: [nope]\n    models: [gpt]\n  - name: empty\n\
             consumers:\n  - name: web\n    tenant: globex\n    subscriptions: [gold]\n"
        );
        let e = errors(&yaml);
        for needle in [
            "tenants[0].name",
            "consumers[0].tenant",
            "unknown tenant `globex`",
            "consumers[0].subscriptions[0]",
            "unknown product `gold`",
            "products[0].visibility",
            "products[0].routes[0]",
            "products[0].models[0]",
            "products[1]",
            "at least one route or model",
        ] {
            assert!(e.contains(needle), "missing `{needle}` in:\n{e}");
        }
    }

    #[test]
    fn negative_spend_is_refused_where_it_is_written() {
        let yaml = "store: null\nroutes:\n  - name: api\n    limits: { spend_per_month: -3 }\n    target: { respond: { status: 200 } }\n";
        let e = errors(yaml);
        assert!(e.contains("routes[0].limits.spend_per_month"), "{e}");
    }
}
