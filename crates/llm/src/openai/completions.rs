//! The legacy Completions API (`POST /v1/completions`), emulated over chat.
//!
//! The prompt becomes one user message; the answer's text becomes
//! `choices[].text` of a `text_completion` object (whole, or one object per
//! stream chunk). Sampling fields shared with chat (`max_tokens`,
//! `temperature`, `top_p`, `n`, `stop`, `seed`, `user`, `stream`,
//! `stream_options`, and untyped ones such as `presence_penalty`) carry
//! over. What chat cannot express is refused with a 400 naming it: several
//! prompts, token-array prompts, `suffix`, `echo`, `logprobs`, `best_of` > 1.
//! Unlike OpenAI's 16, there is no default `max_tokens`: the provider's
//! applies.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::parse::{RequestError, object_with_model, serde_error};
use crate::chat::{
    ChatChunk, ChatRequest, ChatResponse, Extra, FinishReason, Message, Role, Stop, StreamOptions,
};
use crate::usage::Usage;

/// A `POST /v1/completions` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletionRequest {
    /// The public model name.
    pub model: String,
    /// The prompt.
    pub prompt: CompletionPrompt,
    /// Completion token cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Number of choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    /// Sampling seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// The end user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Stream the answer as SSE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Stream settings (`include_usage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Fields not typed here, passed on to the chat request.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The `prompt`: a text, or an array of texts (only one is supported).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CompletionPrompt {
    /// One prompt.
    Text(String),
    /// Prompts; the gateway takes arrays of exactly one.
    Texts(Vec<String>),
}

/// Fields of the legacy API chat has no equivalent for, refused when set
/// to anything but their neutral value.
const REFUSED: [&str; 4] = ["suffix", "echo", "logprobs", "best_of"];

/// Parse and validate a Completions body.
pub fn parse_completion_request(body: &[u8]) -> Result<CompletionRequest, RequestError> {
    let value = object_with_model(body)?;
    match value.get("prompt") {
        None | Some(Value::Null) => return Err(RequestError::missing("prompt")),
        Some(Value::String(_)) => {}
        Some(Value::Array(items)) => {
            if items.len() != 1 {
                return Err(unsupported(
                    "prompt",
                    "exactly one prompt per request is supported (completions are emulated over chat)",
                ));
            }
            if !items.iter().all(Value::is_string) {
                return Err(unsupported(
                    "prompt",
                    "token-array prompts are not supported (completions are emulated over chat)",
                ));
            }
        }
        Some(other) => {
            return Err(RequestError::invalid_type(
                "prompt",
                "a string or an array of strings",
                other,
            ));
        }
    }
    for name in REFUSED {
        let neutral = match value.get(name) {
            None | Some(Value::Null | Value::Bool(false)) => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(Value::Number(n)) => name == "best_of" && n.as_u64() == Some(1),
            Some(_) => false,
        };
        if !neutral {
            return Err(unsupported(
                name,
                "not supported by this gateway (completions are emulated over chat)",
            ));
        }
    }
    let request: CompletionRequest =
        serde_path_to_error::deserialize(value).map_err(|e| serde_error(&e))?;
    if request.stream_options.is_some() && !request.is_stream() {
        return Err(RequestError::invalid_value(
            "stream_options",
            "only allowed when 'stream' is true.",
        ));
    }
    Ok(request)
}

fn unsupported(param: &str, why: &str) -> RequestError {
    RequestError {
        message: format!("Unsupported value for '{param}': {why}."),
        param: Some(param.to_owned()),
        code: Some("unsupported_value"),
    }
}

impl CompletionRequest {
    /// Whether the client asked for a stream.
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// The prompt text.
    pub fn prompt_text(&self) -> &str {
        match &self.prompt {
            CompletionPrompt::Text(t) => t,
            CompletionPrompt::Texts(ts) => ts.first().map_or("", String::as_str),
        }
    }

    /// The equivalent chat request: the prompt as the one user message.
    pub fn to_chat(&self) -> ChatRequest {
        let mut chat = ChatRequest::new(
            self.model.clone(),
            vec![Message::text(Role::User, self.prompt_text())],
        );
        chat.max_tokens = self.max_tokens;
        chat.temperature = self.temperature;
        chat.top_p = self.top_p;
        chat.n = self.n;
        chat.stop.clone_from(&self.stop);
        chat.seed = self.seed;
        chat.user.clone_from(&self.user);
        chat.stream = self.stream;
        chat.stream_options.clone_from(&self.stream_options);
        chat.extra.clone_from(&self.extra);
        chat
    }
}

/// A `text_completion` object: a whole answer, or one stream chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextCompletion {
    /// `cmpl-...`.
    pub id: String,
    /// Always `text_completion`.
    pub object: String,
    /// Unix seconds.
    pub created: u64,
    /// The public model name.
    pub model: String,
    /// One per choice (empty on a stream's usage-only chunk).
    pub choices: Vec<CompletionChoice>,
    /// Tokens used (whole answers, and a stream's last chunk when asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// The backend configuration, when the provider reported one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
}

/// One choice of a [`TextCompletion`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletionChoice {
    /// The text (a piece of it in a stream chunk).
    pub text: String,
    /// The choice's index.
    pub index: u32,
    /// Always `null` (log probabilities are not emulated).
    pub logprobs: Option<Value>,
    /// Why generation stopped; `null` until the choice's last chunk.
    pub finish_reason: Option<FinishReason>,
}

impl TextCompletion {
    /// The legacy shape of a whole chat answer.
    pub fn from_chat(answer: &ChatResponse) -> TextCompletion {
        TextCompletion {
            id: answer.id.clone(),
            object: "text_completion".to_owned(),
            created: answer.created,
            model: answer.model.clone(),
            choices: answer
                .choices
                .iter()
                .map(|c| CompletionChoice {
                    text: c.message.content.clone().unwrap_or_default(),
                    index: c.index,
                    logprobs: None,
                    finish_reason: c.finish_reason,
                })
                .collect(),
            usage: answer.usage.clone(),
            system_fingerprint: answer.system_fingerprint.clone(),
        }
    }

    /// The legacy shape of a chat stream chunk. `None` for a chunk with
    /// nothing to say in it (a role-only first chunk, empty text).
    pub fn from_chunk(chunk: &ChatChunk) -> Option<TextCompletion> {
        let choices: Vec<CompletionChoice> = chunk
            .choices
            .iter()
            .filter(|c| {
                c.delta.content.as_deref().is_some_and(|t| !t.is_empty())
                    || c.finish_reason.is_some()
            })
            .map(|c| CompletionChoice {
                text: c.delta.content.clone().unwrap_or_default(),
                index: c.index,
                logprobs: None,
                finish_reason: c.finish_reason,
            })
            .collect();
        if choices.is_empty() && chunk.usage.is_none() {
            return None;
        }
        Some(TextCompletion {
            id: chunk.id.clone(),
            object: "text_completion".to_owned(),
            created: chunk.created,
            model: chunk.model.clone(),
            choices,
            usage: chunk.usage.clone(),
            system_fingerprint: chunk.system_fingerprint.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_becomes_one_user_message() {
        let r = parse_completion_request(
            br#"{"model":"m","prompt":["Say hi"],"max_tokens":5,"stop":"\n","presence_penalty":0.5}"#,
        )
        .unwrap();
        let chat = r.to_chat();
        assert_eq!(chat.messages.len(), 1);
        assert_eq!(chat.messages[0].text_content(), "Say hi");
        assert_eq!(chat.max_tokens, Some(5));
        assert_eq!(
            chat.extra.get("presence_penalty"),
            Some(&serde_json::json!(0.5))
        );
    }

    #[test]
    fn what_chat_cannot_do_is_refused() {
        let param = |body: &str| parse_completion_request(body.as_bytes()).unwrap_err().param;
        assert_eq!(param(r#"{"model":"m"}"#).as_deref(), Some("prompt"));
        assert_eq!(
            param(r#"{"model":"m","prompt":["a","b"]}"#).as_deref(),
            Some("prompt")
        );
        assert_eq!(
            param(r#"{"model":"m","prompt":[1,2]}"#).as_deref(),
            Some("prompt")
        );
        assert_eq!(
            param(r#"{"model":"m","prompt":"a","echo":true}"#).as_deref(),
            Some("echo")
        );
        assert_eq!(
            param(r#"{"model":"m","prompt":"a","best_of":2}"#).as_deref(),
            Some("best_of")
        );
        assert!(
            parse_completion_request(br#"{"model":"m","prompt":"a","best_of":1,"echo":false}"#)
                .is_ok()
        );
    }
}
