//! The `api-key` header (Azure's key auth; Entra ID tokens come later).

use http::{HeaderName, HeaderValue};

use crate::ProviderEndpoint;

pub(super) fn header(endpoint: &ProviderEndpoint) -> Option<(HeaderName, HeaderValue)> {
    let key = endpoint.credential.as_ref()?.header_value("")?;
    Some((HeaderName::from_static("api-key"), key))
}
