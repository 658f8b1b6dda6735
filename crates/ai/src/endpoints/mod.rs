//! One module per API endpoint.

pub(crate) mod chat;
pub(crate) mod completions;
pub(crate) mod embeddings;
pub(crate) mod messages;
pub(crate) mod meter;
pub(crate) mod models;
pub(crate) mod responses;
pub(crate) mod streaming;
pub(crate) mod upstream;
