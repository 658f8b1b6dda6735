//! sy-store integration tests. Every case is an `async fn(Store)` run twice
//! by `store_tests!`: `<case>::sqlite` on a fresh temp-file database and
//! `<case>::postgres` in a fresh schema of the database named by
//! `SY_TEST_POSTGRES_URL` (skipped with a note when it is unset).

// Helpers outside `#[test]` functions are not covered by clippy.toml's
// allow-*-in-tests; a failing helper should fail the test loudly.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test helpers fail loudly and say when a suite is skipped"
)]

/// Expands each case into a module with a `sqlite` and a `postgres` test.
macro_rules! store_tests {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test]
            async fn sqlite() {
                let (store, _dir) = crate::support::sqlite().await;
                super::$case(store).await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(pg) = crate::support::postgres().await else { return };
                super::$case(pg.store.clone()).await;
                pg.cleanup().await;
            }
        }
    )*};
}

mod audit;
mod basics;
mod bench;
mod file;
mod keys;
mod resources;
mod subscriptions;
mod support;
mod tenants;
mod usage;
mod users;
