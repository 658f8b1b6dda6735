//! The data plane: the request context, the route matcher, the compiled
//! snapshot and its atomic swap, the policy-chain executor, upstream pools
//! and the edge mapping of errors to responses.
//!
//! Invariants: a request reads exactly one snapshot from start to finish;
//! nothing here touches a store; every request produces one access log line
//! and one metrics update, including requests cut short by the client.

mod admin;
mod body;
mod client_ip;
mod error;
mod forward;
mod handler;
mod headers;
pub mod router;
mod snapshot;
pub mod upstream;

pub use admin::AdminHandler;
pub use error::{ProxyError, TimeoutKind};
pub use handler::{Proxy, check_path};
pub use snapshot::{
    CompileDeps, PoolRuntime, Route, RouteTarget, Snapshot, SnapshotHolder, compile,
};
