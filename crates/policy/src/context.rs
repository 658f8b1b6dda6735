//! [`RequestContext`]: the per-request state policies share.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use http::HeaderMap;
use sy_core::RequestId;

use crate::consumer::Consumer;

/// Per-request state that policies read and write. Created by the proxy when
/// a request arrives; lives until the access log line is written.
#[derive(Debug)]
pub struct RequestContext {
    /// The request id (client's `X-Request-Id` if acceptable, else generated).
    pub request_id: RequestId,
    /// The TCP peer.
    pub peer_addr: SocketAddr,
    /// The client's IP: the peer, or the first untrusted hop of
    /// `X-Forwarded-For` when the peer is a trusted proxy.
    pub client_ip: IpAddr,
    /// The matched route's name.
    pub route: Arc<str>,
    /// Who is calling, once an authentication policy has run.
    pub consumer: Option<Consumer>,
    /// The effective request body limit in bytes (listener's, lowered by a
    /// route's `body_limit`).
    pub body_limit: u64,
    /// Headers to add to the response, whatever its origin (for example
    /// `RateLimit-*` on success). The proxy adds them to every response it
    /// sends for the request, replacing same-named upstream headers.
    pub response_headers: HeaderMap,
    /// Values a policy carries from its request phase to its response phase,
    /// keyed by type (CORS keeps the allowed origin here). Each policy uses
    /// a private type, so policies cannot clash.
    pub extensions: http::Extensions,
}

impl RequestContext {
    /// A context for a request from `peer_addr` on `route`.
    pub fn new(
        request_id: RequestId,
        peer_addr: SocketAddr,
        route: Arc<str>,
        body_limit: u64,
    ) -> Self {
        RequestContext {
            request_id,
            peer_addr,
            client_ip: peer_addr.ip(),
            route,
            consumer: None,
            body_limit,
            response_headers: HeaderMap::new(),
            extensions: http::Extensions::new(),
        }
    }
}
