//! Optional bearer token.

use http::{HeaderName, HeaderValue};

use crate::ProviderEndpoint;

pub(super) fn header(endpoint: &ProviderEndpoint) -> Option<(HeaderName, HeaderValue)> {
    crate::openai::bearer(endpoint)
}
