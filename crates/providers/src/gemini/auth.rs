//! `x-goog-api-key` (the Gemini API reference's "API key" authentication;
//! the key is never put in the URL, where it would reach access logs).

use http::{HeaderName, HeaderValue};

use crate::ProviderEndpoint;

/// The credential header, if a key is configured.
pub(super) fn headers(endpoint: &ProviderEndpoint) -> Vec<(HeaderName, HeaderValue)> {
    endpoint
        .credential
        .as_ref()
        .and_then(|c| c.header_value(""))
        .map(|key| (HeaderName::from_static("x-goog-api-key"), key))
        .into_iter()
        .collect()
}
