//! Integration tests for the testkit: the mock upstream over real loopback
//! sockets with real clients, and the TLS helpers end to end.
//!
//! Modules carry `#[cfg(test)]` so clippy treats their helpers as test code.

#[cfg(test)]
mod client;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod streams;
#[cfg(test)]
mod tls;
