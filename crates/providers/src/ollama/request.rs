//! OpenAI's body, minus what Ollama cannot do.

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use sy_llm::ChatRequest;

use super::NAME;
use crate::openai::request::{body, drop_cache_control, legacy_names, post};
use crate::params::{Loss, strip, unsupported};
use crate::{ProviderEndpoint, TranslateError};

const LACKING: &[(&str, Loss)] = &[("logit_bias", Loss::Hint)];

pub(super) fn build(
    endpoint: &ProviderEndpoint,
    req: &ChatRequest,
    model: &str,
    auth: Option<(HeaderName, HeaderValue)>,
) -> Result<http::Request<Bytes>, TranslateError> {
    let policy = endpoint.unsupported_params;
    let mut wire = body(req, model, true);
    if wire.choice_count() > 1 {
        unsupported(policy, NAME, "n", Loss::Shape)?;
    }
    if wire.user.take().is_some() {
        unsupported(policy, NAME, "user", Loss::Hint)?;
    }
    strip(&mut wire.extra, LACKING, policy, NAME)?;
    legacy_names(&mut wire);
    drop_cache_control(&mut wire);
    post(
        &endpoint.url("/chat/completions"),
        auth,
        endpoint,
        &wire,
        req.is_stream(),
    )
}
