//! Integration tests of the AI endpoint, calling `AiGateway::handle` as the
//! proxy does.

// Helpers outside `#[test]` functions are not covered by clippy.toml's
// allow-*-in-tests; a failing helper should fail the test loudly.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod bedrock;
mod chat;
mod completions;
mod cost;
mod embeddings;
mod errors;
mod messages;
mod models;
mod native_providers;
mod prompt_caching;
mod providers;
mod quotas;
mod responses;
mod routing;
mod stream;
mod support;
mod timing;
mod tools;
