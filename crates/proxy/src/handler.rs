//! The request path: context → route → policies → target → response, with
//! one log line and one metrics update per request, however it ends.

use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, header};
use http_body_util::BodyExt;
use sy_core::RequestId;
use sy_http::RequestBody;
use sy_http::{
    ActiveGuard, Body, ConnInfo, FieldsRef, Handler, RawHeaders, RequestFields, SetField,
};
use sy_policy::{Flow, RequestContext};
use sy_telemetry::{AccessLog, AccessLogLine, AiLogFields, RouteMetrics};
use tokio::time::Instant;

use crate::body::{LimitedBody, OnBodyEnd, TrackedBody};
use crate::client_ip;
use crate::error::ProxyError;
use crate::forward::{Exchange, forward};
use crate::headers::{
    ClientFields, X_REQUEST_ID, add_forwarded, propagate_traceparent, set_request_id,
};
use crate::router::{RouteRequest, rewrite_path};
use crate::snapshot::{Route, RouteTarget, Snapshot, SnapshotHolder};

/// The data-plane handler shared by every listener.
#[derive(Debug)]
pub struct Proxy {
    holder: Arc<SnapshotHolder>,
    access_log: AccessLog,
}

impl Proxy {
    /// A proxy reading `holder` and logging to `access_log`.
    pub fn new(holder: Arc<SnapshotHolder>, access_log: AccessLog) -> Arc<Self> {
        Arc::new(Proxy { holder, access_log })
    }
}

/// Owned facts for the log line, filled as the request progresses.
struct Record {
    ts: SystemTime,
    request_id: RequestId,
    client_ip: std::net::IpAddr,
    method: Method,
    /// The client's URI; cloning shares its bytes.
    uri: http::Uri,
    protocol: &'static str,
    host: Option<HeaderValue>,
    route: Option<Arc<str>>,
    exchange: Exchange,
    status: u16,
    error: Option<&'static str>,
    consumer: Option<Arc<str>>,
    head_time: std::time::Duration,
    /// Set for AI calls; its usage and cost cells fill in as the answer
    /// completes, so reading them at body end sees a stream's final usage.
    ai: Option<sy_ai::AiCallInfo>,
    /// The policies' per-request state (`RequestContext::extensions`),
    /// kept until the body ends or is dropped: a quota reservation holds
    /// its concurrency slots exactly as long as the response.
    held: http::Extensions,
}

struct Finisher {
    record: Record,
    log: AccessLog,
    _active: ActiveGuard,
}

impl OnBodyEnd for Finisher {
    /// Reads the record where it is: moving it out of the box would copy
    /// it whole for nothing.
    fn finish(self: Box<Self>, bytes: u64, _completed: bool) {
        let (r, log) = (&self.record, &self.log);
        if !log.enabled() {
            return;
        }
        let usage = r.ai.as_ref().and_then(|a| a.usage.get().copied());
        let cost =
            r.ai.as_ref()
                .and_then(|a| a.cost.get().map(|c| c.to_string()));
        let ai = r.ai.as_ref().map(|a| AiLogFields {
            model: &a.model,
            deployment: &a.deployment,
            prompt_tokens: usage.map(|u| u.prompt),
            completion_tokens: usage.map(|u| u.completion),
            cached_tokens: usage.map(|u| u.cached),
            cache_write_tokens: usage.map(|u| u.cache_write),
            estimated: usage.is_some_and(|u| u.estimated),
            cost_usd: cost,
        });
        let line = AccessLogLine {
            ts: r.ts,
            request_id: r.request_id.as_str(),
            client_ip: r.client_ip.to_string(),
            method: r.method.as_str(),
            path: r.uri.path(),
            protocol: r.protocol,
            host: r
                .host
                .as_ref()
                .and_then(|h| h.to_str().ok())
                .or(r.uri.host())
                .unwrap_or(""),
            route: r.route.as_deref(),
            upstream: r.exchange.upstream.as_deref(),
            target: r.exchange.target.as_deref(),
            attempts: r.exchange.attempts,
            status: r.status,
            bytes_in: 0,
            bytes_out: bytes,
            duration_ms: r.head_time.as_secs_f64() * 1000.0,
            upstream_ms: r.exchange.upstream_time.map(|d| d.as_secs_f64() * 1000.0),
            error: r.error,
            consumer: r.consumer.as_deref(),
            ai,
        };
        // Drop cannot await; the writer's queue is large, and when it is full
        // the line is handed to a task rather than lost.
        let mut buf = Vec::with_capacity(384);
        if serde_json::to_writer(&mut buf, &line).is_ok() {
            buf.push(b'\n');
            log.send_detached(buf);
        }
    }
}

impl Handler for Proxy {
    /// When some route can use them: with only policy or AI routes they
    /// would always be made into a map again, which costs more than
    /// parsing into one.
    fn fields_as_lines(&self) -> bool {
        self.holder.passes_lines()
    }

    fn call(
        &self,
        req: Request<RequestBody>,
        conn: Arc<ConnInfo>,
    ) -> impl Future<Output = Response<Body>> + Send {
        self.call_lines(req, None, conn)
    }

    /// `lines`: the client's fields when the server kept them as lines
    /// (see `sy_http::request_fields`), read in place, and made a map only
    /// for a route whose policies or target read the map.
    ///
    /// Not an `async fn`: the server boxes this future, copying it whole,
    /// on every request, and an `async fn` keeps each argument twice in
    /// it (as argument and as local; rust-lang/rust#62958), `req` besides
    /// the parts taken from it. An `async move` block uses what it
    /// captures in place. The log record is boxed from the start (it ends
    /// in the body's finisher anyway) rather than kept in the future and
    /// moved into a box at the end.
    fn call_lines(
        &self,
        req: Request<RequestBody>,
        mut lines: Option<RequestFields>,
        conn: Arc<ConnInfo>,
    ) -> impl Future<Output = Response<Body>> + Send {
        let (mut parts, body) = req.into_parts();
        async move {
            let active = conn.request_started();
            let snap = self.holder.load();
            let started = Instant::now();
            let fields = FieldsRef::new(&parts.headers, lines.as_ref());
            let request_id = fields
                .get(&X_REQUEST_ID)
                .and_then(RequestId::from_client)
                .unwrap_or_else(RequestId::generate);
            let host = fields.value(&header::HOST);
            let mut finisher = Box::new(Finisher {
                record: Record {
                    // Only the log line reads it: no clock read when it is off.
                    ts: if self.access_log.enabled() {
                        SystemTime::now()
                    } else {
                        SystemTime::UNIX_EPOCH
                    },
                    request_id: request_id.clone(),
                    client_ip: conn.peer.ip(),
                    method: parts.method.clone(),
                    uri: parts.uri.clone(),
                    protocol: protocol(parts.version),
                    host,
                    route: None,
                    exchange: Exchange::default(),
                    status: 0,
                    error: None,
                    consumer: None,
                    head_time: Default::default(),
                    ai: None,
                    held: http::Extensions::new(),
                },
                log: self.access_log.clone(),
                _active: active,
            });
            let record = &mut finisher.record;
            let (response, metrics) = match handle(
                &snap,
                &mut parts,
                &mut lines,
                body,
                &conn,
                &request_id,
                record,
            )
            .await
            {
                Ok((res, m)) => (res, m),
                Err((e, m)) => {
                    record.error = Some(e.code());
                    if e.class() == sy_core::ErrorClass::Internal {
                        tracing::error!(request_id = %request_id, error = ?e, "internal error");
                    }
                    (e.to_response(request_id.as_str()), m)
                }
            };
            let (mut parts, body) = response.into_parts();
            // Taken, not cloned: nothing after this reads it from the answer.
            record.ai = parts.extensions.remove::<sy_ai::AiCallInfo>();
            // An answer passed on as bytes takes the id as a line (no header
            // map built for one field; `set_field` drops a value in the map,
            // which would win); otherwise the map gets it, sharing its bytes.
            if parts.extensions.get::<RawHeaders>().is_some() {
                parts.set_field(&X_REQUEST_ID, &[request_id.as_str().as_bytes()]);
            } else if let Ok(v) = HeaderValue::from_maybe_shared(request_id.to_bytes()) {
                parts.headers.insert(&X_REQUEST_ID, v);
            }
            record.status = parts.status.as_u16();
            record.head_time = started.elapsed();
            metrics.record(record.status, record.head_time);
            Response::from_parts(parts, TrackedBody::new(body, finisher).boxed_unsync())
        }
    }
}

type Handled = Result<(Response<Body>, RouteMetrics), (ProxyError, RouteMetrics)>;

#[expect(
    clippy::manual_async_fn,
    reason = "an async fn keeps each argument twice in its future (rust-lang/rust#62958)"
)]
fn handle(
    snap: &Arc<Snapshot>,
    // Borrowed for the reason `forward` borrows it (the caller's future
    // holds it once).
    parts: &mut http::request::Parts,
    // The client's fields when kept as lines (`parts.headers` is then empty).
    lines: &mut Option<RequestFields>,
    body: RequestBody,
    conn: &ConnInfo,
    request_id: &RequestId,
    record: &mut Record,
) -> impl Future<Output = Handled> + Send {
    async move {
        let unmatched = || snap.unmatched.clone();
        if let Err(msg) = check_path(parts.uri.path()) {
            return Err((ProxyError::BadRequest(msg), unmatched()));
        }
        let fields = FieldsRef::new(&parts.headers, lines.as_ref());
        let (client_ip, peer_trusted) =
            client_ip::resolve(conn.peer.ip(), fields, &snap.trusted_proxies);
        record.client_ip = client_ip;
        // Cheap clones (shared bytes) so routing can borrow them while policies
        // mutate `parts`.
        let uri = parts.uri.clone();
        // The authority of an absolute-form target wins over `Host` (RFC 9112
        // §3.2.2); kept as a header value so `X-Forwarded-Host` can share it.
        let host_value = match uri.authority() {
            Some(a) => HeaderValue::from_str(a.as_str()).ok(),
            // The client's Host, read once for the log and for routing.
            None => record.host.clone(),
        };
        let host: Option<&str> = host_value.as_ref().and_then(|h| h.to_str().ok());
        let path = uri.path();
        // One binding: an `Option` bound first and unwrapped into a second
        // kept both in this future's state (160 bytes each).
        let Some(found) = snap.router.find(&RouteRequest {
            host,
            method: &parts.method,
            path,
            query: uri.query(),
            headers: fields,
        }) else {
            return Err((
                ProxyError::NoRoute {
                    method: parts.method.to_string(),
                    path: path.to_string(),
                },
                unmatched(),
            ));
        };
        let route: &Arc<Route> = found.value;
        record.route = Some(route.name.clone());
        let m = route.metrics.clone();
        let listener_limit = snap
            .body_limits
            .iter()
            .find(|(name, _)| **name == *conn.listener)
            .map_or(10 * 1024 * 1024, |(_, limit)| *limit);
        let mut ctx = RequestContext::new(
            request_id.clone(),
            conn.peer,
            route.name.clone(),
            listener_limit,
        );
        ctx.client_ip = client_ip;

        // A declared length (Content-Length, which framed the body) beyond the
        // listener's limit is refused before any policy runs.
        if let Some(len) = http_body::Body::size_hint(&body).exact()
            && len > ctx.body_limit
        {
            return Err((ProxyError::BodyTooLarge(ctx.body_limit), m));
        }
        if route.reads_map()
            && let Some(l) = lines.take()
        {
            parts.headers = l.into_map();
        }

        let result = async {
            if !route.chain.is_empty()
                && let Flow::Respond(res) = route.chain.on_request(parts, &mut ctx).await?
            {
                return Ok(res);
            }
            record.consumer = ctx.consumer.as_ref().map(|c| c.name.clone());
            match &route.target {
                RouteTarget::Respond {
                    status,
                    headers,
                    body,
                } => {
                    let mut res = Response::new(sy_http::full(body.clone()));
                    *res.status_mut() = *status;
                    *res.headers_mut() = headers.clone();
                    Ok(res)
                }
                RouteTarget::Ai(models) => {
                    let limited = LimitedBody::new(body, ctx.body_limit, Default::default());
                    let bytes: Bytes = match limited.collect().await {
                        Ok(c) => c.to_bytes(),
                        Err(e) => {
                            return Err(if e.is::<crate::body::BodyTooLarge>() {
                                ProxyError::BodyTooLarge(ctx.body_limit)
                            } else {
                                ProxyError::BodyRead(e.to_string())
                            });
                        }
                    };
                    // Boxed: the AI call's future is large, and inline it would
                    // enlarge every request's future, which the server copies
                    // whole into its box, proxied ones included.
                    let caller = sy_ai::Caller::new(models, Some(&ctx));
                    Ok(Box::pin(snap.ai.handle(caller, parts, bytes, request_id.as_str())).await)
                }
                RouteTarget::Pool(_) | RouteTarget::Split(..) => {
                    let rt = match &route.target {
                        RouteTarget::Pool(p) => p,
                        RouteTarget::Split(branches, total) => pick_split(branches, *total),
                        _ => return Err(ProxyError::Internal("target changed".into())),
                    };
                    // Rewrite only when asked; otherwise the client's path and
                    // query are passed on as they are (shared bytes, no copy).
                    // Policies may have changed the query (a removed key parameter).
                    let pq: http::uri::PathAndQuery = match &route.rewrite {
                        Some(rw) if rw.path.is_some() || rw.strip_prefix.is_some() => {
                            let new_path = rewrite_path(rw, path, &found.params)
                                .map_err(|e| ProxyError::BadRequest(e.to_string()))?;
                            let joined = match parts.uri.query() {
                                Some(q) => format!("{new_path}?{q}"),
                                None => new_path,
                            };
                            joined.parse().map_err(|e| {
                                ProxyError::BadRequest(format!("rewritten path is not valid: {e}"))
                            })?
                        }
                        _ => match parts.uri.path_and_query() {
                            Some(pq) => pq.clone(),
                            None => http::uri::PathAndQuery::from_static("/"),
                        },
                    };
                    // The fields this hop adds are written as lines after the
                    // client's (see `sy_http::raw_head`); policies have run.
                    let client: &mut dyn ClientFields = match lines.as_mut() {
                        Some(l) => l,
                        None => &mut parts.headers,
                    };
                    let present = client.present();
                    // Room for the six fields with a long host and trace id.
                    let mut added = RawHeaders::with_capacity(512);
                    add_forwarded(
                        client,
                        &mut added,
                        &present,
                        conn.peer.ip(),
                        peer_trusted,
                        conn.tls,
                        host_value.as_ref().filter(|_| host.is_some()),
                    );
                    set_request_id(client, &mut added, &present, request_id.as_str());
                    propagate_traceparent(client, &mut added, &present);
                    let host_override = route.rewrite.as_ref().and_then(|r| r.host.as_deref());
                    // Boxed for the same reason as the AI call: inline, it
                    // made every request's future larger, and the copy of it
                    // into the server's box cost more than this box (measured).
                    Box::pin(forward(
                        rt,
                        parts,
                        lines.as_mut(),
                        added,
                        body,
                        pq,
                        host_override,
                        &ctx,
                        host,
                        &mut record.exchange,
                    ))
                    .await
                }
            }
        }
        .await;

        match result {
            Ok(res) => {
                let (mut rparts, rbody) = res.into_parts();
                if !route.chain.is_empty() {
                    // A policy that reads or removes the upstream's fields needs
                    // them in the map, not passed on as bytes.
                    if route.chain.reads_response() {
                        sy_http::materialize(&mut rparts);
                    }
                    route.chain.on_response(&mut rparts, &ctx);
                }
                if !ctx.response_headers.is_empty() {
                    rparts.headers.extend(ctx.response_headers.drain());
                }
                record.held = std::mem::take(&mut ctx.extensions);
                Ok((Response::from_parts(rparts, rbody), m))
            }
            Err(e) => {
                // Policies still see error responses (CORS headers on a 429, say).
                // On AI routes a quota refusal answers in the endpoint's dialect.
                let dialect = match (&route.target, &e) {
                    (RouteTarget::Ai(_), ProxyError::Policy(p)) => {
                        snap.ai
                            .policy_error_response(p, uri.path(), request_id.as_str())
                    }
                    _ => None,
                };
                let res = dialect.unwrap_or_else(|| e.to_response(request_id.as_str()));
                let (mut rparts, rbody) = res.into_parts();
                if !route.chain.is_empty() {
                    route.chain.on_response(&mut rparts, &ctx);
                }
                rparts.headers.extend(ctx.response_headers.drain());
                record.error = Some(e.code());
                record.held = std::mem::take(&mut ctx.extensions);
                Ok((Response::from_parts(rparts, rbody), m))
            }
        }
    }
}

fn pick_split(
    branches: &[(Arc<crate::snapshot::PoolRuntime>, u32)],
    total: u32,
) -> &Arc<crate::snapshot::PoolRuntime> {
    let roll = fastrand::u32(0..total.max(1));
    branches
        .iter()
        .find(|(_, cum)| roll < *cum)
        .or(branches.last())
        .map(|(p, _)| p)
        .unwrap_or_else(|| &branches[0].0)
}

fn protocol(v: http::Version) -> &'static str {
    match v {
        http::Version::HTTP_09 => "HTTP/0.9",
        http::Version::HTTP_10 => "HTTP/1.0",
        http::Version::HTTP_11 => "HTTP/1.1",
        http::Version::HTTP_2 => "HTTP/2",
        http::Version::HTTP_3 => "HTTP/3",
        _ => "HTTP",
    }
}

/// Refuse paths that could mean something else to the upstream than to the
/// router: not absolute, dot segments (raw or percent-encoded), malformed
/// percent-encoding, encoded NUL or control characters.
pub fn check_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err("the request path must start with `/`".into());
    }
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(b) if b < 0x20 || b == 0x7f => {
                    return Err("the request path contains an encoded control character".into());
                }
                Some(_) => i += 3,
                None => return Err("the request path has malformed percent-encoding".into()),
            }
        } else {
            i += 1;
        }
    }
    if bytes.split(|&b| b == b'/').any(is_dot_segment) {
        return Err("the request path contains `.` or `..` segments".into());
    }
    Ok(())
}

/// `.` or `..`, each dot raw or percent-encoded (`%2e`, any case). No
/// allocation: this runs on every request.
fn is_dot_segment(b: &[u8]) -> bool {
    let dot = |i: usize| -> Option<usize> {
        match b.get(i)? {
            b'.' => Some(i + 1),
            b'%' if b.get(i + 1) == Some(&b'2')
                && b.get(i + 2).is_some_and(|c| c | 0x20 == b'e') =>
            {
                Some(i + 3)
            }
            _ => None,
        }
    };
    match dot(0) {
        Some(i) if i == b.len() => true,
        Some(i) => dot(i) == Some(b.len()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::check_path;

    #[test]
    fn paths() {
        assert!(check_path("/a/b").is_ok());
        assert!(check_path("/a/%20b").is_ok());
        assert!(check_path("/a/../b").is_err());
        assert!(check_path("/a/%2e%2E/b").is_err());
        assert!(check_path("/a/./b").is_err());
        assert!(check_path("/a/%zz").is_err());
        assert!(check_path("/a%00").is_err());
        assert!(check_path("a").is_err());
        assert!(check_path("/a/..b").is_ok());
        assert!(check_path("/a/.%2E").is_err());
        assert!(check_path("/a/%2e").is_err());
        assert!(check_path("/a/%2e%2e%2e").is_ok());
        assert!(check_path("/a/.x").is_ok());
        assert!(check_path("/a/%2").is_err());
        assert!(check_path("/").is_ok());
    }
}
