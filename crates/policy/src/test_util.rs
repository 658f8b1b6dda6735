//! Builders shared by the policies' unit tests.

use std::net::{IpAddr, SocketAddr};

use http::request::Parts;
use sy_core::RequestId;

use crate::context::RequestContext;

/// Request parts for `method uri` with `headers`.
pub(crate) fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
    let mut b = http::Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(()).unwrap().into_parts().0
}

/// A context on route `api` for a client at `ip`, with a 1 MiB body limit.
pub(crate) fn ctx_from(ip: &str) -> RequestContext {
    let ip: IpAddr = ip.parse().unwrap();
    RequestContext::new(
        RequestId::generate(),
        SocketAddr::new(ip, 40000),
        "api".into(),
        1 << 20,
    )
}

/// Response parts with status 200 and `headers`.
pub(crate) fn response(headers: &[(&str, &str)]) -> http::response::Parts {
    let mut b = http::Response::builder().status(200);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(()).unwrap().into_parts().0
}
