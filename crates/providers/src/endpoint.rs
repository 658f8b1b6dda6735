//! Per-provider settings the adapters read when building a request.

use std::sync::{Arc, OnceLock, RwLock};
use std::time::SystemTime;

use http::{HeaderName, HeaderValue, Uri};

/// A secret sent upstream (API key). `Debug` never shows it, so an
/// endpoint can sit in a logged struct safely.
#[derive(Clone)]
pub struct Credential {
    secret: String,
    /// The header value last made, with its prefix: every call of a
    /// provider sends the same one, and making it again (a `format!`, a
    /// check of every byte) was a cost of every call. It holds nothing the
    /// secret does not.
    header: OnceLock<(Box<str>, HeaderValue)>,
}

impl PartialEq for Credential {
    fn eq(&self, other: &Credential) -> bool {
        self.secret == other.secret
    }
}

impl Eq for Credential {}

impl Credential {
    /// Wrap a secret.
    pub fn new(secret: impl Into<String>) -> Credential {
        Credential {
            secret: secret.into(),
            header: OnceLock::new(),
        }
    }

    /// The secret, for the one place that writes it into a header.
    pub fn expose(&self) -> &str {
        &self.secret
    }

    /// A header value holding `prefix` + the secret, marked sensitive (so
    /// HTTP/2 never indexes it and `Debug` of the header map hides it).
    pub(crate) fn header_value(&self, prefix: &str) -> Option<HeaderValue> {
        if let Some((made_with, value)) = self.header.get()
            && **made_with == *prefix
        {
            return Some(value.clone());
        }
        let mut value = HeaderValue::from_str(&format!("{prefix}{}", self.secret)).ok()?;
        value.set_sensitive(true);
        let _ = self.header.set((prefix.into(), value.clone()));
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
    /// URLs already parsed, by their text.
    uris: UriCache,
}

/// Upstream URIs parsed before, looked up by their text: an adapter builds
/// the same URL for every call of a deployment, and parsing it again cost
/// ~1,500 instructions a call. Keyed by the whole URL, so a changed
/// `base_url` or model cannot find a stale entry; bounded, so URLs that
/// vary per request only miss.
#[derive(Debug, Default)]
struct UriCache(RwLock<Vec<(Arc<str>, Uri)>>);

/// Most URLs an endpoint keeps parsed (chat, streamed chat, embeddings,
/// per model for providers that put the model in the path).
const URI_CACHE_SIZE: usize = 16;

impl Clone for UriCache {
    fn clone(&self) -> UriCache {
        UriCache::default()
    }
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
            uris: UriCache::default(),
        }
    }

    /// `url` parsed, from the cache when it was parsed before.
    pub(crate) fn parsed_uri(&self, url: &str) -> Result<Uri, http::uri::InvalidUri> {
        if let Ok(known) = self.uris.0.read()
            && let Some((_, uri)) = known.iter().find(|(text, _)| **text == *url)
        {
            return Ok(uri.clone());
        }
        let uri: Uri = url.parse()?;
        if let Ok(mut known) = self.uris.0.write()
            && known.len() < URI_CACHE_SIZE
            && !known.iter().any(|(text, _)| **text == *url)
        {
            known.push((url.into(), uri.clone()));
        }
        Ok(uri)
    }

    /// `base_url` joined with `path` (which starts with `/`). Concatenated,
    /// not `format!`ted: every call builds one (~650 instructions by the
    /// formatter, a fifth of that this way).
    pub(crate) fn url(&self, path: &str) -> String {
        [self.base_url.as_str(), path].concat()
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

    #[test]
    fn the_credential_header_is_made_once_per_prefix() {
        let credential = Credential::new("sk-1");
        let bearer = credential.header_value("Bearer ");
        assert_eq!(
            bearer.as_ref().map(|v| v.as_bytes()),
            Some(&b"Bearer sk-1"[..])
        );
        assert!(bearer.is_some_and(|v| v.is_sensitive()));
        // Cached: the same value again; another prefix is not confused with it.
        let again = credential.header_value("Bearer ");
        assert_eq!(
            again.as_ref().map(|v| v.as_bytes()),
            Some(&b"Bearer sk-1"[..])
        );
        assert!(again.is_some_and(|v| v.is_sensitive()));
        let bare = credential.header_value("");
        assert_eq!(bare.as_ref().map(|v| v.as_bytes()), Some(&b"sk-1"[..]));
        assert!(
            Credential::new("bad\nkey")
                .header_value("Bearer ")
                .is_none()
        );
        assert_eq!(credential, Credential::new("sk-1"));
    }

    #[test]
    fn parsed_uris_are_kept_by_their_whole_text() {
        let endpoint = ProviderEndpoint::new("p", "http://127.0.0.1:9/v1");
        let chat = endpoint.parsed_uri("http://127.0.0.1:9/v1/chat/completions");
        assert_eq!(
            chat.map(|u| u.path().to_owned()).ok().as_deref(),
            Some("/v1/chat/completions")
        );
        // The same text again comes from the cache, another text is parsed.
        let again = endpoint.parsed_uri("http://127.0.0.1:9/v1/chat/completions");
        assert_eq!(
            again.map(|u| u.to_string()).ok().as_deref(),
            Some("http://127.0.0.1:9/v1/chat/completions")
        );
        let other = endpoint.parsed_uri("http://127.0.0.2:9/v2/embeddings");
        assert_eq!(
            other.map(|u| u.to_string()).ok().as_deref(),
            Some("http://127.0.0.2:9/v2/embeddings")
        );
        assert!(endpoint.parsed_uri("http://bad host/").is_err());
        // Bounded: URLs past the limit are still parsed, just not kept.
        for i in 0..2 * URI_CACHE_SIZE {
            let url = format!("http://127.0.0.1:9/models/m{i}");
            assert_eq!(
                endpoint.parsed_uri(&url).map(|u| u.to_string()).ok(),
                Some(url)
            );
        }
        assert_eq!(
            endpoint.uris.0.read().map(|k| k.len()).ok(),
            Some(URI_CACHE_SIZE)
        );
    }
}
