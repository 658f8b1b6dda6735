//! The Switchyard binary's library half: wiring of every crate into a
//! running [`Gateway`], used by `main` and by the end-to-end tests.

mod admin_listener;
pub mod cli;
mod cli_admin;
pub mod control;
pub mod gateway;
mod usage;

pub use gateway::{Gateway, serve};
