//! HTTP plumbing for the data plane: the body type every crate shares,
//! listeners (TCP, TLS with certificate reload, HTTP/1.1 and HTTP/2 with
//! protective limits, graceful drain) and the pooled upstream client.
//!
//! Invariants: no routing or policy knowledge here; bodies are streamed,
//! never collected, unless a caller asks for it with a limit.

mod activity;
pub mod body;
pub mod client;
mod codec;
mod fields;
mod io;
pub mod raw_head;
pub mod request_fields;
pub mod server;
pub mod tls;

pub use activity::ActiveGuard;
pub use body::{Body, BoxError, empty, full};
pub use fields::{SetField, has_any_field, has_field, with_fields};
pub use raw_head::{HOP_BY_HOP, RawHeaders, materialize, name_bit};
pub use request_fields::{FieldsRef, PassOn, RequestFields};
pub use server::{
    ConnInfo, Handler, Limits, Listener, ListenerStats, NotUpgraded, OnUpgrade, RequestBody,
    RequestBodyError, Upgraded,
};
