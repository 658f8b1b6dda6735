//! Dev-only helpers for Switchyard's tests and benchmarks: a real HTTP mock
//! upstream that runs in-process (tests) or as the `sy-mock-upstream` binary
//! (benchmarks), and TLS material made on the fly.
//!
//! Invariants: this crate is never a normal dependency of a product crate;
//! the mock binds loopback only; nothing here reaches the outside world.
//!
//! - [`mock`]: [`MockUpstream::start`] and the [`MockHandle`] it returns —
//!   the endpoint list lives in that module's docs.
//! - [`tls`]: self-signed certificates, a CA with server and client leaves,
//!   and rustls configs built from them.

pub mod mock;
pub mod tls;

pub use mock::{MockError, MockHandle, MockOptions, MockUpstream};
