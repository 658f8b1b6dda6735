//! One bounded HTTP exchange with an identity provider (a JWKS document, an
//! introspection answer) through the pooled client of `sy-http`.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use sy_http::client::{ClientOptions, UpstreamClient, build_client};

/// The largest answer read from an identity provider. A JWKS of a few dozen
/// RSA keys is ~30 KiB; anything far larger is a misconfigured URL.
pub(crate) const MAX_ANSWER: usize = 1 << 20;

/// A pooled client for identity providers (public web roots for HTTPS).
pub(crate) fn idp_client() -> Result<UpstreamClient, String> {
    build_client(&ClientOptions {
        max_idle_per_host: 8,
        ..ClientOptions::default()
    })
    .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// Send `req` and read a 200 answer's body, all within `timeout`. The error
/// says what failed in words fit for a client (no internals beyond a status).
pub(crate) async fn exchange(
    client: &UpstreamClient,
    req: http::Request<sy_http::Body>,
    timeout: Duration,
) -> Result<Bytes, String> {
    let work = async {
        let res = client
            .request(req)
            .await
            .map_err(|e| format!("request failed ({})", short(&e)))?;
        let status = res.status();
        if status != http::StatusCode::OK {
            return Err(format!("answered with status {}", status.as_u16()));
        }
        let body = Limited::new(res.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map_err(|_| "answer unreadable or larger than 1 MiB".to_owned())?;
        Ok(body.to_bytes())
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(format!("timed out after {}ms", timeout.as_millis())),
    }
}

/// The innermost cause of a client error (`connection refused`), which says
/// more than hyper-util's generic outer message.
fn short(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}
