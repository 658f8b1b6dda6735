//! Per-provider settings the adapters read when building a request.

use std::time::SystemTime;

use http::{HeaderName, HeaderValue};

/// A secret sent upstream (API key). `Debug` never shows it, so an
/// endpoint can sit in a logged struct safely.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential(String);

impl Credential {
    /// Wrap a secret.
    pub fn new(secret: impl Into<String>) -> Credential {
        Credential(secret.into())
    }

    /// The secret, for the one place that writes it into a header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A header value holding `prefix` + the secret, marked sensitive (so
    /// HTTP/2 never indexes it and `Debug` of the header map hides it).
    pub(crate) fn header_value(&self, prefix: &str) -> Option<HeaderValue> {
        let mut value = HeaderValue::from_str(&format!("{prefix}{}", self.0)).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credential([redacted])")
    }
}

/// AWS credentials for SigV4-signed providers (Bedrock). Every part is a
/// [`Credential`], so `Debug` shows none of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsCredentials {
    /// Access key id (`AKIA...`, or `ASIA...` for temporary credentials).
    pub access_key_id: Credential,
    /// Secret access key.
    pub secret_access_key: Credential,
    /// Session token of temporary (STS) credentials.
    pub session_token: Option<Credential>,
}

/// What an adapter does with a request parameter its provider cannot take.
///
/// Either way, parameters whose loss would change the shape of the answer
/// the client expects (`n` > 1, `logprobs`, audio output) are refused: a
/// client asking for three choices must not silently get one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnsupportedParams {
    /// Leave it out of the upstream request (the default: sampling hints
    /// such as `presence_penalty` or `seed` are best effort everywhere).
    #[default]
    Drop,
    /// Refuse the request with a 400 naming the parameter and provider.
    Refuse,
}

/// Where and how to reach one configured provider.
#[derive(Debug, Clone)]
pub struct ProviderEndpoint {
    /// The configured provider name, used in messages.
    pub name: String,
    /// Base URL without a trailing slash, version path included
    /// (`https://api.openai.com/v1`), or for Azure the resource URL.
    pub base_url: String,
    /// API key, if the provider needs one.
    pub credential: Option<Credential>,
    /// Azure `api-version` / `anthropic-version` override.
    pub api_version: Option<String>,
    /// Extra headers for every request, already validated.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Completion cap for providers that require one, when the client set
    /// none.
    pub max_tokens_default: u32,
    /// Drop or refuse unsupported parameters.
    pub unsupported_params: UnsupportedParams,
    /// Cloud region (Bedrock's `us-east-1`), for providers that sign
    /// requests per region.
    pub region: Option<String>,
    /// AWS credentials, for SigV4-signed providers.
    pub aws: Option<AwsCredentials>,
    /// Wall clock read when a request must carry its own time (SigV4's
    /// `x-amz-date`). The one clock adapters read, injected so golden
    /// tests can fix it; [`SystemTime::now`] unless replaced.
    pub clock: fn() -> SystemTime,
}

/// The completion cap used when neither the client nor the config set one
/// and the provider requires a value (Anthropic).
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

impl ProviderEndpoint {
    /// An endpoint with no credential, headers or overrides.
    pub fn new(name: impl Into<String>, base_url: impl Into<String>) -> ProviderEndpoint {
        let base_url: String = base_url.into();
        ProviderEndpoint {
            name: name.into(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            credential: None,
            api_version: None,
            headers: Vec::new(),
            max_tokens_default: DEFAULT_MAX_TOKENS,
            unsupported_params: UnsupportedParams::Drop,
            region: None,
            aws: None,
            clock: SystemTime::now,
        }
    }

    /// `base_url` joined with `path` (which starts with `/`).
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_credential() {
        let mut endpoint = ProviderEndpoint::new("p", "https://x/v1/");
        endpoint.credential = Some(Credential::new("sk-very-secret"));
        let shown = format!("{endpoint:?}");
        assert!(!shown.contains("sk-very-secret"), "{shown}");
        assert!(shown.contains("[redacted]"));
        assert_eq!(endpoint.url("/chat"), "https://x/v1/chat");
    }
}
