//! A route's request body limit, lower than the listener's.
//!
//! This policy only lowers `ctx.body_limit` and refuses early when the
//! declared `Content-Length` is already too large; the proxy enforces the
//! limit on the bytes actually streamed (chunked bodies have no length).

use http::header::CONTENT_LENGTH;

use crate::context::RequestContext;
use crate::error::PolicyError;
use crate::policy::{Order, Policy, Step};

/// Caps the request body at `limit` bytes.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit {
    limit: u64,
}

impl BodyLimit {
    /// A cap of `limit` bytes. A limit above the listener's has no effect:
    /// a route can only tighten.
    pub fn new(limit: u64) -> Self {
        BodyLimit { limit }
    }
}

impl Policy for BodyLimit {
    fn name(&self) -> &'static str {
        "body_limit"
    }

    fn order(&self) -> Order {
        Order::BodyLimit
    }

    /// No response phase.
    fn reads_response(&self) -> bool {
        false
    }

    fn on_request<'a>(
        &'a self,
        req: &'a mut http::request::Parts,
        ctx: &'a mut RequestContext,
    ) -> Step<'a> {
        ctx.body_limit = ctx.body_limit.min(self.limit);
        // An unparsable length is left to the HTTP layer, which rejects it.
        let declared = req
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        match declared {
            Some(n) if n > ctx.body_limit => Step::Ready(Err(PolicyError::PayloadTooLarge {
                limit: ctx.body_limit,
            })),
            _ => Step::next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use http::StatusCode;

    use super::*;
    use crate::test_util::{ctx_from, parts};

    async fn run(
        limit: u64,
        listener: u64,
        headers: &[(&str, &str)],
    ) -> (Result<(), PolicyError>, u64) {
        let mut req = parts("POST", "/", headers);
        let mut ctx = ctx_from("10.0.0.1");
        ctx.body_limit = listener;
        let r = BodyLimit::new(limit)
            .on_request(&mut req, &mut ctx)
            .await
            .map(|_| ());
        (r, ctx.body_limit)
    }

    #[tokio::test]
    async fn lowers_the_limit_and_never_raises_it() {
        let (r, limit) = run(100, 1000, &[]).await;
        assert!(r.is_ok());
        assert_eq!(limit, 100);
        assert_eq!(run(5000, 1000, &[]).await.1, 1000);
    }

    #[tokio::test]
    async fn declared_length_over_the_limit_is_413() {
        let (r, _) = run(100, 1000, &[("content-length", "101")]).await;
        let err = r.unwrap_err();
        assert_eq!(err.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            err.to_string(),
            "request body exceeds the limit of 100 bytes"
        );
        assert!(run(100, 1000, &[("content-length", "100")]).await.0.is_ok());
        // The listener's limit counts too when it is the lower one.
        let err = run(5000, 1000, &[("content-length", "2000")])
            .await
            .0
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "request body exceeds the limit of 1000 bytes"
        );
    }

    #[tokio::test]
    async fn chunked_bodies_are_left_to_the_proxy() {
        assert!(
            run(1, 1000, &[("transfer-encoding", "chunked")])
                .await
                .0
                .is_ok()
        );
    }
}
