//! sy-config integration tests: each rule fails on a small config, and the
//! test checks the exact key path and that line and column point at the
//! offending text.

mod ai;
mod cluster;
mod consumers;
mod deployments;
mod examples;
mod listeners;
mod policies;
mod routes;
mod structural;
mod support;
mod upstreams;
