//! The local token estimate, kept under its original names.
//!
//! Callers that have no provider model at hand (the mock provider's usage,
//! the public-name-only paths) use these; they delegate to
//! [`crate::tokens`] with the request's own `model` (or, for bare text, the
//! default `cl100k_base` vocabulary). Code that knows the deployment's model
//! should call [`crate::tokens::count_prompt_tokens`] with it directly.

use crate::chat::{ChatRequest, Message};
use crate::tokens;

/// Tokens added per message for the role and separators.
pub const MESSAGE_OVERHEAD: u64 = tokens::TOKENS_PER_MESSAGE;

/// Tokens added per prompt for priming the assistant's reply.
pub const PROMPT_OVERHEAD: u64 = tokens::REPLY_PRIMER;

/// Estimated tokens of a text (`cl100k_base`).
pub fn text_tokens(text: &str) -> u64 {
    tokens::count_with(tokens::Encoding::Cl100kBase, text)
}

/// Estimated tokens of one message, overhead included (`cl100k_base`).
pub fn message_tokens(message: &Message) -> u64 {
    tokens::count_message_tokens(message, "")
}

/// Estimated prompt tokens of a request, counted for `request.model`.
pub fn prompt_tokens(request: &ChatRequest) -> u64 {
    tokens::count_prompt_tokens(request, &request.model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::Role;

    #[test]
    fn delegates_to_the_tokenizer() {
        assert_eq!(text_tokens(""), 0);
        assert_eq!(text_tokens("tiktoken is great!"), 6);
        let req = ChatRequest::new(
            "mock-1",
            vec![
                Message::text(Role::System, "be brief"),
                Message::text(Role::User, "hello there"),
            ],
        );
        // system: 3 + "system"(1) + "be brief"(2); user: 3 + "user"(1) +
        // "hello there"(2); primer 3.
        assert_eq!(prompt_tokens(&req), 6 + 6 + 3);
        assert_eq!(message_tokens(&req.messages[1]), 6);
    }
}
