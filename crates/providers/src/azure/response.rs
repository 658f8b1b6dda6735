//! OpenAI's response and error shapes.

use sy_llm::ChatResponse;

use super::NAME;
use crate::openai::response;
use crate::{ProviderError, TranslateError};

pub(super) fn parse(body: &[u8]) -> Result<ChatResponse, TranslateError> {
    response::parse(NAME, body)
}

pub(super) fn error(
    status: http::StatusCode,
    headers: &http::HeaderMap,
    body: &[u8],
) -> ProviderError {
    response::error(NAME, status, headers, body)
}
