//! The [`Policy`] trait, its phases and order, and the [`PolicyChain`] that
//! runs a route's policies.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Response;
use sy_http::Body;

use crate::context::RequestContext;
use crate::error::PolicyError;

/// Where a policy sits in the chain. Lower runs first on the request and last
/// on the response. The order is the design: cheap refusals (IP) before
/// identity (auth) before accounting (limits) before changes (transforms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Order {
    /// IP allow/deny.
    IpRules = 10,
    /// CORS: answers preflights before auth, as browsers send them without credentials.
    Cors = 20,
    /// Authentication: sets `ctx.consumer`.
    Auth = 30,
    /// Rate limits, quotas, budgets: may key on the consumer.
    Limits = 40,
    /// Body size limits.
    BodyLimit = 50,
    /// Request and response transformations.
    Transform = 60,
}

/// What the chain decided for a request.
pub enum Flow {
    /// Go on to the next policy, then the target.
    Continue,
    /// Answer now with this response (e.g. a CORS preflight); the target is not called.
    Respond(Response<Body>),
}

impl std::fmt::Debug for Flow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Flow::Continue => f.write_str("Continue"),
            Flow::Respond(r) => write!(f, "Respond({})", r.status()),
        }
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The result of a request phase: ready at once (no allocation), or a future
/// for policies that must wait (a remote limit store, a JWKS fetch).
pub enum Step<'a> {
    /// Decided synchronously.
    Ready(Result<Flow, PolicyError>),
    /// Decided later.
    Pending(BoxFuture<'a, Result<Flow, PolicyError>>),
}

impl Step<'_> {
    /// Continue with no change.
    pub fn next() -> Self {
        Step::Ready(Ok(Flow::Continue))
    }
}

impl Future for Step<'_> {
    type Output = Result<Flow, PolicyError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Step::Ready(r) => Poll::Ready(std::mem::replace(r, Ok(Flow::Continue))),
            Step::Pending(f) => f.as_mut().poll(cx),
        }
    }
}

/// A request-time feature. Override only the phases you need.
pub trait Policy: Send + Sync + std::fmt::Debug {
    /// Name for logs and metrics.
    fn name(&self) -> &'static str;

    /// Position in the chain.
    fn order(&self) -> Order;

    /// Request headers have arrived; the body has not been read. May change
    /// the request, fill the context, answer or refuse.
    fn on_request<'a>(
        &'a self,
        _req: &'a mut http::request::Parts,
        _ctx: &'a mut RequestContext,
    ) -> Step<'a> {
        Step::next()
    }

    /// Response headers are about to be sent to the client, whatever produced
    /// them (upstream, a policy, an error). Runs in reverse order.
    fn on_response(&self, _res: &mut http::response::Parts, _ctx: &RequestContext) {}

    /// Whether [`on_response`](Self::on_response) reads or removes the
    /// answer's fields. An answer passed on as bytes keeps the upstream's
    /// fields as lines (`sy_http::raw_head`); the proxy merges them into
    /// the header map before the response phase only when some policy of
    /// the route says `true` here. `false` is for a policy with no
    /// response phase, or one that only sets fields (`sy_http::SetField`)
    /// and asks about them with `sy_http::has_field`. The default is the
    /// safe answer.
    fn reads_response(&self) -> bool {
        true
    }
}

/// A route's policies in execution order. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct PolicyChain {
    policies: Arc<[Arc<dyn Policy>]>,
    /// Whether some policy [reads the response](Policy::reads_response).
    reads_response: bool,
}

impl PolicyChain {
    /// A chain of `policies`, sorted by [`Order`] (stable for equal orders).
    pub fn new(mut policies: Vec<Arc<dyn Policy>>) -> Self {
        policies.sort_by_key(|p| p.order());
        PolicyChain {
            reads_response: policies.iter().any(|p| p.reads_response()),
            policies: policies.into(),
        }
    }

    /// This chain with `policy` added in its place (policies compiled
    /// outside the route's `policies` section, e.g. the route's `limits`).
    pub fn with(&self, policy: Arc<dyn Policy>) -> Self {
        let mut policies = self.policies.to_vec();
        policies.push(policy);
        PolicyChain::new(policies)
    }

    /// The policies in order.
    pub fn policies(&self) -> &[Arc<dyn Policy>] {
        &self.policies
    }

    /// Whether the chain has no policies (the proxy skips its phases then).
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// Whether some policy reads or removes the answer's fields in its
    /// response phase (the proxy merges lines passed on as bytes first).
    pub fn reads_response(&self) -> bool {
        self.reads_response
    }

    /// Run every request phase in order; stops at the first response or error.
    pub async fn on_request(
        &self,
        req: &mut http::request::Parts,
        ctx: &mut RequestContext,
    ) -> Result<Flow, PolicyError> {
        for p in self.policies.iter() {
            match p.on_request(req, ctx).await? {
                Flow::Continue => {}
                respond => return Ok(respond),
            }
        }
        Ok(Flow::Continue)
    }

    /// Run every response phase in reverse order.
    pub fn on_response(&self, res: &mut http::response::Parts, ctx: &RequestContext) {
        for p in self.policies.iter().rev() {
            p.on_response(res, ctx);
        }
    }
}
