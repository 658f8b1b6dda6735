//! `x-api-key` and `anthropic-version`.

use http::{HeaderName, HeaderValue};

use super::DEFAULT_VERSION;
use crate::ProviderEndpoint;

/// The fixed headers of every Anthropic request.
pub(super) fn headers(endpoint: &ProviderEndpoint) -> Vec<(HeaderName, HeaderValue)> {
    let mut out = Vec::with_capacity(2);
    if let Some(key) = endpoint
        .credential
        .as_ref()
        .and_then(|c| c.header_value(""))
    {
        out.push((HeaderName::from_static("x-api-key"), key));
    }
    let version = endpoint
        .api_version
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
        .unwrap_or(HeaderValue::from_static(DEFAULT_VERSION));
    out.push((HeaderName::from_static("anthropic-version"), version));
    out
}
