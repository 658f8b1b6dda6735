//! A deterministic local token estimate.
//!
//! Used where no provider count exists yet: the mock provider's usage, limit
//! reservations before a call, and streams cut before the usage chunk. It is
//! a stand-in until a real tokenizer (tiktoken-rs) arrives.
//!
//! The rule, chosen to be close to BPE tokenizers on English while staying
//! trivially reproducible by hand:
//! - text is split on Unicode whitespace; each word costs
//!   `ceil(chars / 4)` tokens (so `"hi"` is 1, `"tokenizer"` is 3);
//! - each message costs [`MESSAGE_OVERHEAD`] tokens on top of its content,
//!   name and tool calls (role and separators);
//! - a prompt costs [`PROMPT_OVERHEAD`] tokens on top of its messages (the
//!   assistant reply primer), plus the text of every tool definition.

use crate::chat::{ChatRequest, Message};

/// Tokens added per message for the role and separators.
pub const MESSAGE_OVERHEAD: u64 = 3;

/// Tokens added per prompt for priming the assistant's reply.
pub const PROMPT_OVERHEAD: u64 = 3;

/// Estimated tokens of a text.
pub fn text_tokens(text: &str) -> u64 {
    text.split_whitespace()
        .map(|word| (word.chars().count() as u64).div_ceil(4))
        .sum()
}

/// Estimated tokens of one message, overhead included.
pub fn message_tokens(message: &Message) -> u64 {
    let mut tokens = MESSAGE_OVERHEAD + text_tokens(&message.text_content());
    if let Some(name) = &message.name {
        tokens += text_tokens(name);
    }
    for call in message.tool_calls.iter().flatten() {
        tokens += text_tokens(&call.function.name) + text_tokens(&call.function.arguments);
    }
    tokens
}

/// Estimated prompt tokens of a request: messages, tool definitions and the
/// reply primer.
pub fn prompt_tokens(request: &ChatRequest) -> u64 {
    let messages: u64 = request.messages.iter().map(message_tokens).sum();
    let tools: u64 = request
        .tools()
        .iter()
        .map(|tool| {
            let f = &tool.function;
            let params = f
                .parameters
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_default();
            text_tokens(&f.name)
                + text_tokens(f.description.as_deref().unwrap_or(""))
                + text_tokens(&params)
        })
        .sum();
    PROMPT_OVERHEAD + messages + tools
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::Role;

    #[test]
    fn words_cost_a_token_per_four_chars() {
        assert_eq!(text_tokens(""), 0);
        assert_eq!(text_tokens("hi"), 1);
        assert_eq!(text_tokens("tokenizer"), 3);
        assert_eq!(text_tokens("  héllo\n wörld  "), 4);
    }

    #[test]
    fn prompt_adds_overheads() {
        let req = ChatRequest::new(
            "m",
            vec![
                Message::text(Role::System, "be brief"),
                Message::text(Role::User, "hello there"),
            ],
        );
        // system: 3 + (1 + 2); user: 3 + (2 + 2); primer 3.
        assert_eq!(prompt_tokens(&req), 6 + 7 + 3);
    }
}
