//! One module per API endpoint.

pub(crate) mod chat;
pub(crate) mod models;
