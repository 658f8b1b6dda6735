//! The Redis-backed limiter and ledger against a real Redis (127.0.0.1:6379,
//! or `SY_TEST_REDIS_URL`). Each test works under a key prefix of its own
//! and deletes its keys when it ends. Without a reachable Redis the tests
//! fail and say so, unless `SY_SKIP_REDIS=1`.

#![expect(clippy::unwrap_used, clippy::panic, reason = "test code fails loudly")]

mod common;
mod failures;
mod ledger;
mod limiter;
mod relay;
mod resend;
mod tls;
