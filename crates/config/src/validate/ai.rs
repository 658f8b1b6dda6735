//! AI providers and models.

use std::collections::HashMap;

use super::syntax::http_url;
use super::{Report, list};
use crate::ai::{ProviderKindSpec, ProviderSpec};
use crate::spec::ConfigSpec;

pub(super) fn check(spec: &ConfigSpec, r: &mut Report) {
    r.unique_names(
        "providers",
        "provider",
        spec.providers.iter().map(|p| p.name.as_str()),
    );
    for (i, p) in spec.providers.iter().enumerate() {
        let base = format!("providers[{i}]");
        if let Some(url) = &p.base_url
            && let Err(e) = http_url(url)
        {
            r.push(format!("{base}.base_url"), e);
        }
        if p.mock.is_some() && p.kind != ProviderKindSpec::Mock {
            r.push(
                format!("{base}.mock"),
                "`mock` settings apply only to `kind: mock`",
            );
        }
        check_aws(p, &base, r);
    }
    r.unique_names(
        "models",
        "model",
        spec.models.iter().map(|m| m.name.as_str()),
    );
    for (i, m) in spec.models.iter().enumerate() {
        let base = format!("models[{i}]");
        if m.deployments.is_empty() {
            r.push(format!("{base}.deployments"), "a model needs at least one deployment, like `- { provider: openai, model: gpt-4o }`");
        } else if m.deployments.iter().all(|d| d.weight == 0) {
            r.push(
                format!("{base}.deployments"),
                "the deployments' weights add up to 0; give at least one a weight ≥ 1",
            );
        }
        check_routing(spec, i, r);
        for (k, d) in m.deployments.iter().enumerate() {
            if !spec.providers.iter().any(|p| p.name == d.provider) {
                let allowed = list(spec.providers.iter().map(|p| p.name.as_str()));
                r.push(
                    format!("{base}.deployments[{k}].provider"),
                    format!("no provider named `{}`; providers: {allowed}", d.provider),
                );
            }
            if d.model.trim().is_empty() {
                r.push(
                    format!("{base}.deployments[{k}].model"),
                    "the provider's model id is required",
                );
            }
        }
    }
}

/// Region and AWS credentials: a Bedrock provider needs a `region` (for
/// its URL and signature) or a `base_url`; a region looks like
/// `us-east-1`; AWS credentials need both halves of the key pair (an
/// unset `${VAR:-}` leaves one empty).
fn check_aws(p: &ProviderSpec, base: &str, r: &mut Report) {
    if p.kind == ProviderKindSpec::Bedrock && p.region.is_none() && p.base_url.is_none() {
        r.push(
            format!("{base}.kind"),
            "`kind: bedrock` needs a `region` (like `us-east-1`) or a `base_url`",
        );
    }
    if let Some(region) = &p.region
        && !is_region(region)
    {
        r.push(
            format!("{base}.region"),
            format!("`{region}` is not a cloud region; write it like `us-east-1`"),
        );
    }
    if let Some(aws) = &p.aws {
        for (field, value) in [
            ("access_key_id", &aws.access_key_id),
            ("secret_access_key", &aws.secret_access_key),
        ] {
            if value.trim().is_empty() {
                r.push(
                    format!("{base}.aws.{field}"),
                    "AWS credentials need both `access_key_id` and `secret_access_key`; this one is empty",
                );
            }
        }
    }
}

/// `xx-xxxx-N`: lower-case letter groups joined by `-` (the first of two
/// letters, at least two groups) and a trailing number, as in `us-east-1`,
/// `ap-southeast-2`, `us-gov-west-1`.
fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    let letters = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase());
    words.len() >= 2
        && words[0].len() == 2
        && words.iter().all(|w| letters(w))
        && !number.is_empty()
        && number.len() <= 2
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// A model's routing settings: references to other models, retry and
/// cool-down values.
fn check_routing(spec: &ConfigSpec, i: usize, r: &mut Report) {
    let Some(m) = spec.models.get(i) else { return };
    let base = format!("models[{i}]");
    let known = |name: &str| spec.models.iter().any(|o| o.name == name);
    let names = || list(spec.models.iter().map(|o| o.name.as_str()));
    for (k, f) in m.fallbacks.iter().enumerate() {
        if *f == m.name {
            r.push(
                format!("{base}.fallbacks[{k}]"),
                "a model cannot fall back to itself",
            );
        } else if !known(f) {
            r.push(
                format!("{base}.fallbacks[{k}]"),
                format!("no model named `{f}`; models: {}", names()),
            );
        }
    }
    if let Some(f) = &m.context_window_fallback {
        if *f == m.name {
            r.push(
                format!("{base}.context_window_fallback"),
                "a model cannot fall back to itself",
            );
        } else if !known(f) {
            r.push(
                format!("{base}.context_window_fallback"),
                format!("no model named `{f}`; models: {}", names()),
            );
        }
    }
    if m.retries.backoff_base > m.retries.backoff_max {
        r.push(
            format!("{base}.retries.backoff_base"),
            format!(
                "`backoff_base` ({}) is longer than `backoff_max` ({})",
                m.retries.backoff_base, m.retries.backoff_max
            ),
        );
    }
    if m.cooldown.failures == 0 {
        r.push(
            format!("{base}.cooldown.failures"),
            "must be at least 1 (a deployment cools down after this many failures in a row)",
        );
    }
    if m.timeout.is_some_and(|t| t.get().is_zero()) {
        r.push(format!("{base}.timeout"), "must be longer than 0s");
    }
    if let Some(cycle) = fallback_cycle(spec, i) {
        r.push(
            format!("{base}.fallbacks"),
            format!("fallbacks form a cycle: {}", cycle.join(" → ")),
        );
    }
}

/// A cycle through `fallbacks` that starts and ends at model `start`, as
/// the names along it; reported once per model on it.
fn fallback_cycle(spec: &ConfigSpec, start: usize) -> Option<Vec<String>> {
    let index: HashMap<&str, usize> = spec
        .models
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.as_str(), i))
        .collect();
    // Depth-first search for a path back to `start`.
    let mut path = vec![start];
    let mut next = vec![0usize];
    let mut seen = vec![false; spec.models.len()];
    while let (Some(&at), Some(pos)) = (path.last(), next.last_mut()) {
        let fallbacks = spec.models.get(at).map(|m| m.fallbacks.as_slice());
        let Some(name) = fallbacks.and_then(|f| f.get(*pos)) else {
            path.pop();
            next.pop();
            continue;
        };
        *pos += 1;
        let Some(&to) = index.get(name.as_str()) else {
            continue;
        };
        if to == start {
            if path.len() == 1 && to == at {
                continue; // self-reference, reported on its own
            }
            let mut names: Vec<String> = path
                .iter()
                .filter_map(|&p| spec.models.get(p).map(|m| m.name.clone()))
                .collect();
            names.push(name.clone());
            return Some(names);
        }
        if seen.get(to).copied().unwrap_or(true) {
            continue;
        }
        if let Some(s) = seen.get_mut(to) {
            *s = true;
        }
        path.push(to);
        next.push(0);
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::validate;

    fn violations(models: &str) -> Vec<(String, String)> {
        let yaml = format!("providers:\n  - {{ name: p, kind: mock }}\nmodels:\n{models}");
        let spec: crate::ConfigSpec = serde_yaml_ng::from_str(&yaml).unwrap();
        validate(&spec)
            .into_iter()
            .map(|v| (v.path, v.message))
            .collect()
    }

    #[test]
    fn routing_settings_parse_with_defaults() {
        let yaml = "providers:\n  - { name: p, kind: mock }\nmodels:\n  - name: a\n    strategy: least_busy\n    deployments: [{ provider: p, model: x }]\n";
        let spec: crate::ConfigSpec = serde_yaml_ng::from_str(yaml).unwrap();
        assert!(validate(&spec).is_empty());
        let m = spec.models.iter().find(|m| m.name == "a").unwrap();
        assert_eq!(m.strategy, crate::RoutingStrategySpec::LeastBusy);
        assert_eq!(m.retries.attempts, 0);
        assert_eq!(m.cooldown.failures, 3);
        assert!(m.fallbacks.is_empty());
    }

    #[test]
    fn unknown_fallbacks_are_reported() {
        let v = violations(
            "  - name: a\n    fallbacks: [nope, a]\n    context_window_fallback: gone\n    deployments: [{ provider: p, model: x }]\n",
        );
        let paths: Vec<&str> = v.iter().map(|(p, _)| p.as_str()).collect();
        assert!(paths.contains(&"models[0].fallbacks[0]"), "{v:?}");
        assert!(paths.contains(&"models[0].fallbacks[1]"), "{v:?}");
        assert!(
            paths.contains(&"models[0].context_window_fallback"),
            "{v:?}"
        );
    }

    #[test]
    fn fallback_cycles_are_reported() {
        let v = violations(concat!(
            "  - { name: a, fallbacks: [b], deployments: [{ provider: p, model: x }] }\n",
            "  - { name: b, fallbacks: [c], deployments: [{ provider: p, model: x }] }\n",
            "  - { name: c, fallbacks: [a], deployments: [{ provider: p, model: x }] }\n",
            "  - { name: d, fallbacks: [a], deployments: [{ provider: p, model: x }] }\n",
        ));
        let cycles: Vec<&(String, String)> =
            v.iter().filter(|(_, m)| m.contains("cycle")).collect();
        assert_eq!(cycles.len(), 3, "{v:?}");
        assert!(cycles[0].1.contains("a → b → c → a"), "{v:?}");
    }

    #[test]
    fn bad_retry_and_cooldown_values_are_reported() {
        let v = violations(
            "  - name: a\n    retries: { attempts: 2, backoff_base: 5s, backoff_max: 1s }\n    cooldown: { failures: 0 }\n    deployments: [{ provider: p, model: x }]\n",
        );
        let paths: Vec<&str> = v.iter().map(|(p, _)| p.as_str()).collect();
        assert!(paths.contains(&"models[0].retries.backoff_base"), "{v:?}");
        assert!(paths.contains(&"models[0].cooldown.failures"), "{v:?}");
    }
}
