//! Golden tests of every adapter: one input fixture per scenario under
//! `tests/fixtures/`, one committed expected snapshot per fixture and
//! provider, compared as JSON values with a path-by-path diff.
//!
//! Regenerate snapshots with `UPDATE_GOLDENS=1 cargo test -p sy-providers`
//! and review the diff like code.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

mod errors;
mod golden;
mod requests;
mod responses;
mod streams;
