//! The deployment URL and OpenAI's body.

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use sy_llm::ChatRequest;

use super::wire::DEFAULT_API_VERSION;
use crate::openai::request::{body, drop_cache_control, post};
use crate::{ProviderEndpoint, TranslateError};

pub(super) fn build(
    endpoint: &ProviderEndpoint,
    req: &ChatRequest,
    deployment: &str,
    auth: Option<(HeaderName, HeaderValue)>,
) -> Result<http::Request<Bytes>, TranslateError> {
    let url = deployment_url(endpoint, deployment, "chat/completions");
    let mut wire = body(req, deployment, true);
    drop_cache_control(&mut wire);
    post(&url, auth, endpoint, &wire, req.is_stream())
}

/// `{base}/openai/deployments/{deployment}/embeddings?api-version=...`.
pub(super) fn embeddings_url(endpoint: &ProviderEndpoint, deployment: &str) -> String {
    deployment_url(endpoint, deployment, "embeddings")
}

fn deployment_url(endpoint: &ProviderEndpoint, deployment: &str, operation: &str) -> String {
    let version = endpoint
        .api_version
        .as_deref()
        .unwrap_or(DEFAULT_API_VERSION);
    endpoint.url(&format!(
        "/openai/deployments/{}/{operation}?api-version={}",
        encode(deployment),
        encode(version)
    ))
}

/// Percent-encode everything but RFC 3986 unreserved characters, so a
/// deployment name can never change the URL's shape.
fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn encoding_keeps_unreserved() {
        assert_eq!(super::encode("gpt-4o_mini.v2~x"), "gpt-4o_mini.v2~x");
        assert_eq!(super::encode("a/b c?"), "a%2Fb%20c%3F");
    }
}
