//! The OpenAI dialect: how OpenAI SDKs talk to the gateway.
//!
//! Canonical types already are OpenAI's shapes, so the dialect's work is
//! parsing with OpenAI-style validation errors ([`parse_chat_request`]), the
//! error body ([`ErrorBody`]) and the model list objects ([`ModelObject`],
//! [`ModelList`]). The Responses API is emulated over chat ([`responses`]).

mod completion_json;
mod completions;
mod embeddings;
mod error;
mod model_swap;
mod models;
mod parse;
pub mod responses;

pub use completion_json::ChatCompletionJson;
pub use completions::{
    CompletionChoice, CompletionPrompt, CompletionRequest, TextCompletion, parse_completion_request,
};
pub use embeddings::{parse_embeddings_request, parse_embeddings_request_with_source};
pub use error::{ErrorBody, ErrorDetail, error_type_for_status};
pub use model_swap::with_model;
pub use models::{ModelList, ModelObject};
pub use parse::{RequestError, parse_chat_request, parse_chat_request_with_source};
