//! Sending a request to an upstream pool: target selection, timeouts,
//! retries with back-off and a budget, streaming both ways, upgrades.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, Uri, Version, header};
use http_body_util::BodyExt;
use sy_config::HashOnSpec;
use sy_http::client::{ClientError, UpstreamBody, is_idempotent};
use sy_http::{Body, BoxError};
use sy_http::{FieldsRef, RawHeaders, RequestBody, RequestFields};
use sy_policy::RequestContext;
use tokio::time::Instant;

use crate::body::{LimitedBody, TimedBody};
use crate::error::{ProxyError, TimeoutKind};
use crate::headers::{is_upgrade, strip_hop_by_hop};
use crate::router::inline::InlineVec;
use crate::snapshot::PoolRuntime;
use crate::upstream::{FailureKind, NoTargetReason, Outcome, SelectInput, backoff};

/// Bodies up to this size are kept in memory when the pool retries, so a
/// retry can send them again. Larger or unknown-length bodies are streamed
/// and only connect failures (nothing sent) are retried for them.
const RETRY_BUFFER_LIMIT: u64 = 256 * 1024;

/// What the access log wants to know about the upstream exchange.
#[derive(Debug, Default)]
pub struct Exchange {
    /// Pool name.
    pub upstream: Option<Arc<str>>,
    /// Target that answered (or failed last).
    pub target: Option<Arc<str>>,
    /// Attempts made.
    pub attempts: u32,
    /// Time to the upstream's response head.
    pub upstream_time: Option<Duration>,
}

enum ReqBody {
    /// Replayable: empty or buffered.
    Bytes(Bytes),
    /// Streamed once.
    Stream(Option<Body>),
}

/// Forward to `rt`. `path_and_query` is already rewritten.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site; a struct would only rename the arguments"
)]
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn keeps each argument twice in its future (rust-lang/rust#62958)"
)]
pub fn forward(
    rt: &PoolRuntime,
    // Borrowed, not moved: the caller's future holds it already, and this
    // future is copied whole when it is boxed, once per request.
    parts: &mut http::request::Parts,
    // The client's fields when kept as lines (`parts.headers` then holds
    // only what this hop sets in their place); sent as they came.
    lines: Option<&mut RequestFields>,
    // The fields this hop adds, sent after `parts.headers`.
    added: RawHeaders,
    body: RequestBody,
    path_and_query: http::uri::PathAndQuery,
    host_override: Option<&str>,
    ctx: &RequestContext,
    client_host: Option<&str>,
    ex: &mut Exchange,
) -> impl Future<Output = Result<Response<Body>, ProxyError>> + Send {
    async move {
        let pool = &rt.pool;
        let spec = pool.spec();
        ex.upstream = Some(Arc::clone(pool.shared_name()));
        // Lines are never an upgrade's, and their hop-by-hop fields are left
        // out as they are written.
        let upgrade = lines.is_none() && is_upgrade(&parts.headers);
        let on_upgrade = if upgrade {
            parts.extensions.remove::<sy_http::OnUpgrade>()
        } else {
            None
        };
        if lines.is_none() {
            strip_hop_by_hop(&mut parts.headers, upgrade);
        }
        // A rewritten host replaces the client's; HTTP/2 carries the host in
        // :authority, not as a field.
        let lines: Option<&RequestFields> = lines.map(|l| {
            if host_override.is_some() || spec.http2 {
                l.remove(&header::HOST);
            }
            &*l
        });
        if let Some(host) = host_override {
            if let Ok(v) = HeaderValue::from_str(host) {
                parts.headers.insert(header::HOST, v);
            }
        } else if !parts.headers.contains_key(header::HOST)
            && !lines.is_some_and(|l| l.contains(&header::HOST))
            && let Some(h) = client_host.and_then(|h| HeaderValue::from_str(h).ok())
        {
            parts.headers.insert(header::HOST, h);
        }
        if spec.http2 {
            parts.headers.remove(header::HOST);
        }

        let retry = spec.retries.as_ref();
        let budget = pool.retry_budget();
        if let Some(b) = budget {
            b.deposit();
        }
        let exceeded = Arc::new(AtomicBool::new(false));
        let limit = ctx.body_limit;
        let hint = http_body::Body::size_hint(&body);
        let mut req_body = if http_body::Body::is_end_stream(&body) {
            ReqBody::Bytes(Bytes::new())
        } else if retry.is_some()
            && hint
                .exact()
                .is_some_and(|n| n <= RETRY_BUFFER_LIMIT.min(limit))
        {
            let limited = LimitedBody::new(body, limit, exceeded.clone());
            match limited.collect().await {
                Ok(c) => ReqBody::Bytes(c.to_bytes()),
                Err(e) => return Err(body_error(&exceeded, limit, e)),
            }
        } else {
            ReqBody::Stream(Some(
                LimitedBody::new(body, limit, exceeded.clone()).boxed_unsync(),
            ))
        };

        let timeouts = &spec.timeouts;
        let total = nonzero(timeouts.total.get());
        let deadline = total.map(|t| Instant::now() + t);
        let header_timeout = nonzero(timeouts.response_header.get());
        let idle = nonzero(timeouts.idle.get());
        let idempotent =
            is_idempotent(&parts.method) || retry.is_some_and(|r| r.retry_non_idempotent);
        let max_attempts = 1 + retry.map_or(0, |r| r.attempts);

        let hash_key: Option<Vec<u8>> = spec
            .hash_on
            .as_ref()
            .and_then(|h| hash_key(h, FieldsRef::new(&parts.headers, lines), ctx));
        // Inline: one attempt is the rule, and a heap list would be allocated
        // for it on every request.
        let mut tried: InlineVec<usize, 4> = InlineVec::default();
        let mut last_err: Option<ProxyError> = None;

        loop {
            let attempt = ex.attempts;
            if attempt > 0 {
                // Only reached after `may_retry` said yes (budget already withdrawn).
                if let Some(r) = retry {
                    let wait = backoff(attempt, r.backoff_base.get(), r.backoff_max.get());
                    if deadline.is_some_and(|d| Instant::now() + wait >= d) {
                        break;
                    }
                    tokio::time::sleep(wait).await;
                }
            }
            // Retries prefer a target not yet tried; when every target has been
            // tried (a one-target pool), the same one may be tried again.
            let mut choice = pool.select(&SelectInput {
                hash_key: hash_key.as_deref(),
                exclude: tried.as_slice(),
            });
            if matches!(&choice, Err(no) if no.reason == NoTargetReason::AllTried) {
                choice = pool.select(&SelectInput {
                    hash_key: hash_key.as_deref(),
                    exclude: &[],
                });
            }
            let selected = match choice {
                Ok(s) => s,
                Err(no) => {
                    if last_err.is_none() {
                        last_err = Some(ProxyError::NoTarget(no));
                    }
                    break;
                }
            };
            let index = selected.index;
            let target = selected.target.clone();
            let metrics = rt.metrics.get(index).cloned();
            if attempt > 0
                && let Some(m) = &metrics
            {
                m.retries.inc();
            }
            tried.push(index);
            ex.attempts += 1;
            ex.target = Some(Arc::clone(target.label()));
            let body = match &mut req_body {
                ReqBody::Bytes(b) => sy_http::full(b.clone()),
                ReqBody::Stream(s) => match s.take() {
                    Some(b) => b,
                    None => break,
                },
            };
            let mut uri_parts = http::uri::Parts::default();
            uri_parts.scheme = Some(target.scheme().clone());
            uri_parts.authority = Some(target.authority().clone());
            uri_parts.path_and_query = Some(path_and_query.clone());
            let uri = Uri::from_parts(uri_parts)
                .map_err(|e| ProxyError::BadRequest(format!("cannot build upstream URI: {e}")))?;
            let mut req = Request::new(body);
            *req.method_mut() = parts.method.clone();
            *req.uri_mut() = uri;
            *req.version_mut() = if spec.http2 {
                Version::HTTP_2
            } else {
                Version::HTTP_11
            };
            // The last possible attempt takes the headers; earlier ones copy them.
            *req.headers_mut() = if ex.attempts >= max_attempts || !replayable(&req_body) {
                std::mem::take(&mut parts.headers)
            } else {
                parts.headers.clone()
            };

            let guard = selected.start();
            // The clock is read once per attempt, by the guard: each read is a
            // clock_gettime, and this path read it four times.
            let started = guard.started();
            // The upstream's head may come back as bytes to pass on (see
            // `sy_http::raw_head`); the handler materializes it for policies.
            let pass_on = sy_http::PassOn {
                client: lines,
                added: &added,
            };
            let send = rt.client.forward(req, pass_on);
            let wait_for = match (header_timeout, deadline) {
                (Some(h), Some(d)) => Some((
                    h.min(d.saturating_duration_since(started)),
                    h <= d.saturating_duration_since(started),
                )),
                (Some(h), None) => Some((h, true)),
                (None, Some(d)) => Some((d.saturating_duration_since(started), false)),
                (None, None) => None,
            };
            let result = match wait_for {
                Some((t, is_header)) => match tokio::time::timeout_at(started + t, send).await {
                    Ok(r) => r,
                    Err(_) => {
                        guard.finish(Outcome::Failure {
                            kind: FailureKind::Timeout,
                        });
                        if let Some(m) = &metrics {
                            m.failure.inc();
                        }
                        let kind = if is_header {
                            TimeoutKind::ResponseHeader
                        } else {
                            TimeoutKind::Total
                        };
                        last_err = Some(ProxyError::Timeout {
                            upstream: pool.name().into(),
                            target: target.authority().to_string(),
                            kind,
                            ms: t.as_millis(),
                        });
                        // The request may have been processed: only idempotent ones are retried.
                        if !idempotent
                            || kind == TimeoutKind::Total
                            || !may_retry(rt, &req_body, ex.attempts, max_attempts)
                        {
                            break;
                        }
                        continue;
                    }
                },
                None => send.await,
            };
            let elapsed = started.elapsed();
            match result {
                Ok(mut res) => {
                    let status = res.status();
                    let retry_status =
                        retry.is_some_and(|r| r.on_statuses.contains(&status.as_u16()));
                    if let Some(m) = &metrics {
                        m.duration.observe(elapsed);
                    }
                    if retry_status
                        && idempotent
                        && may_retry(rt, &req_body, ex.attempts, max_attempts)
                    {
                        guard.finish(Outcome::Failure {
                            kind: FailureKind::Status(status.as_u16()),
                        });
                        if let Some(m) = &metrics {
                            m.failure.inc();
                        }
                        // Discarding the response closes its body.
                        drop(res);
                        continue;
                    }
                    guard.finish(Outcome::Success {
                        latency: elapsed,
                        status: status.as_u16(),
                    });
                    if let Some(m) = &metrics {
                        if status.is_server_error() {
                            m.failure.inc();
                        } else {
                            m.success.inc();
                        }
                    }
                    ex.upstream_time = Some(elapsed);
                    if status == StatusCode::SWITCHING_PROTOCOLS {
                        return Ok(tunnel(res, on_upgrade));
                    }
                    strip_hop_by_hop(res.headers_mut(), false);
                    let (rparts, rbody) = res.into_parts();
                    let body = TimedBody::new(rbody, idle, deadline).boxed_unsync();
                    return Ok(Response::from_parts(rparts, body));
                }
                Err(e) => {
                    if exceeded.load(Ordering::Relaxed) {
                        return Err(ProxyError::BodyTooLarge(limit));
                    }
                    let (kind, connect, timeout) = classify(&e);
                    guard.finish(Outcome::Failure { kind });
                    if let Some(m) = &metrics {
                        m.failure.inc();
                    }
                    last_err = Some(if timeout {
                        ProxyError::Timeout {
                            upstream: pool.name().into(),
                            target: target.authority().to_string(),
                            kind: TimeoutKind::Connect,
                            ms: timeouts.connect.get().as_millis(),
                        }
                    } else {
                        ProxyError::Upstream {
                            upstream: pool.name().into(),
                            target: target.authority().to_string(),
                            detail: e.describe(),
                        }
                    });
                    // A connect failure sent nothing, so it is always safe to
                    // retry; a mid-exchange failure only for idempotent requests.
                    let on_connect = retry.is_some_and(|r| r.on_connect_error);
                    let safe = (connect && on_connect) || (!connect && idempotent);
                    // A streamed body was consumed by the attempt: nothing to resend.
                    if !safe || !may_retry(rt, &req_body, ex.attempts, max_attempts) {
                        break;
                    }
                }
            }
        }
        match last_err.take() {
            Some(ProxyError::Internal(_)) | None => Err(ProxyError::Upstream {
                upstream: pool.name().into(),
                target: ex.target.as_deref().unwrap_or_default().to_owned(),
                detail: "no attempt could be made".into(),
            }),
            Some(e) => Err(e),
        }
    }
}

/// Whether another attempt may be made: attempts left, a replayable body,
/// and a withdrawal from the pool's retry budget (taken here, so a `true`
/// commits the caller to retrying).
fn may_retry(rt: &PoolRuntime, body: &ReqBody, attempts: u32, max_attempts: u32) -> bool {
    if attempts >= max_attempts || !replayable(body) {
        return false;
    }
    match rt.pool.retry_budget() {
        Some(b) if !b.try_withdraw() => {
            if let Some(m) = rt.metrics.first() {
                m.budget_exhausted.inc();
            }
            false
        }
        _ => true,
    }
}

fn replayable(b: &ReqBody) -> bool {
    matches!(b, ReqBody::Bytes(_))
}

fn nonzero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

fn hash_key(on: &HashOnSpec, headers: FieldsRef<'_>, ctx: &RequestContext) -> Option<Vec<u8>> {
    match on {
        HashOnSpec::Header(name) => {
            let name = http::HeaderName::from_bytes(name.as_bytes()).ok()?;
            headers.get(&name).map(<[u8]>::to_vec)
        }
        HashOnSpec::Cookie(name) => headers.get_all(&header::COOKIE).find_map(|v| {
            std::str::from_utf8(v).ok()?.split(';').find_map(|kv| {
                let (k, val) = kv.trim().split_once('=')?;
                (k == name).then(|| val.as_bytes().to_vec())
            })
        }),
        HashOnSpec::ClientIp => Some(ctx.client_ip.to_string().into_bytes()),
    }
}

fn body_error(exceeded: &AtomicBool, limit: u64, e: BoxError) -> ProxyError {
    if exceeded.load(Ordering::Relaxed) {
        ProxyError::BodyTooLarge(limit)
    } else {
        ProxyError::BodyRead(e.to_string())
    }
}

/// `(kind, is_connect, is_connect_timeout)` of a client error.
fn classify(e: &ClientError) -> (FailureKind, bool, bool) {
    if e.is_connect() {
        let timed_out = e.is_connect_timeout();
        let kind = if timed_out {
            FailureKind::Timeout
        } else {
            FailureKind::Connect
        };
        return (kind, true, timed_out);
    }
    (FailureKind::Reset, false, false)
}

/// Answer a 101 and join the two upgraded connections.
fn tunnel(
    mut upstream: Response<UpstreamBody>,
    client: Option<sy_http::OnUpgrade>,
) -> Response<Body> {
    let up = hyper::upgrade::on(&mut upstream);
    let (parts, _) = upstream.into_parts();
    if let Some(client) = client {
        tokio::spawn(async move {
            let (Ok(mut c), Ok(u)) = (client.await, up.await) else {
                return;
            };
            let mut u = hyper_util::rt::TokioIo::new(u);
            let _ = tokio::io::copy_bidirectional(&mut c, &mut u).await;
        });
    }
    Response::from_parts(parts, sy_http::empty())
}
