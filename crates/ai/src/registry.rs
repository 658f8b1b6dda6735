//! The models clients may ask for, compiled from config: public name →
//! deployments → provider instance.
//!
//! Built once per config snapshot and read without locks. Lookups honour a
//! route's allow-list: a model not allowed on the route is reported exactly
//! like a model that does not exist.

use std::collections::HashMap;
use std::sync::Arc;

use sy_config::{ModelSpec, ProviderSpec};

use crate::pricing::{self, Price};
use crate::providers::{self, Provider};

/// A public model name and what serves it.
#[derive(Debug)]
pub struct Model {
    /// The name clients pass as `model`.
    pub name: String,
    /// Real models behind the name, in config order.
    pub deployments: Vec<Deployment>,
}

/// One real model at one provider.
pub struct Deployment {
    /// Provider name from config.
    pub provider_name: String,
    /// The provider's model id.
    pub model: String,
    /// Relative share of traffic (used once routing strategies land).
    pub weight: u32,
    /// Price per million tokens: the built-in table's, overridden by
    /// config; `None` leaves calls unpriced.
    pub price: Option<Price>,
    /// Context window in tokens, when configured.
    pub context_window: Option<u64>,
    pub(crate) provider: Arc<dyn Provider>,
}

impl std::fmt::Debug for Deployment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployment")
            .field("provider_name", &self.provider_name)
            .field("model", &self.model)
            .field("weight", &self.weight)
            .field("price", &self.price)
            .field("context_window", &self.context_window)
            .finish_non_exhaustive()
    }
}

impl Deployment {
    /// `<provider>/<model>`, as in the deployment response header and logs.
    pub fn label(&self) -> String {
        format!("{}/{}", self.provider_name, self.model)
    }
}

impl Model {
    /// The deployment to call: for now the first one with a positive weight
    /// (else the first). Weighted choice, priorities and fallbacks belong to
    /// the router that comes next.
    pub fn pick(&self) -> Option<&Deployment> {
        self.deployments
            .iter()
            .find(|d| d.weight > 0)
            .or_else(|| self.deployments.first())
    }
}

/// All configured models.
#[derive(Debug, Default)]
pub struct Registry {
    models: Vec<Model>,
    by_name: HashMap<String, usize>,
}

impl Registry {
    /// Build from config. Config validation normally catches these errors
    /// first; they are checked again so a registry is never half-wired.
    pub fn compile(
        providers: &[ProviderSpec],
        models: &[ModelSpec],
    ) -> Result<Registry, Vec<String>> {
        let mut errors = Vec::new();
        let mut built: HashMap<&str, Arc<dyn Provider>> = HashMap::new();
        let vendors: HashMap<&str, Option<&str>> = providers
            .iter()
            .map(|p| (p.name.as_str(), pricing::vendor_for(p)))
            .collect();
        for (i, spec) in providers.iter().enumerate() {
            let provider = match providers::build(spec) {
                Ok(provider) => provider,
                Err(e) => {
                    errors.push(format!("providers[{i}] (`{}`): {e}", spec.name));
                    continue;
                }
            };
            if built.insert(spec.name.as_str(), provider).is_some() {
                errors.push(format!(
                    "providers[{i}]: duplicate provider name `{}`",
                    spec.name
                ));
            }
        }
        let mut registry = Registry::default();
        for (i, spec) in models.iter().enumerate() {
            if spec.deployments.is_empty() {
                errors.push(format!(
                    "models[{i}] (`{}`): needs at least one deployment",
                    spec.name
                ));
            }
            let mut deployments = Vec::new();
            for (j, d) in spec.deployments.iter().enumerate() {
                match built.get(d.provider.as_str()) {
                    Some(provider) => deployments.push(Deployment {
                        provider_name: d.provider.clone(),
                        model: d.model.clone(),
                        weight: d.weight,
                        price: pricing::deployment_price(
                            vendors.get(d.provider.as_str()).copied().flatten(),
                            d,
                        ),
                        context_window: d.context_window,
                        provider: Arc::clone(provider),
                    }),
                    None => errors.push(format!(
                        "models[{i}].deployments[{j}]: unknown provider `{}`",
                        d.provider
                    )),
                }
            }
            if registry
                .by_name
                .insert(spec.name.clone(), registry.models.len())
                .is_some()
            {
                errors.push(format!("models[{i}]: duplicate model name `{}`", spec.name));
            }
            registry.models.push(Model {
                name: spec.name.clone(),
                deployments,
            });
        }
        if errors.is_empty() {
            Ok(registry)
        } else {
            Err(errors)
        }
    }

    /// The model `name`, if it exists and `allowed` admits it (empty
    /// `allowed` admits every model).
    pub fn get(&self, name: &str, allowed: &[String]) -> Option<&Model> {
        if !is_allowed(name, allowed) {
            return None;
        }
        self.by_name.get(name).and_then(|&i| self.models.get(i))
    }

    /// The models `allowed` admits, in config order.
    pub fn visible<'a>(&'a self, allowed: &'a [String]) -> impl Iterator<Item = &'a Model> + 'a {
        self.models
            .iter()
            .filter(move |m| is_allowed(&m.name, allowed))
    }
}

fn is_allowed(name: &str, allowed: &[String]) -> bool {
    allowed.is_empty() || allowed.iter().any(|a| a == name)
}
