//! Wire types beyond the canonical ones (which are OpenAI's already): the
//! error envelope, read leniently because compatible servers vary.

use serde::Deserialize;
use serde_json::Value;

/// An error body. OpenAI sends `{"error":{"message","type","param","code"}}`;
/// vLLM and Mistral send the fields at the top level (`{"object":"error",
/// "message",...}`); FastAPI-based servers send `{"detail": ...}`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorEnvelope {
    #[serde(default)]
    pub error: Option<ErrorObject>,
    #[serde(default)]
    pub message: Option<Value>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub code: Option<Value>,
    #[serde(default)]
    pub detail: Option<Value>,
}

/// The inner error object. `error` may also be a bare string (Ollama's
/// native API does that), hence the untagged form.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum ErrorObject {
    Object {
        #[serde(default)]
        message: Option<Value>,
        #[serde(default, rename = "type")]
        kind: Option<String>,
        #[serde(default)]
        code: Option<Value>,
    },
    Text(String),
}
