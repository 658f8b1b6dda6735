//! Anthropic's wire types: only the fields translation reads or writes.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sy_llm::chat::Extra;

/// `POST /v1/messages` body.
#[derive(Debug, Serialize)]
pub(super) struct MessagesRequest {
    pub model: String,
    pub max_tokens: u32,
    /// One string, or text blocks when one carries a prompt-caching
    /// breakpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<WireContent>,
    pub messages: Vec<WireMessage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<WireTool>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<WireToolChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Anthropic-native parameters passed through (`top_k`, `thinking`).
    #[serde(flatten)]
    pub extra: Extra,
}

/// One turn.
#[derive(Debug, Serialize)]
pub(super) struct WireMessage {
    pub role: &'static str,
    pub content: WireContent,
}

/// A turn's content: a plain string, or blocks.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(super) enum WireContent {
    Text(String),
    Blocks(Vec<Block>),
}

/// A request content block.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum Block {
    Text {
        text: String,
        /// A prompt-caching breakpoint, given on an OpenAI-format text part
        /// (`{"type":"text","text":…,"cache_control":{"type":"ephemeral"}}`,
        /// the form OpenAI-compatible gateways accept) and passed as is.
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
    Image {
        source: ImageSource,
        /// A prompt-caching breakpoint, given on an OpenAI-format image
        /// part beside `image_url`, as on a text part.
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
    /// A PDF or a plain-text document, from an inline `file` part.
    Document {
        source: DocumentSource,
        /// A prompt-caching breakpoint on the `file` part, as on a text part.
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
    ToolResult {
        tool_use_id: String,
        content: WireContent,
        /// A prompt-caching breakpoint: on the result itself, as Anthropic
        /// refuses one inside a result's content.
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<Value>,
    },
    /// A block of Anthropic's own the gateway does not translate
    /// (`search_result`, a document by URL, ...), sent as the client wrote
    /// it.
    #[serde(untagged)]
    Native(Value),
}

impl Block {
    /// Drop the block's prompt-caching breakpoint, of any block type: one
    /// inside a tool result is refused by Anthropic and moves onto the
    /// result instead.
    pub(super) fn clear_breakpoint(&mut self) {
        match self {
            Block::Text { cache_control, .. }
            | Block::Image { cache_control, .. }
            | Block::Document { cache_control, .. }
            | Block::ToolResult { cache_control, .. } => *cache_control = None,
            Block::Native(Value::Object(native)) => {
                native.remove(sy_llm::chat::CACHE_CONTROL);
            }
            Block::ToolUse { .. } | Block::Native(_) => {}
        }
    }
}

/// Where an image comes from.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum ImageSource {
    Base64 { media_type: String, data: String },
    Url { url: String },
}

/// Where a document comes from: PDF bytes, or the text itself.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum DocumentSource {
    Base64 { media_type: String, data: String },
    Text { media_type: String, data: String },
}

/// A tool definition.
#[derive(Debug, Serialize)]
pub(super) struct WireTool {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub input_schema: Value,
    /// A prompt-caching breakpoint after the tool definitions so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<Value>,
}

/// `tool_choice`: `auto`, `any`, `none`, or `tool` with a name.
#[derive(Debug, Serialize)]
pub(super) struct WireToolChoice {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_parallel_tool_use: Option<bool>,
}

/// A whole response.
#[derive(Debug, Deserialize)]
pub(super) struct MessagesResponse {
    pub id: String,
    pub model: String,
    pub content: Vec<ResponseBlock>,
    #[serde(default)]
    pub stop_reason: Option<String>,
    #[serde(default)]
    pub usage: WireUsage,
}

/// A response content block (also the `content_block` of a stream's
/// `content_block_start`).
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum ResponseBlock {
    Text {
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: Value,
    },
    Thinking {
        #[serde(default)]
        thinking: String,
    },
    /// `redacted_thinking`, server tool blocks and whatever comes next.
    #[serde(other)]
    Other,
}

/// Token counts. Anthropic's convention: `input_tokens` excludes the cache
/// reads and writes reported beside it.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct WireUsage {
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
    #[serde(default)]
    pub cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
    /// The writes by lifetime (`ephemeral_5m_input_tokens`,
    /// `ephemeral_1h_input_tokens`), beside their total above.
    #[serde(default)]
    pub cache_creation: Option<WireCacheCreation>,
}

/// Cache writes by lifetime.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct WireCacheCreation {
    #[serde(default)]
    pub ephemeral_1h_input_tokens: Option<u64>,
}

/// A stream event's data, tagged by `type`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum StreamEvent {
    MessageStart {
        message: StartMessage,
    },
    ContentBlockStart {
        index: u32,
        content_block: ResponseBlock,
    },
    ContentBlockDelta {
        index: u32,
        delta: BlockDelta,
    },
    ContentBlockStop {},
    MessageDelta {
        delta: MessageDeltaBody,
        #[serde(default)]
        usage: Option<WireUsage>,
    },
    MessageStop {},
    Ping {},
    Error {
        error: ErrorObject,
    },
    #[serde(other)]
    Unknown,
}

/// The message skeleton of `message_start`.
#[derive(Debug, Deserialize)]
pub(super) struct StartMessage {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub usage: WireUsage,
}

/// A content block increment.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum BlockDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    ThinkingDelta {
        thinking: String,
    },
    /// `signature_delta`, citations and whatever comes next.
    #[serde(other)]
    Other,
}

/// `message_delta`'s `delta`.
#[derive(Debug, Deserialize)]
pub(super) struct MessageDeltaBody {
    #[serde(default)]
    pub stop_reason: Option<String>,
}

/// `{"type":"error","error":{"type","message"}}`, in bodies and streams.
#[derive(Debug, Deserialize)]
pub(super) struct ErrorEnvelope {
    pub error: ErrorObject,
}

/// The error itself.
#[derive(Debug, Deserialize)]
pub(super) struct ErrorObject {
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub message: String,
}
