//! Bedrock Converse wire types: only the fields translation reads or
//! writes. Bedrock content blocks are unions written as single-key objects
//! (`{"text": ...}`, `{"toolUse": {...}}`), which serde's external tagging
//! produces directly.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sy_llm::chat::Extra;

/// `POST /model/{modelId}/converse` (and `converse-stream`) body. The
/// model is in the path, not the body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ConverseRequest {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub system: Vec<SystemBlock>,
    pub messages: Vec<WireMessage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inference_config: Option<InferenceConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_config: Option<ToolConfig>,
    /// Bedrock-native fields passed through (`additionalModelRequestFields`,
    /// `guardrailConfig`, `performanceConfig`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A system prompt block: text, or a prompt-caching checkpoint after the
/// blocks before it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum SystemBlock {
    Text(String),
    CachePoint(CachePoint),
}

/// `{"type": "default"}`, Bedrock's one kind of prompt-caching checkpoint,
/// with the lifetime the client asked for (`"ttl": "5m"` or `"1h"`); without
/// one Bedrock keeps the entry five minutes.
#[derive(Debug, Serialize)]
pub(super) struct CachePoint {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<&'static str>,
}

/// One turn: `user` or `assistant`.
#[derive(Debug, Serialize)]
pub(super) struct WireMessage {
    pub role: &'static str,
    pub content: Vec<Block>,
}

/// A request content block.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum Block {
    Text(String),
    Image(ImageBlock),
    Document(DocumentBlock),
    ToolUse(ToolUseBlock),
    ToolResult(ToolResultBlock),
    CachePoint(CachePoint),
}

/// An inline document: base64 bytes, their format and a name.
#[derive(Debug, Serialize)]
pub(super) struct DocumentBlock {
    /// `pdf`, `csv`, `doc`, `docx`, `xls`, `xlsx`, `html`, `txt` or `md`.
    pub format: &'static str,
    /// Letters, digits, single spaces, hyphens, parentheses and square
    /// brackets only.
    pub name: String,
    pub source: ImageSource,
}

/// An inline image: base64 bytes and their format.
#[derive(Debug, Serialize)]
pub(super) struct ImageBlock {
    /// `png`, `jpeg`, `gif` or `webp`.
    pub format: &'static str,
    pub source: ImageSource,
}

/// Image or document bytes, base64 in JSON.
#[derive(Debug, Serialize)]
pub(super) struct ImageSource {
    pub bytes: String,
}

/// A tool call the assistant made.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ToolUseBlock {
    pub tool_use_id: String,
    pub name: String,
    pub input: Value,
}

/// A tool's answer, sent in a user turn.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ToolResultBlock {
    pub tool_use_id: String,
    pub content: Vec<ToolResultContent>,
    /// `success` or `error`; canonical tool messages carry no status, so
    /// it is left out (Bedrock's default is success).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
}

/// What a tool result holds.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum ToolResultContent {
    Text(String),
    Image(ImageBlock),
    Document(DocumentBlock),
}

/// `inferenceConfig`.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct InferenceConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
}

/// `toolConfig`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ToolConfig {
    pub tools: Vec<WireTool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<WireToolChoice>,
}

/// `{"toolSpec": {...}}`, or a prompt-caching checkpoint after the tools
/// before it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum WireTool {
    ToolSpec(ToolSpec),
    CachePoint(CachePoint),
}

/// A tool definition.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ToolSpec {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub input_schema: InputSchema,
}

/// `{"json": <JSON Schema>}`.
#[derive(Debug, Serialize)]
pub(super) struct InputSchema {
    pub json: Value,
}

/// `{"auto": {}}`, `{"any": {}}` or `{"tool": {"name": ...}}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum WireToolChoice {
    Auto(Empty),
    Any(Empty),
    Tool(NamedTool),
}

/// `{}`.
#[derive(Debug, Serialize)]
pub(super) struct Empty {}

/// `{"name": ...}`.
#[derive(Debug, Serialize)]
pub(super) struct NamedTool {
    pub name: String,
}

/// A whole Converse response.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ConverseResponse {
    pub output: Output,
    #[serde(default)]
    pub stop_reason: Option<String>,
    #[serde(default)]
    pub usage: WireUsage,
}

/// `output`: a union whose only member is `message`.
#[derive(Debug, Deserialize)]
pub(super) struct Output {
    pub message: OutputMessage,
}

/// The assistant's message.
#[derive(Debug, Deserialize)]
pub(super) struct OutputMessage {
    #[serde(default)]
    pub content: Vec<ResponseBlock>,
}

/// A response content block: one of the members is set; unknown members
/// (citations, guard content, ...) are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ResponseBlock {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub tool_use: Option<ToolUseOut>,
    #[serde(default)]
    pub reasoning_content: Option<ReasoningOut>,
}

/// A tool call in a response (`input` is a JSON value).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ToolUseOut {
    pub tool_use_id: String,
    pub name: String,
    #[serde(default)]
    pub input: Value,
}

/// `reasoningContent`: `{"reasoningText": {"text", "signature"}}` or
/// redacted bytes (ignored).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ReasoningOut {
    #[serde(default)]
    pub reasoning_text: Option<ReasoningText>,
}

/// Reasoning text; the signature is not carried.
#[derive(Debug, Deserialize)]
pub(super) struct ReasoningText {
    #[serde(default)]
    pub text: String,
}

/// Token counts. Bedrock's convention: `inputTokens` excludes the cache
/// reads and writes reported beside it (as Anthropic's does).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireUsage {
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    pub cache_write_input_tokens: Option<u64>,
    /// The writes by lifetime, beside their total above (absent or empty
    /// when nothing was written).
    #[serde(default)]
    pub cache_details: Option<Vec<WireCacheDetail>>,
}

/// `{"ttl": "5m" | "1h", "inputTokens": n}`: tokens written to the cache
/// for one lifetime.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireCacheDetail {
    #[serde(default)]
    pub ttl: String,
    #[serde(default)]
    pub input_tokens: u64,
}

/// `contentBlockStart` payload.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BlockStartEvent {
    #[serde(default)]
    pub content_block_index: u32,
    #[serde(default)]
    pub start: BlockStart,
}

/// What a block starts with: only tool uses announce themselves.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BlockStart {
    #[serde(default)]
    pub tool_use: Option<ToolUseStart>,
}

/// A tool call's id and name, sent before its input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ToolUseStart {
    pub tool_use_id: String,
    pub name: String,
}

/// `contentBlockDelta` payload.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BlockDeltaEvent {
    #[serde(default)]
    pub content_block_index: u32,
    #[serde(default)]
    pub delta: BlockDelta,
}

/// One of: text, a piece of tool input JSON, reasoning text.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BlockDelta {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub tool_use: Option<ToolUseDelta>,
    #[serde(default)]
    pub reasoning_content: Option<ReasoningDelta>,
}

/// `{"input": "<partial JSON>"}`.
#[derive(Debug, Deserialize)]
pub(super) struct ToolUseDelta {
    #[serde(default)]
    pub input: String,
}

/// `{"text": ...}` (or a signature, ignored).
#[derive(Debug, Deserialize)]
pub(super) struct ReasoningDelta {
    #[serde(default)]
    pub text: Option<String>,
}

/// `messageStop` payload.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct MessageStopEvent {
    #[serde(default)]
    pub stop_reason: Option<String>,
}

/// `metadata` payload.
#[derive(Debug, Deserialize)]
pub(super) struct MetadataEvent {
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

/// An error body, and an exception frame's payload.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ErrorBody {
    #[serde(default, alias = "Message")]
    pub message: String,
}
