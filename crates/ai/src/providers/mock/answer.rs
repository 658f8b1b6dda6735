//! What the mock answers, decided from the request alone (pure and
//! deterministic: the same request always gets the same answer).
//!
//! Rules:
//! - **Text**: `This is a mock response to: <last user message>`, the
//!   message truncated to 200 characters and its whitespace collapsed
//!   (`This is a mock response.` without a user message). Streamed one word
//!   per chunk.
//! - **JSON mode**: with `response_format` `json_object` the content is
//!   `{"response":"<text>"}`; with `json_schema` it is a sample of the schema
//!   (see [`super::schema`]). Streamed in pieces of 12 characters.
//! - **Tool call**, when the request offers `tools` and `tool_choice` is not
//!   `none`, and one of: `tool_choice` names a function (that one);
//!   `tool_choice` is `required` (the tool the user text names, else the
//!   first tool); or the last user message contains `call <name>` for a
//!   tool's name (case-insensitive; the longest matching name wins). The
//!   arguments are a sample of the tool's parameter schema; finish reason
//!   `tool_calls`; streamed as argument pieces of 12 characters.
//! - **Token cap**: text stops before the piece that would take the
//!   estimated completion past `max_completion_tokens` (or `max_tokens`);
//!   finish reason `length`.
//! - `n` > 1 repeats the answer in each choice.
//! - Usage is [`sy_llm::estimate`]'s count: prompt from the request,
//!   completion from the generated text (times `n`).

use sy_core::TokenUsage;
use sy_llm::chat::{
    ChatChunk, ChatResponse, Choice, ChunkChoice, Delta, FinishReason, FunctionCall,
    FunctionCallDelta, ResponseFormat, ResponseMessage, Role, ToolCall, ToolCallDelta, ToolChoice,
    ToolChoiceMode,
};
use sy_llm::{ChatRequest, Usage, estimate};

use super::schema;

/// Characters of the user message quoted back.
pub(crate) const QUOTE_CHARS: usize = 200;
/// Characters per streamed piece of JSON content or tool arguments.
const PIECE_CHARS: usize = 12;

/// The planned answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub body: Planned,
    /// Number of identical choices.
    pub n: u32,
    pub usage: TokenUsage,
}

/// One choice's content.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Planned {
    /// Text pieces; their concatenation is the content.
    Text {
        pieces: Vec<String>,
        finish: FinishReason,
    },
    /// One function call; `pieces` concatenated are the arguments JSON.
    Tool {
        id: String,
        name: String,
        pieces: Vec<String>,
    },
}

/// Decide the answer to `request`.
pub(crate) fn plan(request: &ChatRequest) -> Plan {
    let user_text = request.last_user_text();
    let n = request.choice_count();
    let body = match chosen_tool(request, user_text.as_deref().unwrap_or("")) {
        Some(tool) => {
            let params = request
                .tools()
                .iter()
                .find(|t| t.function.name == tool)
                .and_then(|t| t.function.parameters.clone())
                .unwrap_or(serde_json::Value::Null);
            let args = if params.is_null() {
                "{}".to_owned()
            } else {
                schema::sample(&params).to_string()
            };
            let id = format!(
                "call_{:016x}",
                fnv1a(&[
                    user_text.as_deref().unwrap_or(""),
                    &tool,
                    &request.messages.len().to_string()
                ])
            );
            Planned::Tool {
                id,
                name: tool,
                pieces: split_chars(&args, PIECE_CHARS),
            }
        }
        None => text_body(request, user_text.as_deref()),
    };
    let per_choice = match &body {
        Planned::Text { pieces, .. } => estimate::text_tokens(&pieces.concat()),
        Planned::Tool { name, pieces, .. } => {
            estimate::text_tokens(name) + estimate::text_tokens(&pieces.concat())
        }
    };
    let usage = TokenUsage {
        prompt: estimate::prompt_tokens(request),
        completion: per_choice * u64::from(n),
        estimated: true,
        ..TokenUsage::default()
    };
    Plan { body, n, usage }
}

fn text_body(request: &ChatRequest, user_text: Option<&str>) -> Planned {
    let text = match user_text {
        Some(t) if !t.trim().is_empty() => {
            let quoted: String = t.chars().take(QUOTE_CHARS).collect();
            let words: Vec<&str> = quoted.split_whitespace().collect();
            format!("This is a mock response to: {}", words.join(" "))
        }
        _ => "This is a mock response.".to_owned(),
    };
    let pieces = match &request.response_format {
        Some(ResponseFormat::JsonObject) => split_chars(
            &serde_json::json!({ "response": text }).to_string(),
            PIECE_CHARS,
        ),
        Some(ResponseFormat::JsonSchema { json_schema }) => {
            let sample = json_schema
                .schema
                .as_ref()
                .map_or(serde_json::json!({}), schema::sample);
            split_chars(&sample.to_string(), PIECE_CHARS)
        }
        _ => split_words(&text),
    };
    let Some(cap) = request.completion_cap() else {
        return Planned::Text {
            pieces,
            finish: FinishReason::Stop,
        };
    };
    let mut kept = Vec::new();
    let mut content = String::new();
    for piece in pieces.iter() {
        content.push_str(piece);
        if estimate::text_tokens(&content) > u64::from(cap) {
            return Planned::Text {
                pieces: kept,
                finish: FinishReason::Length,
            };
        }
        kept.push(piece.clone());
    }
    Planned::Text {
        pieces: kept,
        finish: FinishReason::Stop,
    }
}

/// The function to call, by the rules in the module doc.
fn chosen_tool(request: &ChatRequest, user_text: &str) -> Option<String> {
    let tools = request.tools();
    if tools.is_empty() {
        return None;
    }
    let lower = user_text.to_lowercase();
    let named_in_text = tools
        .iter()
        .map(|t| t.function.name.as_str())
        .filter(|name| lower.contains(&format!("call {}", name.to_lowercase())))
        .max_by_key(|name| name.len())
        .map(str::to_owned);
    match &request.tool_choice {
        Some(ToolChoice::Mode(ToolChoiceMode::None)) => None,
        Some(ToolChoice::Named(named)) => Some(named.function.name.clone()),
        Some(ToolChoice::Mode(ToolChoiceMode::Required)) => {
            named_in_text.or_else(|| Some(tools[0].function.name.clone()))
        }
        Some(ToolChoice::Mode(ToolChoiceMode::Auto)) | None => named_in_text,
    }
}

impl Plan {
    fn finish(&self) -> FinishReason {
        match &self.body {
            Planned::Text { finish, .. } => *finish,
            Planned::Tool { .. } => FinishReason::ToolCalls,
        }
    }

    /// The whole response (`id`, `created` left for the endpoint to set).
    pub(crate) fn response(&self, model: &str) -> ChatResponse {
        let message = match &self.body {
            Planned::Text { pieces, .. } => ResponseMessage::text(pieces.concat()),
            Planned::Tool { id, name, pieces } => ResponseMessage::tool_calls(vec![ToolCall {
                id: id.clone(),
                kind: "function".into(),
                function: FunctionCall {
                    name: name.clone(),
                    arguments: pieces.concat(),
                },
            }]),
        };
        let choices = (0..self.n)
            .map(|index| Choice {
                index,
                message: message.clone(),
                logprobs: None,
                finish_reason: Some(self.finish()),
            })
            .collect();
        let mut response = ChatResponse::new(String::new(), 0, model, choices);
        response.usage = Some(Usage::from_tokens(&self.usage));
        response
    }

    /// The stream: a role chunk per choice, piece chunks (round-robin over
    /// choices), a finish chunk per choice, and the usage chunk.
    pub(crate) fn chunks(&self, model: &str) -> Vec<ChatChunk> {
        let chunk = |choice: ChunkChoice| ChatChunk::new(String::new(), 0, model, vec![choice]);
        let mut out = Vec::new();
        for index in 0..self.n {
            let delta = match &self.body {
                Planned::Text { .. } => Delta {
                    role: Some(Role::Assistant),
                    content: Some(String::new()),
                    ..Delta::default()
                },
                Planned::Tool { id, name, .. } => Delta {
                    role: Some(Role::Assistant),
                    tool_calls: Some(vec![ToolCallDelta {
                        index: 0,
                        id: Some(id.clone()),
                        kind: Some("function".into()),
                        function: Some(FunctionCallDelta {
                            name: Some(name.clone()),
                            arguments: Some(String::new()),
                        }),
                    }]),
                    ..Delta::default()
                },
            };
            out.push(chunk(ChunkChoice::delta(index, delta)));
        }
        let pieces = match &self.body {
            Planned::Text { pieces, .. } | Planned::Tool { pieces, .. } => pieces,
        };
        for piece in pieces {
            for index in 0..self.n {
                let delta = match &self.body {
                    Planned::Text { .. } => Delta {
                        content: Some(piece.clone()),
                        ..Delta::default()
                    },
                    Planned::Tool { .. } => Delta {
                        tool_calls: Some(vec![ToolCallDelta {
                            index: 0,
                            id: None,
                            kind: None,
                            function: Some(FunctionCallDelta {
                                name: None,
                                arguments: Some(piece.clone()),
                            }),
                        }]),
                        ..Delta::default()
                    },
                };
                out.push(chunk(ChunkChoice::delta(index, delta)));
            }
        }
        for index in 0..self.n {
            out.push(chunk(ChunkChoice::finish(index, self.finish())));
        }
        let mut usage = ChatChunk::new(String::new(), 0, model, vec![]);
        usage.usage = Some(Usage::from_tokens(&self.usage));
        out.push(usage);
        out
    }
}

/// The status asked for with `mock:error:<status>` in the last user
/// message, when it is a 4xx or 5xx status.
pub(crate) fn injected_error(request: &ChatRequest) -> Option<u16> {
    let text = request.last_user_text()?;
    let (_, rest) = text.split_once("mock:error:")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|s| (400..=599).contains(s))
}

/// Words with the separating space leading each but the first.
fn split_words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .enumerate()
        .map(|(i, w)| {
            if i == 0 {
                w.to_owned()
            } else {
                format!(" {w}")
            }
        })
        .collect()
}

/// Pieces of at most `size` characters.
fn split_chars(text: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(size.max(1))
        .map(|c| c.iter().collect())
        .collect()
}

/// FNV-1a over the parts, for stable ids.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0xff]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use sy_llm::chat::Message;

    fn request(text: &str) -> ChatRequest {
        ChatRequest::new("m", vec![Message::text(Role::User, text)])
    }

    #[test]
    fn text_quotes_the_user() {
        let plan = plan(&request("  hello\n  world "));
        assert_eq!(
            plan.body,
            Planned::Text {
                pieces: [
                    "This",
                    " is",
                    " a",
                    " mock",
                    " response",
                    " to:",
                    " hello",
                    " world"
                ]
                .map(String::from)
                .to_vec(),
                finish: FinishReason::Stop
            }
        );
        // "This is a mock response to: hello world": 9 cl100k_base tokens.
        assert_eq!(plan.usage.completion, 9);
    }

    #[test]
    fn long_messages_are_truncated() {
        let long = "x".repeat(500);
        let content = plan(&request(&long)).response("m").choices[0]
            .message
            .content
            .clone()
            .unwrap();
        assert_eq!(
            content.len(),
            "This is a mock response to: ".len() + QUOTE_CHARS
        );
    }

    #[test]
    fn cap_cuts_with_length() {
        let mut req = request("hello world");
        req.max_tokens = Some(3);
        let Planned::Text { pieces, finish } = plan(&req).body else {
            panic!("text expected")
        };
        assert_eq!(pieces.concat(), "This is a");
        assert_eq!(finish, FinishReason::Length);
    }

    #[test]
    fn error_injection() {
        assert_eq!(
            injected_error(&request("please mock:error:429 now")),
            Some(429)
        );
        assert_eq!(injected_error(&request("mock:error:200")), None);
        assert_eq!(injected_error(&request("mock:error:")), None);
    }

    #[test]
    fn json_object_mode() {
        let mut req = request("hi");
        req.response_format = Some(ResponseFormat::JsonObject);
        let content = plan(&req).response("m").choices[0]
            .message
            .content
            .clone()
            .unwrap();
        let value: serde_json::Value = serde_json::from_str(&content).unwrap();
        assert_eq!(value["response"], "This is a mock response to: hi");
    }
}
