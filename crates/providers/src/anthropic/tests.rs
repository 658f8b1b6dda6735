//! Golden tests live in `tests/golden.rs`; these cover what fixtures cannot.
