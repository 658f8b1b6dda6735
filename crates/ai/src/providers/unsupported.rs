//! Stand-in for provider kinds whose adapter has not landed yet: the config
//! still loads, and calls answer 501 naming the provider.

use futures_util::future::BoxFuture;
use sy_llm::ChatRequest;

use super::{Provider, ProviderReply};
use crate::AiError;

/// A provider that refuses every call with [`AiError::ProviderUnsupported`].
#[derive(Debug, Clone)]
pub struct UnsupportedProvider {
    name: String,
    kind: &'static str,
}

impl UnsupportedProvider {
    /// For provider `name` of `kind`.
    pub fn new(name: &str, kind: &'static str) -> Self {
        UnsupportedProvider {
            name: name.to_owned(),
            kind,
        }
    }
}

impl Provider for UnsupportedProvider {
    fn chat<'a>(
        &'a self,
        _: &'a ChatRequest,
        _: &'a str,
    ) -> BoxFuture<'a, Result<ProviderReply, AiError>> {
        let error = AiError::ProviderUnsupported {
            provider: self.name.clone(),
            kind: self.kind.to_owned(),
        };
        Box::pin(std::future::ready(Err(error)))
    }
}
