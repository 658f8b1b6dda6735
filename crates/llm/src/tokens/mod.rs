//! Token counts with OpenAI's BPE vocabularies (tiktoken-rs).
//!
//! Provider-reported usage is the truth; these counts are what the gateway
//! knows *before* a call (context-window checks, limit reservations) and
//! when a stream is cut before its usage chunk.
//!
//! Vocabulary: `o200k_base` for the gpt-4o, gpt-4.1, gpt-4.5, gpt-5,
//! chatgpt-4o and o-series (o1, o3, o4…) families; `cl100k_base` for older
//! OpenAI chat models and, as an *estimate*, for every non-OpenAI model
//! (Claude, Gemini, Llama, Mistral… use their own tokenizers, which typically
//! land within ±15 % of cl100k on English). tiktoken-rs embeds both
//! vocabularies in the binary (`include_str!`); nothing is downloaded at
//! build or run time. Each encoder is built once, on first use, behind a
//! [`OnceLock`]; building one takes tens of milliseconds, counting a typical
//! request a few microseconds (see `benches/tokens.rs`).
//!
//! Counts are memoised per text ([`cache`]): chat clients resend the whole
//! conversation every turn and the same system prompt on every call, so most
//! of a prompt's texts were counted before, and looking one up costs a hash
//! of its bytes instead of a regex-driven BPE pass (~20× the instructions on
//! a short message).
//!
//! Chat overhead follows OpenAI's cookbook ("How to count tokens with
//! tiktoken", `num_tokens_from_messages`), which matches the API's reported
//! `prompt_tokens` for gpt-3.5-turbo-0125, gpt-4-0613 and gpt-4o(-mini):
//! - every message costs [`TOKENS_PER_MESSAGE`] (3) plus the tokens of its
//!   role, content and — when set — name, plus [`TOKENS_PER_NAME`] (1);
//! - every prompt costs [`REPLY_PRIMER`] (3) for `<|start|>assistant<|message|>`.
//!
//! Approximations (not published by OpenAI; documented so they can be
//! tuned):
//! - tool definitions follow the cookbook's `num_tokens_for_tools`: per
//!   function 7 (o200k) or 10 (cl100k) plus the tokens of
//!   `name:description` (one trailing `.` dropped); when it has properties,
//!   3, then per property 3 plus the tokens of `key:type:description`, and
//!   for an enum −3 plus per item 3 and its tokens; 12 once for the whole
//!   tool list. Nested objects are counted by the JSON text of the
//!   property's schema in place of its type;
//! - assistant `tool_calls`: per call, the tokens of the name and the
//!   argument text plus [`TOKENS_PER_TOOL_CALL`] (3) for the wrapper;
//! - a `json_schema` response format: the tokens of the schema's JSON text;
//! - images: see [`image`] (OpenAI's tile rule when the size and detail are
//!   known, else [`image::UNKNOWN_IMAGE_TOKENS`]); other non-text parts
//!   (audio, files) count nothing.

mod cache;
pub mod image;

use std::sync::OnceLock;

use tiktoken_rs::CoreBPE;

use crate::chat::{ChatRequest, ContentPart, Message, MessageContent, ResponseFormat, Tool};

/// Tokens added per message for `<|start|>{role}\n … <|end|>\n`.
pub const TOKENS_PER_MESSAGE: u64 = 3;
/// Tokens added when a message carries a `name`.
pub const TOKENS_PER_NAME: u64 = 1;
/// Tokens priming every reply: `<|start|>assistant<|message|>`.
pub const REPLY_PRIMER: u64 = 3;
/// Tokens added per assistant tool call for its wrapper (approximation).
pub const TOKENS_PER_TOOL_CALL: u64 = 3;

/// A BPE vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// gpt-4, gpt-3.5-turbo and the default for other providers' models.
    Cl100kBase,
    /// gpt-4o, gpt-4.1, gpt-5 and the o-series.
    O200kBase,
}

/// The vocabulary used to count for `model` (a provider model id, with or
/// without a `provider/` or `ft:` prefix). Unknown and non-OpenAI models get
/// `cl100k_base`.
pub fn encoding_for_model(model: &str) -> Encoding {
    let m = model.rsplit('/').next().unwrap_or(model);
    let m = m.strip_prefix("ft:").unwrap_or(m);
    let o200k = [
        "gpt-4o",
        "gpt-4.1",
        "gpt-4.5",
        "gpt-5",
        "chatgpt-4o",
        "gpt-oss",
    ];
    if o200k.iter().any(|p| m.starts_with(p)) || is_o_series(m) {
        Encoding::O200kBase
    } else {
        Encoding::Cl100kBase
    }
}

/// `o1`, `o3-mini`, `o4-mini-2025-04-16`…: `o` then a digit.
fn is_o_series(m: &str) -> bool {
    let mut chars = m.chars();
    chars.next() == Some('o') && chars.next().is_some_and(|c| c.is_ascii_digit())
}

fn encoder(encoding: Encoding) -> Option<&'static CoreBPE> {
    static CL100K: OnceLock<Option<CoreBPE>> = OnceLock::new();
    static O200K: OnceLock<Option<CoreBPE>> = OnceLock::new();
    match encoding {
        Encoding::Cl100kBase => CL100K.get_or_init(|| tiktoken_rs::cl100k_base().ok()),
        Encoding::O200kBase => O200K.get_or_init(|| tiktoken_rs::o200k_base().ok()),
    }
    .as_ref()
}

/// Build both encoders now rather than on the first request. Optional: the
/// first count builds its encoder anyway.
pub fn warm_up() {
    let _ = encoder(Encoding::Cl100kBase);
    let _ = encoder(Encoding::O200kBase);
}

/// Tokens of `text` in `encoding`. Special-token text such as
/// `<|endoftext|>` is counted as ordinary text, as the API does for user
/// content. Should an embedded vocabulary ever fail to load, falls back to
/// one token per 4 bytes (rounded up) rather than failing the request.
pub fn count_with(encoding: Encoding, text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    cache::get_or_count(encoding, text, || match encoder(encoding) {
        Some(bpe) => bpe.encode_ordinary(text).len() as u64,
        None => (text.len() as u64).div_ceil(4),
    })
}

/// Tokens of `text` for `model`.
pub fn count_text_tokens(text: &str, model: &str) -> u64 {
    count_with(encoding_for_model(model), text)
}

/// Estimated completion tokens of generated `text` (a cut stream's received
/// text, or an answer without usage): the text's own tokens, no overhead.
pub fn count_completion_tokens(text: &str, model: &str) -> u64 {
    count_text_tokens(text, model)
}

/// Prompt tokens of `request` when sent to `model`: messages with their
/// overheads, tool definitions, a JSON-schema response format and the reply
/// primer.
pub fn count_prompt_tokens(request: &ChatRequest, model: &str) -> u64 {
    let encoding = encoding_for_model(model);
    let messages: u64 = request
        .messages
        .iter()
        .map(|m| message_tokens_with(encoding, m, model))
        .sum();
    let format = match &request.response_format {
        Some(ResponseFormat::JsonSchema { json_schema }) => json_schema
            .schema
            .as_ref()
            .map(|s| count_with(encoding, &s.to_string()))
            .unwrap_or(0),
        _ => 0,
    };
    REPLY_PRIMER + messages + tools_tokens(encoding, request.tools()) + format
}

/// Tokens of one message for `model`, overhead included.
pub fn count_message_tokens(message: &Message, model: &str) -> u64 {
    message_tokens_with(encoding_for_model(model), message, model)
}

fn message_tokens_with(encoding: Encoding, message: &Message, model: &str) -> u64 {
    let mut tokens = TOKENS_PER_MESSAGE + count_with(encoding, message.role.as_str());
    match &message.content {
        None => {}
        Some(MessageContent::Text(text)) => tokens += count_with(encoding, text),
        Some(MessageContent::Parts(parts)) => {
            for part in parts {
                tokens += match part {
                    ContentPart::Text { text, .. } => count_with(encoding, text),
                    ContentPart::ImageUrl { image_url, .. } => {
                        image::image_tokens(model, &image_url.url, image_url.detail.as_deref())
                    }
                    ContentPart::Other(_) => 0,
                };
            }
        }
    }
    if let Some(name) = &message.name {
        tokens += count_with(encoding, name) + TOKENS_PER_NAME;
    }
    for call in message.tool_calls.iter().flatten() {
        tokens += TOKENS_PER_TOOL_CALL
            + count_with(encoding, &call.function.name)
            + count_with(encoding, &call.function.arguments);
    }
    tokens
}

/// The cookbook's tool-definition rule (see the module docs).
fn tools_tokens(encoding: Encoding, tools: &[Tool]) -> u64 {
    if tools.is_empty() {
        return 0;
    }
    let func_init: i64 = match encoding {
        Encoding::O200kBase => 7,
        Encoding::Cl100kBase => 10,
    };
    let count = |s: &str| i64::try_from(count_with(encoding, s)).unwrap_or(i64::MAX);
    let mut total: i64 = 12; // func_end, once per list
    for tool in tools {
        let f = &tool.function;
        let desc = f.description.as_deref().unwrap_or("");
        let desc = desc.strip_suffix('.').unwrap_or(desc);
        total += func_init + count(&format!("{}:{desc}", f.name));
        let props = f
            .parameters
            .as_ref()
            .and_then(|p| p.get("properties"))
            .and_then(|p| p.as_object());
        let Some(props) = props.filter(|p| !p.is_empty()) else {
            continue;
        };
        total += 3; // prop_init
        for (key, schema) in props {
            total += 3; // prop_key
            let kind = match schema.get("type") {
                Some(serde_json::Value::String(s)) => s.clone(),
                _ => schema.to_string(),
            };
            let desc = schema
                .get("description")
                .and_then(|d| d.as_str())
                .unwrap_or("");
            let desc = desc.strip_suffix('.').unwrap_or(desc);
            if let Some(items) = schema.get("enum").and_then(|e| e.as_array()) {
                total -= 3; // enum_init
                for item in items {
                    let text = match item {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    total += 3 + count(&text);
                }
            }
            total += count(&format!("{key}:{kind}:{desc}"));
        }
    }
    u64::try_from(total).unwrap_or(0)
}

#[cfg(test)]
mod tests;
