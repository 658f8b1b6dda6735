//! OpenAI's embeddings API: the canonical request with the real model id,
//! and the response as it is. Shared by every OpenAI-family adapter.

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use sy_llm::embeddings::{EmbeddingsRequest, EmbeddingsResponse};

use super::request::{post, post_json};
use crate::{ProviderEndpoint, TranslateError};

/// `POST url` with `req`, its `model` replaced by `model`: the client's
/// own bytes (`source`) when given, else `req` encoded again.
pub(crate) fn request(
    url: &str,
    auth: Option<(HeaderName, HeaderValue)>,
    endpoint: &ProviderEndpoint,
    req: &EmbeddingsRequest,
    source: Option<&[u8]>,
    model: &str,
) -> Result<http::Request<Bytes>, TranslateError> {
    if let Some(json) = source.and_then(|source| sy_llm::openai::with_model(source, model)) {
        return post_json(url, auth.into_iter().collect(), endpoint, json, false);
    }
    let mut body = req.clone();
    model.clone_into(&mut body.model);
    post(url, auth, endpoint, &body, false)
}

/// A 2xx embeddings body.
pub(crate) fn parse(
    provider: &'static str,
    body: &[u8],
) -> Result<EmbeddingsResponse, TranslateError> {
    sy_llm::from_json(body).map_err(|e| TranslateError::malformed(provider, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProviderAdapter;
    use crate::openai::OpenAi;

    /// Every OpenAI-format kind sends the client's bytes with only `model`
    /// replaced when it has them (Azure, whose model is in the URL, too).
    #[test]
    fn the_clients_bytes_are_sent_with_the_real_model() {
        let source = br#"{"model": "public",  "input": ["a"], "x": 1.50}"#;
        let req: EmbeddingsRequest = serde_json::from_slice(source).unwrap();
        for kind in [
            crate::ProviderKind::Openai,
            crate::ProviderKind::OpenaiCompatible,
            crate::ProviderKind::Azure,
            crate::ProviderKind::Mistral,
            crate::ProviderKind::Ollama,
        ] {
            let endpoint = ProviderEndpoint::new("p", "http://up/v1");
            let http = kind
                .adapter()
                .embeddings_request(&endpoint, &req, Some(source), "real-model")
                .unwrap();
            assert_eq!(
                &http.body()[..],
                br#"{"model": "real-model",  "input": ["a"], "x": 1.50}"#,
                "{kind:?}"
            );
        }
    }

    #[test]
    fn pass_through_with_the_real_model() {
        let endpoint = ProviderEndpoint::new("p", "http://up/v1");
        let req: EmbeddingsRequest =
            serde_json::from_str(r#"{"model":"public","input":["a"],"dimensions":4,"x":1}"#)
                .unwrap();
        let http = OpenAi::COMPATIBLE
            .embeddings_request(&endpoint, &req, None, "real-model")
            .unwrap();
        assert_eq!(http.uri(), "http://up/v1/embeddings");
        let body: serde_json::Value = serde_json::from_slice(http.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"model":"real-model","input":["a"],"dimensions":4,"x":1})
        );
        let answer = OpenAi::COMPATIBLE
            .embeddings_response(
                br#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5]}],"model":"real-model","usage":{"prompt_tokens":1,"total_tokens":1}}"#,
            )
            .unwrap();
        assert_eq!(answer.usage.prompt_tokens, 1);
    }
}
