//! `/ws`: answers the HTTP/1.1 upgrade itself, then echoes text and binary
//! messages on the upgraded connection until the peer closes or the mock
//! stops.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use http::header::{CONNECTION, CONTENT_TYPE, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, UPGRADE};
use http::{HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

use super::Shared;
use super::body::MockBody;
use super::routes::reply;

pub(crate) fn upgrade(shared: &Arc<Shared>, mut req: Request<Incoming>) -> Response<MockBody> {
    let wants_ws = req
        .headers()
        .get(UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    let Some(key) = req.headers().get(SEC_WEBSOCKET_KEY).filter(|_| wants_ws) else {
        return reply(
            shared,
            StatusCode::BAD_REQUEST,
            HeaderValue::from_static("text/plain"),
            "expected a WebSocket upgrade",
        );
    };
    let accept = derive_accept_key(key.as_bytes());
    let on_upgrade = hyper::upgrade::on(&mut req);
    let mut stop = shared.stop.clone();
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        tokio::select! {
            () = echo(ws) => {}
            _ = stop.wait_for(|s| *s) => {}
        }
    });
    let mut resp = reply(
        shared,
        StatusCode::SWITCHING_PROTOCOLS,
        HeaderValue::from_static("text/plain"),
        bytes::Bytes::new(),
    );
    *resp.body_mut() = MockBody::empty();
    let headers = resp.headers_mut();
    headers.remove(CONTENT_TYPE);
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(v) = HeaderValue::from_str(&accept) {
        headers.insert(SEC_WEBSOCKET_ACCEPT, v);
    }
    resp
}

async fn echo<S>(mut ws: WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    // Pings are answered by tungstenite itself; only data is echoed.
    while let Some(Ok(msg)) = ws.next().await {
        if msg.is_close() {
            return;
        }
        if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
            return;
        }
    }
}
