//! End-to-end tests: the real gateway on loopback sockets against real
//! upstream servers (sy-testkit mocks), called with real HTTP clients.

// Test helpers outside #[test] functions fail loudly by design.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

mod admin_api;
mod ai;
mod ai_heads;
mod auth_tokens;
mod bad_input;
mod cli;
mod cli_admin;
mod cluster;
mod control;
mod drain;
mod harness;
mod policies;
mod protocols;
mod quotas;
mod raw;
mod request_heads;
mod response_heads;
mod routing;
mod tls;
mod upstreams;
