//! Anthropic Messages API shapes: the request a client sends, the message it
//! gets back, and the stream events.
//!
//! Request types are typed as far as translation needs; unknown top-level
//! fields ride in `extra`. Inside blocks, the `cache_control` (a
//! prompt-caching breakpoint) of a text, image or tool result block is
//! kept, so a call that ends at Anthropic still caches; other unknown
//! fields (`citations`) are ignored, since no other provider can act on
//! them. A block of a type (or source) translation does not read is kept
//! whole instead ([`Kept::Native`]), for Anthropic.

use serde::de::{self, DeserializeOwned, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::chat::Extra;

/// `POST /v1/messages` (and, without `max_tokens`, `count_tokens`) body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagesRequest {
    /// The model name the client asked for.
    pub model: String,
    /// The conversation, alternating `user` and `assistant`.
    pub messages: Vec<InputMessage>,
    /// Output token cap; required by `messages`, absent in `count_tokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// System prompt: a string or text blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<TextOrBlocks<SystemBlock>>,
    /// Tools the model may call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<ToolDefinition>>,
    /// Whether and which tool must be called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Sequences that end generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    /// Sampling temperature, 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling mass, 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Sample only from the top K options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    /// Request metadata; only `user_id` is read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Extended thinking configuration, carried whole
    /// (`{"type":"enabled","budget_tokens":N}`, `{"type":"disabled"}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<Value>,
    /// Whether to answer as a server-sent event stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Fields not typed here (`service_tier`, `container`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Request metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// An opaque id of the end user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// Author of an input message. Anthropic has no `system` role: the system
/// prompt is the top-level `system` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputRole {
    /// The end user (also carries tool results).
    User,
    /// The model (also carries tool calls).
    Assistant,
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputMessage {
    /// Author.
    pub role: InputRole,
    /// A string (one text block) or blocks.
    pub content: TextOrBlocks<MessageBlock>,
}

/// A string, or a list of blocks: the two forms of `system`, message
/// `content` and tool result `content`.
///
/// Deserialized by hand rather than as an untagged enum so an error inside a
/// block keeps its path (`messages.0.content.1`) and its real message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum TextOrBlocks<T> {
    /// Plain text.
    Text(String),
    /// Typed blocks.
    Blocks(Vec<T>),
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for TextOrBlocks<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: DeserializeOwned> Visitor<'de> for V<T> {
            type Value = TextOrBlocks<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or an array of content blocks")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(TextOrBlocks::Text(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(TextOrBlocks::Text(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut blocks = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(block) = seq.next_element()? {
                    blocks.push(block);
                }
                Ok(TextOrBlocks::Blocks(blocks))
            }
        }
        deserializer.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A system prompt block: only text exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SystemBlock {
    /// `{"type":"text","text":...}`
    Text {
        /// The text.
        text: String,
        /// A prompt-caching breakpoint, kept as sent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
}

/// A block as the client sent it: one the gateway reads and translates
/// (`T`), or any other, kept whole for Anthropic.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Kept<T> {
    /// A block of a type (and, for images and documents, a source) the
    /// gateway translates.
    Read(T),
    /// Any other block, `type` included: `search_result`, a `document` by
    /// URL or by Files API id, an `image` by file id, and blocks newer than
    /// this gateway. Only Anthropic reads them: they pass to an Anthropic
    /// deployment as sent, and any other provider refuses them naming the
    /// part.
    Native(Extra),
}

/// A block of a message's content.
pub type MessageBlock = Kept<InputBlock>;

/// A block of a tool result's content.
pub type ResultBlock = Kept<ToolResultBlock>;

/// Which blocks a typed block enum reads; any other is [`Kept::Native`].
pub trait ReadBlocks {
    /// Block types read whatever their members.
    const TYPES: &'static [&'static str];

    /// Whether `block` is read rather than kept whole. A block without a
    /// `type`, or an image or document without a source, is read, so that it
    /// is refused with the field named rather than passed on.
    fn reads(block: &Extra) -> bool {
        let source = || {
            block
                .get("source")
                .and_then(|s| s.get("type"))
                .and_then(Value::as_str)
        };
        match block.get("type").and_then(Value::as_str) {
            None => true,
            Some("image") => matches!(source(), None | Some("base64" | "url")),
            Some("document") => matches!(source(), None | Some("base64" | "text")),
            Some(t) => Self::TYPES.contains(&t),
        }
    }
}

impl ReadBlocks for InputBlock {
    const TYPES: &'static [&'static str] = &[
        "text",
        "tool_use",
        "tool_result",
        "thinking",
        "redacted_thinking",
    ];
}

impl ReadBlocks for ToolResultBlock {
    const TYPES: &'static [&'static str] = &["text"];
}

/// By hand: a block the gateway reads keeps its exact error (a text block
/// whose `text` is a number is refused, not passed on), while a block of
/// another type is kept whole.
impl<'de, T: ReadBlocks + DeserializeOwned> Deserialize<'de> for Kept<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let block = Extra::deserialize(deserializer)?;
        if !T::reads(&block) {
            return Ok(Kept::Native(block));
        }
        T::deserialize(Value::Object(block))
            .map(Kept::Read)
            .map_err(de::Error::custom)
    }
}

/// A block of an input message the gateway reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InputBlock {
    /// Text.
    Text {
        /// The text.
        text: String,
        /// A prompt-caching breakpoint, kept as sent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
    /// An image, inline or by URL.
    Image {
        /// Where the image is.
        source: ImageSource,
        /// A prompt-caching breakpoint, kept as sent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
    /// A document (PDF or plain text).
    Document {
        /// Where the document is.
        source: DocumentSource,
        /// A prompt-caching breakpoint, kept as sent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
    /// A tool call the assistant made (assistant messages).
    ToolUse {
        /// Call id; the matching `tool_result` repeats it.
        id: String,
        /// Tool name.
        name: String,
        /// Arguments object.
        input: Value,
    },
    /// The result of a tool call (user messages).
    ToolResult {
        /// The `tool_use` block answered.
        tool_use_id: String,
        /// Result: text, or text, image, document and other blocks;
        /// absent means empty.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<TextOrBlocks<ResultBlock>>,
        /// Whether the tool failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        is_error: Option<bool>,
        /// A prompt-caching breakpoint, kept as sent (agents mark the
        /// latest tool result).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
    /// Earlier extended thinking, echoed back by the client. Only Anthropic
    /// models can read it; translation drops it.
    Thinking {},
    /// Earlier redacted thinking; dropped like [`InputBlock::Thinking`].
    RedactedThinking {},
}

/// Where an image is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ImageSource {
    /// Inline bytes.
    Base64 {
        /// `image/jpeg`, `image/png`, `image/gif` or `image/webp`.
        media_type: String,
        /// Base64 of the bytes.
        data: String,
    },
    /// A URL the provider fetches.
    Url {
        /// `https:` URL.
        url: String,
    },
}

/// Where a document is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DocumentSource {
    /// Inline PDF bytes.
    Base64 {
        /// `application/pdf`.
        media_type: String,
        /// Base64 of the bytes.
        data: String,
    },
    /// Inline plain text.
    Text {
        /// `text/plain`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        media_type: Option<String>,
        /// The text.
        data: String,
    },
}

/// A block of a tool result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolResultBlock {
    /// Text.
    Text {
        /// The text.
        text: String,
        /// A prompt-caching breakpoint; it moves onto the result.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
    /// An image.
    Image {
        /// Where the image is.
        source: ImageSource,
        /// A prompt-caching breakpoint, kept on the image.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
    /// A document (PDF or plain text).
    Document {
        /// Where the document is.
        source: DocumentSource,
        /// A prompt-caching breakpoint, kept on the document.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
}

/// A tool offered to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDefinition {
    /// Tool name.
    pub name: String,
    /// What the tool does, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the input object; required for client tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<Value>,
    /// Absent or `custom` for client tools; server tools
    /// (`web_search_20250305`, `bash_20250124`, ...) name their version.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Fields not typed here (`cache_control`, server tool settings).
    #[serde(flatten)]
    pub extra: Extra,
}

/// How the model must use tools.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides.
    Auto {
        /// At most one tool call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// The model must call some tool.
    Any {
        /// Exactly one tool call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// The model must call this tool.
    Tool {
        /// Tool name.
        name: String,
        /// Exactly one tool call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// The model must not call tools.
    None {},
}

impl ToolChoice {
    /// Whether the client asked for at most one call.
    pub fn disables_parallel(&self) -> bool {
        match self {
            ToolChoice::Auto {
                disable_parallel_tool_use,
            }
            | ToolChoice::Any {
                disable_parallel_tool_use,
            }
            | ToolChoice::Tool {
                disable_parallel_tool_use,
                ..
            } => disable_parallel_tool_use.unwrap_or(false),
            ToolChoice::None {} => false,
        }
    }
}

/// The `type` of a message object.
pub const MESSAGE_TYPE: &str = "message";

/// A whole answer (`"type": "message"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageResponse {
    /// `msg_...`.
    pub id: String,
    /// Always `message`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Always `assistant`.
    pub role: String,
    /// The model name; the gateway sets the public name the client used.
    pub model: String,
    /// Generated blocks; empty in `message_start`.
    pub content: Vec<ResponseBlock>,
    /// Why generation stopped; `null` in `message_start`. Always serialized.
    pub stop_reason: Option<StopReason>,
    /// The stop sequence that matched, when `stop_reason` is
    /// `stop_sequence`. Always serialized.
    pub stop_sequence: Option<String>,
    /// Token counts.
    pub usage: MessageUsage,
}

/// A generated block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseBlock {
    /// Text.
    Text {
        /// The text (empty in `content_block_start`).
        text: String,
    },
    /// A tool call.
    ToolUse {
        /// Call id.
        id: String,
        /// Tool name.
        name: String,
        /// Arguments (`{}` in `content_block_start`).
        input: Value,
    },
}

/// Why the model stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// A natural stopping point.
    EndTurn,
    /// `max_tokens` was reached.
    MaxTokens,
    /// One of `stop_sequences` was generated.
    StopSequence,
    /// The model called tools.
    ToolUse,
    /// A long-running turn was paused (server tools).
    PauseTurn,
    /// Output was withheld by safety systems.
    Refusal,
}

/// Token counts, Anthropic's convention: `input_tokens` excludes cached
/// tokens; `cache_read_input_tokens` and `cache_creation_input_tokens` are
/// added to it, not subsets of it (the opposite of OpenAI's).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageUsage {
    /// Uncached input tokens.
    pub input_tokens: u64,
    /// Generated tokens.
    pub output_tokens: u64,
    /// Input tokens written to the prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_tokens: Option<u64>,
    /// Input tokens read from the prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<u64>,
    /// The cache writes by lifetime (they sum to
    /// `cache_creation_input_tokens`), billed differently.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation: Option<CacheCreation>,
}

/// Input tokens written to the prompt cache, by the entry's lifetime.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheCreation {
    /// Written to one-hour entries.
    pub ephemeral_1h_input_tokens: u64,
    /// Written to five-minute entries.
    pub ephemeral_5m_input_tokens: u64,
}

/// One event of a streamed answer. The SSE `event:` field repeats `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    /// First event: the message with empty content.
    MessageStart {
        /// The message so far.
        message: MessageResponse,
    },
    /// A block begins.
    ContentBlockStart {
        /// Position in `content`.
        index: u32,
        /// The block, empty.
        content_block: ResponseBlock,
    },
    /// A block grows.
    ContentBlockDelta {
        /// Position in `content`.
        index: u32,
        /// The increment.
        delta: BlockDelta,
    },
    /// A block is complete.
    ContentBlockStop {
        /// Position in `content`.
        index: u32,
    },
    /// Message-level changes at the end: stop reason and final usage.
    MessageDelta {
        /// Stop reason and sequence.
        delta: MessageDeltaBody,
        /// Cumulative counts.
        usage: DeltaUsage,
    },
    /// Last event of a complete stream.
    MessageStop,
    /// Keep-alive.
    Ping,
    /// A failure after the stream started; ends the stream.
    Error {
        /// What went wrong.
        error: super::ErrorDetail,
    },
}

impl StreamEvent {
    /// The event name, as in the SSE `event:` field.
    pub fn name(&self) -> &'static str {
        match self {
            StreamEvent::MessageStart { .. } => "message_start",
            StreamEvent::ContentBlockStart { .. } => "content_block_start",
            StreamEvent::ContentBlockDelta { .. } => "content_block_delta",
            StreamEvent::ContentBlockStop { .. } => "content_block_stop",
            StreamEvent::MessageDelta { .. } => "message_delta",
            StreamEvent::MessageStop => "message_stop",
            StreamEvent::Ping => "ping",
            StreamEvent::Error { .. } => "error",
        }
    }
}

/// An increment of a block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BlockDelta {
    /// More text.
    TextDelta {
        /// The piece.
        text: String,
    },
    /// More of a tool call's input, as JSON text.
    InputJsonDelta {
        /// The piece.
        partial_json: String,
    },
}

/// The `delta` of `message_delta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageDeltaBody {
    /// Why generation stopped. Always serialized.
    pub stop_reason: Option<StopReason>,
    /// The stop sequence that matched. Always serialized.
    pub stop_sequence: Option<String>,
}

/// The `usage` of `message_delta`: cumulative counts. `output_tokens` is
/// always present; input counts only when the provider reported them (they
/// then correct the estimate sent in `message_start`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeltaUsage {
    /// Generated tokens so far.
    pub output_tokens: u64,
    /// Uncached input tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    /// Input tokens written to the prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_tokens: Option<u64>,
    /// Input tokens read from the prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<u64>,
}

/// `POST /v1/messages/count_tokens` answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountTokensResponse {
    /// Input tokens of the request, tools and system prompt included.
    pub input_tokens: u64,
}
