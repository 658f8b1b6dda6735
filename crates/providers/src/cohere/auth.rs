//! `Authorization: Bearer <key>` (the Chat reference's authentication).

use http::{HeaderName, HeaderValue};

use crate::ProviderEndpoint;

pub(super) fn header(endpoint: &ProviderEndpoint) -> Option<(HeaderName, HeaderValue)> {
    crate::openai::bearer(endpoint)
}
