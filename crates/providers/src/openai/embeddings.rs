//! OpenAI's embeddings API: the canonical request with the real model id,
//! and the response as it is. Shared by every OpenAI-family adapter.

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use sy_llm::embeddings::{EmbeddingsRequest, EmbeddingsResponse};

use super::request::post;
use crate::{ProviderEndpoint, TranslateError};

/// `POST url` with `req`, its `model` replaced by `model`.
pub(crate) fn request(
    url: &str,
    auth: Option<(HeaderName, HeaderValue)>,
    endpoint: &ProviderEndpoint,
    req: &EmbeddingsRequest,
    model: &str,
) -> Result<http::Request<Bytes>, TranslateError> {
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

    #[test]
    fn pass_through_with_the_real_model() {
        let endpoint = ProviderEndpoint::new("p", "http://up/v1");
        let req: EmbeddingsRequest =
            serde_json::from_str(r#"{"model":"public","input":["a"],"dimensions":4,"x":1}"#)
                .unwrap();
        let http = OpenAi::COMPATIBLE
            .embeddings_request(&endpoint, &req, "real-model")
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
