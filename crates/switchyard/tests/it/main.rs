//! End-to-end tests: the real gateway on loopback sockets against real
//! upstream servers (sy-testkit mocks), called with real HTTP clients.

// Test helpers outside #[test] functions fail loudly by design.
#![expect(clippy::unwrap_used, clippy::panic, reason = "test code fails loudly")]

mod harness;
mod routing;
mod upstreams;
