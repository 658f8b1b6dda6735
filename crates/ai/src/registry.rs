//! The models clients may ask for, compiled from config: public name →
//! deployments → provider instance.
//!
//! Built once per config snapshot and read without locks. Lookups honour a
//! route's allow-list: a model not allowed on the route is reported exactly
//! like a model that does not exist.

use std::collections::HashMap;
use std::sync::Arc;
use sy_core::FastMap;

use sy_config::{ModelSpec, ProviderSpec};

use crate::pricing::{self, Price};
use crate::providers::{self, Provider};
use crate::router::{DeploymentState, Routing};

/// A public model name and what serves it.
#[derive(Debug)]
pub struct Model {
    /// The name clients pass as `model`.
    pub name: String,
    /// Real models behind the name, in config order.
    pub deployments: Vec<Deployment>,
    /// Strategy, fallbacks, retries, timeout and cool-down.
    pub routing: Routing,
    /// Limits on all calls of this model name (`ModelSpec.limits`).
    pub limits: sy_config::LimitsSpec,
    /// The name, shared by the quota counters of the model.
    pub(crate) quota_id: Arc<str>,
}

/// One real model at one provider.
pub struct Deployment {
    /// Provider name from config.
    pub provider_name: String,
    /// The provider's model id.
    pub model: String,
    /// Relative share of traffic; 0 = only when no other can serve.
    pub weight: u32,
    /// Lower is tried first by `priority_fallback` (unset = 0).
    pub priority: i32,
    /// Requests per minute this deployment accepts.
    pub rpm: Option<u64>,
    /// Tokens (prompt estimate + completion cap, settled to actual usage)
    /// per minute this deployment accepts.
    pub tpm: Option<u64>,
    /// Price per million tokens: the built-in table's, overridden by
    /// config; `None` leaves calls unpriced.
    pub price: Option<Price>,
    /// Context window in tokens, when configured.
    pub context_window: Option<u64>,
    /// Runtime state: in flight, latency, failures, limit windows. Shared
    /// with the previous snapshot's deployment of the same model name,
    /// provider and model id.
    pub state: Arc<DeploymentState>,
    pub(crate) provider: Arc<dyn Provider>,
    /// `<provider>/<model>`, made once: every answer names its deployment.
    label: Box<str>,
}

impl std::fmt::Debug for Deployment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployment")
            .field("provider_name", &self.provider_name)
            .field("model", &self.model)
            .field("weight", &self.weight)
            .field("priority", &self.priority)
            .field("rpm", &self.rpm)
            .field("tpm", &self.tpm)
            .field("price", &self.price)
            .field("context_window", &self.context_window)
            .finish_non_exhaustive()
    }
}

impl Deployment {
    /// `<provider>/<model>`, as in the deployment response header and logs.
    pub fn label(&self) -> &str {
        &self.label
    }
}

impl Model {
    /// The deployment a call would try first when nothing is cooling down:
    /// the best priority with a positive weight (else the first). Used
    /// where one deployment stands for the model (`count_tokens`).
    pub fn pick(&self) -> Option<&Deployment> {
        self.deployments
            .iter()
            .filter(|d| d.weight > 0)
            .min_by_key(|d| d.priority)
            .or_else(|| self.deployments.first())
    }

    /// Whether any deployment needs the prompt counted before a call (a
    /// context window or a token limit to check).
    pub fn needs_prompt_count(&self) -> bool {
        self.deployments
            .iter()
            .any(|d| d.context_window.is_some() || d.tpm.is_some())
    }
}

/// All configured models.
#[derive(Debug, Default)]
pub struct Registry {
    models: Vec<Model>,
    by_name: FastMap<String, usize>,
}

impl Registry {
    /// Build from config. Config validation normally catches these errors
    /// first; they are checked again so a registry is never half-wired.
    pub fn compile(
        providers: &[ProviderSpec],
        models: &[ModelSpec],
    ) -> Result<Registry, Vec<String>> {
        Registry::compile_next(providers, models, None)
    }

    /// Build from config, taking over the runtime state of `previous`'s
    /// deployments that are unchanged (same model name, provider and model
    /// id), so a reload keeps cool-downs, limit windows and latencies.
    pub fn compile_next(
        providers: &[ProviderSpec],
        models: &[ModelSpec],
        previous: Option<&Registry>,
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
                        label: format!("{}/{}", d.provider, d.model).into(),
                        provider_name: d.provider.clone(),
                        model: d.model.clone(),
                        weight: d.weight,
                        priority: d.priority.unwrap_or(0),
                        rpm: d.rpm,
                        tpm: d.tpm,
                        state: previous
                            .and_then(|p| p.state_of(&spec.name, &d.provider, &d.model))
                            .unwrap_or_default(),
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
                routing: Routing::from_spec(spec),
                limits: spec.limits.clone(),
                quota_id: Arc::from(spec.name.as_str()),
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

    /// A model by name, whatever the route allows: fallbacks are the
    /// operator's choice, not the client's.
    pub fn model(&self, name: &str) -> Option<&Model> {
        self.by_name.get(name).and_then(|&i| self.models.get(i))
    }

    /// The state of deployment `provider`/`model_id` of `model`.
    fn state_of(
        &self,
        model: &str,
        provider: &str,
        model_id: &str,
    ) -> Option<Arc<DeploymentState>> {
        self.model(model)?
            .deployments
            .iter()
            .find(|d| d.provider_name == provider && d.model == model_id)
            .map(|d| Arc::clone(&d.state))
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
