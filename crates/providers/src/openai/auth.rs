//! `Authorization: Bearer <key>`, used by OpenAI, Mistral, Ollama and most
//! compatible servers. No header when no key is configured (local servers).

use http::{HeaderName, HeaderValue, header};

use crate::ProviderEndpoint;

/// The bearer header for the endpoint's credential, if it has one.
pub(crate) fn bearer(endpoint: &ProviderEndpoint) -> Option<(HeaderName, HeaderValue)> {
    let credential = endpoint.credential.as_ref()?;
    Some((header::AUTHORIZATION, credential.header_value("Bearer ")?))
}
