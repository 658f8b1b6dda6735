//! Conversation messages and their content parts.

use serde::{Deserialize, Serialize};

use super::tools::ToolCall;
use super::{CACHE_CONTROL, Extra};

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Instructions from the application (older models).
    System,
    /// Instructions from the application (newer models prefer this name).
    Developer,
    /// The end user.
    User,
    /// The model.
    Assistant,
    /// The result of a tool call, answering an assistant's `tool_calls`.
    Tool,
    /// Deprecated predecessor of `tool`; accepted and passed through.
    Function,
}

impl Role {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::Developer => "developer",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
            Role::Function => "function",
        }
    }
}

/// One message of the conversation.
///
/// One struct for every role rather than an enum per role: providers differ
/// in which fields each role may carry, and a flat shape passes the unusual
/// combinations through instead of refusing them here. Role-specific rules
/// (a tool message needs `tool_call_id`) are checked by the dialect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Author.
    pub role: Role,
    /// Text or parts; absent (or `null`) on an assistant message that only
    /// calls tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<MessageContent>,
    /// Optional participant name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Tool calls the assistant made (assistant messages only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    /// The call this message answers (tool messages only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// Fields not typed here (`refusal`, `audio`, provider extensions).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Message {
    /// A message with plain text content.
    pub fn text(role: Role, text: impl Into<String>) -> Message {
        Message {
            role,
            content: Some(MessageContent::Text(text.into())),
            name: None,
            tool_calls: None,
            tool_call_id: None,
            extra: Extra::new(),
        }
    }

    /// The text of the message: the string content, or its text parts joined
    /// with newlines. Images and other parts contribute nothing.
    pub fn text_content(&self) -> String {
        match &self.content {
            None => String::new(),
            Some(content) => content.text(),
        }
    }
}

/// Message content: a plain string or a list of typed parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum MessageContent {
    /// Plain text.
    Text(String),
    /// Multi-part content (text, images, audio, files).
    Parts(Vec<ContentPart>),
}

/// By hand rather than `#[serde(untagged)]`: an untagged enum copies every
/// value into serde's intermediate tree and decodes it again from there,
/// for every message of every request, where the JSON type alone decides
/// the variant. Errors also improve: a bad part is reported at its own path
/// instead of as "did not match any variant".
impl<'de> Deserialize<'de> for MessageContent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Content;
        impl<'de> serde::de::Visitor<'de> for Content {
            type Value = MessageContent;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or an array of content parts")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<MessageContent, E> {
                Ok(MessageContent::Text(text.to_owned()))
            }

            fn visit_string<E: serde::de::Error>(self, text: String) -> Result<MessageContent, E> {
                Ok(MessageContent::Text(text))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                parts: A,
            ) -> Result<MessageContent, A::Error> {
                let parts = serde::de::value::SeqAccessDeserializer::new(parts);
                Vec::<ContentPart>::deserialize(parts).map(MessageContent::Parts)
            }
        }
        d.deserialize_any(Content)
    }
}

impl MessageContent {
    /// The text parts, joined with newlines.
    pub fn text(&self) -> String {
        match self {
            MessageContent::Text(text) => text.clone(),
            MessageContent::Parts(parts) => {
                let texts: Vec<&str> = parts
                    .iter()
                    .filter_map(|part| match part {
                        ContentPart::Text { text, .. } => Some(text.as_str()),
                        _ => None,
                    })
                    .collect();
                texts.join("\n")
            }
        }
    }
}

/// One part of multi-part content, discriminated by `type`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    /// `{"type":"text","text":...}`
    Text {
        /// The text.
        text: String,
        /// Members not typed here (`cache_control` for servers that
        /// honour it), passed on to providers that speak OpenAI's format.
        #[serde(flatten)]
        extra: Extra,
    },
    /// `{"type":"image_url","image_url":{"url":...,"detail":...}}`
    ImageUrl {
        /// Where the image is (an `https:` or `data:` URL).
        image_url: ImageUrl,
        /// Members of the part beside `image_url` (`cache_control`, as on a
        /// text part), passed on to providers that speak OpenAI's format.
        /// A breakpoint belongs here rather than inside `image_url`: that
        /// object describes the image, and OpenAI-compatible servers look
        /// for `cache_control` on the part, as they do on a text part.
        #[serde(flatten)]
        extra: Extra,
    },
    /// Any other part (`input_audio`, `file`, ...), kept whole, `type`
    /// included, so it passes through.
    #[serde(untagged)]
    Other(Extra),
}

impl ContentPart {
    /// A text part with no other members.
    pub fn text(text: impl Into<String>) -> ContentPart {
        ContentPart::Text {
            text: text.into(),
            extra: Extra::new(),
        }
    }

    /// The part's prompt-caching breakpoint ([`CACHE_CONTROL`]), if it
    /// marks one, on a part of any type. `null` marks none: SDKs that
    /// write every field of a typed part send an unset one that way.
    pub fn cache_control(&self) -> Option<&serde_json::Value> {
        breakpoint(self.members())
    }

    /// Whether the part carries a [`CACHE_CONTROL`] member at all (`null`
    /// included), which a server that refuses the member must not get on a
    /// part of any type.
    pub fn mentions_cache_control(&self) -> bool {
        self.members().contains_key(CACHE_CONTROL)
    }

    /// An inline file (`{"type":"file","file":{"file_data":"data:…;base64,…",
    /// "filename":…}}`, OpenAI's form for PDFs): its media type, its base64
    /// data and its file name. `None` for any other part, and for a file
    /// given by `file_id` (an id only the provider that issued it knows).
    pub fn inline_file(&self) -> Option<InlineFile<'_>> {
        let ContentPart::Other(part) = self else {
            return None;
        };
        if part.get("type").and_then(serde_json::Value::as_str) != Some("file") {
            return None;
        }
        let file = part.get("file")?;
        let url = file.get("file_data")?.as_str()?;
        let (media_type, data) = url.strip_prefix("data:")?.split_once(";base64,")?;
        Some(InlineFile {
            // Parameters (`;name=…`, `;charset=…`) are not the type.
            media_type: media_type.split(';').next().unwrap_or_default().trim(),
            data,
            filename: file.get("filename").and_then(serde_json::Value::as_str),
        })
    }

    /// The part's members beside its typed ones (all of them, `type`
    /// included, for a part of another type).
    fn members(&self) -> &Extra {
        match self {
            ContentPart::Text { extra, .. } | ContentPart::ImageUrl { extra, .. } => extra,
            ContentPart::Other(part) => part,
        }
    }

    /// [`ContentPart::cache_control`] taken off the part.
    pub fn take_cache_control(&mut self) -> Option<serde_json::Value> {
        self.members_mut().remove(CACHE_CONTROL)
    }

    fn members_mut(&mut self) -> &mut Extra {
        match self {
            ContentPart::Text { extra, .. } | ContentPart::ImageUrl { extra, .. } => extra,
            ContentPart::Other(part) => part,
        }
    }
}

/// A file sent inline in a `file` part ([`ContentPart::inline_file`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InlineFile<'a> {
    /// `application/pdf`, `text/plain`, ..., without parameters.
    pub media_type: &'a str,
    /// The bytes, base64-encoded as sent.
    pub data: &'a str,
    /// The client's name for the file, if it gave one.
    pub filename: Option<&'a str>,
}

/// A prompt-caching breakpoint among a part's, a tool's or a request's
/// members: [`CACHE_CONTROL`] unless it is `null`.
pub fn breakpoint(members: &Extra) -> Option<&serde_json::Value> {
    members.get(CACHE_CONTROL).filter(|v| !v.is_null())
}

/// By hand: with the derived form, a `text` or `image_url` part of the
/// wrong shape (`{"type":"text","text":7}`) fell through to
/// [`ContentPart::Other`] and was passed on as it came, where OpenAI
/// refuses it. A known `type` must now have its shape; any other `type`
/// (or none) is kept whole.
impl<'de> Deserialize<'de> for ContentPart {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;

        let mut part = Extra::deserialize(d)?;
        match part.get("type").and_then(serde_json::Value::as_str) {
            Some("text") => match part.remove("text") {
                Some(serde_json::Value::String(text)) => {
                    part.remove("type");
                    Ok(ContentPart::Text { text, extra: part })
                }
                Some(other) => Err(D::Error::custom(format!(
                    "invalid type for the text part's `text`: {}, expected a string",
                    json_kind(&other)
                ))),
                None => Err(D::Error::missing_field("text")),
            },
            Some("image_url") => match part.remove("image_url") {
                Some(value) => {
                    let image_url = ImageUrl::deserialize(value)
                        .map_err(|e| D::Error::custom(format!("in the part's `image_url`: {e}")))?;
                    part.remove("type");
                    Ok(ContentPart::ImageUrl {
                        image_url,
                        extra: part,
                    })
                }
                None => Err(D::Error::missing_field("image_url")),
            },
            _ => Ok(ContentPart::Other(part)),
        }
    }
}

/// A JSON value's kind, as serde names it in its messages.
fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "sequence",
        serde_json::Value::Object(_) => "map",
    }
}

/// An image reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageUrl {
    /// `https:` URL or `data:` URL with base64 content.
    pub url: String,
    /// `auto`, `low` or `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Members not typed here, passed on to providers that speak OpenAI's
    /// format (other adapters read only the URL).
    #[serde(flatten)]
    pub extra: Extra,
}
