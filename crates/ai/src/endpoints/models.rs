//! `GET /v1/models` and `GET /v1/models/{id}`: only the models the route
//! allows.

use http::{Response, StatusCode};
use sy_http::Body;
use sy_llm::openai::{ModelList, ModelObject};

use crate::registry::Model;
use crate::{AiError, AiGateway, Caller, respond};

fn object(gateway: &AiGateway, model: &Model) -> ModelObject {
    // `owned_by` names the provider of the first deployment: what a client
    // listing models most likely wants to know.
    let owner = model
        .deployments
        .first()
        .map_or("switchyard", |d| d.provider_name.as_str());
    ModelObject::new(&model.name, gateway.created, owner)
}

pub(crate) fn list(gateway: &AiGateway, allowed: &Caller<'_>) -> Response<Body> {
    let data = gateway
        .registry
        .visible(allowed.allowed)
        .filter(|m| allowed.may_list(&m.name))
        .map(|m| object(gateway, m))
        .collect();
    respond::json(StatusCode::OK, &ModelList::new(data))
}

pub(crate) fn get(
    gateway: &AiGateway,
    allowed: &Caller<'_>,
    id: &str,
) -> Result<Response<Body>, AiError> {
    let model = allowed.model(&gateway.registry, id)?;
    Ok(respond::json(StatusCode::OK, &object(gateway, model)))
}
