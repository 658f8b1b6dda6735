//! The provider call every dialect shares: find the model (honouring the
//! route's allow-list), pick the deployment, count the prompt and check the
//! context window, call the provider.
//!
//! Dialect endpoints translate their request to the canonical form, call
//! [`call_model`], and translate what comes back, settling usage and cost
//! through the returned [`Meter`]; so routing, limits and accounting added
//! here apply to every dialect alike.

use sy_llm::{ChatRequest, tokens};

use super::meter::{self, Meter};
use crate::providers::ProviderReply;
use crate::{AiCallInfo, AiError, AiGateway};

/// A provider's answer and what the call record needs.
pub(crate) struct Called {
    /// Model, deployment label, usage and cost cells for the access log.
    pub info: AiCallInfo,
    /// Settles usage and cost into `info`.
    pub meter: Meter,
    /// The prompt's tokens, counted with the deployment's vocabulary.
    pub prompt_estimate: u64,
    /// The answer, whole or streamed.
    pub reply: ProviderReply,
}

/// Call the model `request.model` names. An unknown model and a model not
/// allowed on this route fail alike ([`AiError::ModelNotFound`]).
pub(crate) async fn call_model(
    gateway: &AiGateway,
    allowed: &[String],
    request: &ChatRequest,
) -> Result<Called, AiError> {
    let model = gateway
        .registry
        .get(&request.model, allowed)
        .ok_or_else(|| AiError::ModelNotFound {
            model: request.model.clone(),
        })?;
    let deployment = model
        .pick()
        .ok_or_else(|| AiError::Internal(format!("model `{}` has no deployment", model.name)))?;
    let prompt_estimate = tokens::count_prompt_tokens(request, &deployment.model);
    meter::check_context(deployment, request, prompt_estimate)?;
    let info = AiCallInfo::new(request.model.clone(), deployment.label());
    let meter = Meter::new(&info, deployment, prompt_estimate);
    let reply = deployment.provider.chat(request, &deployment.model).await?;
    Ok(Called {
        info,
        meter,
        prompt_estimate,
        reply,
    })
}
