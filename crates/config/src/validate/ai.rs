//! AI providers and models.

use super::syntax::http_url;
use super::{Report, list};
use crate::ai::ProviderKindSpec;
use crate::spec::ConfigSpec;

pub(super) fn check(spec: &ConfigSpec, r: &mut Report) {
    r.unique_names(
        "providers",
        "provider",
        spec.providers.iter().map(|p| p.name.as_str()),
    );
    for (i, p) in spec.providers.iter().enumerate() {
        let base = format!("providers[{i}]");
        if let Some(url) = &p.base_url {
            if let Err(e) = http_url(url) {
                r.push(format!("{base}.base_url"), e);
            }
        }
        if p.mock.is_some() && p.kind != ProviderKindSpec::Mock {
            r.push(
                format!("{base}.mock"),
                "`mock` settings apply only to `kind: mock`",
            );
        }
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
