//! OpenAI's body with Mistral's names.

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use serde_json::Value;
use sy_llm::ChatRequest;
use sy_llm::chat::{ToolChoice, ToolChoiceMode};

use super::NAME;
use super::wire::{RANDOM_SEED, TOOL_CHOICE_ANY};
use crate::openai::request::{body, drop_cache_control, legacy_names, post};
use crate::params::{Loss, strip, unsupported};
use crate::{ProviderEndpoint, TranslateError};

const LACKING: &[(&str, Loss)] = &[
    ("logprobs", Loss::Shape),
    ("top_logprobs", Loss::Shape),
    ("logit_bias", Loss::Hint),
    ("store", Loss::Hint),
    ("metadata", Loss::Hint),
    ("service_tier", Loss::Hint),
    ("reasoning_effort", Loss::Hint),
];

pub(super) fn build(
    endpoint: &ProviderEndpoint,
    req: &ChatRequest,
    model: &str,
    auth: Option<(HeaderName, HeaderValue)>,
) -> Result<http::Request<Bytes>, TranslateError> {
    let policy = endpoint.unsupported_params;
    let mut wire = body(req, model, false);
    wire.stream_options = None;
    strip(&mut wire.extra, LACKING, policy, NAME)?;
    if wire.user.take().is_some() {
        unsupported(policy, NAME, "user", Loss::Hint)?;
    }
    legacy_names(&mut wire);
    drop_cache_control(&mut wire);
    if let Some(seed) = wire.seed.take() {
        wire.extra.insert(RANDOM_SEED.to_owned(), seed.into());
    }
    let any = wire.tool_choice == Some(ToolChoice::Mode(ToolChoiceMode::Required));
    let mut json = serde_json::to_value(&wire).map_err(|e| TranslateError::Invalid {
        param: "body".to_owned(),
        message: format!("could not be encoded: {e}"),
    })?;
    if any && let Some(map) = json.as_object_mut() {
        map.insert("tool_choice".to_owned(), Value::from(TOOL_CHOICE_ANY));
    }
    post(
        &endpoint.url("/chat/completions"),
        auth,
        endpoint,
        &json,
        req.is_stream(),
    )
}
