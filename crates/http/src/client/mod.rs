//! The pooled upstream client: keep-alive connections per target, HTTP/2
//! when asked, TLS with a custom CA and client certificates, connect timeout.

use std::time::Duration;

use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::body::Body;
use crate::tls::{ClientTlsFiles, TlsError};

/// The client type the proxy sends through.
pub type UpstreamClient = Client<HttpsConnector<HttpConnector>, Body>;

/// How to build a client for one upstream pool.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// TCP connect timeout (TLS handshake is bounded by the response-header timeout).
    pub connect_timeout: Option<Duration>,
    /// Speak HTTP/2 only (h2c for `http://`).
    pub http2_only: bool,
    /// Idle pooled connections per target.
    pub max_idle_per_host: usize,
    /// How long an idle pooled connection is kept.
    pub idle_timeout: Duration,
    /// TLS settings for `https://` targets.
    pub tls: ClientTlsFiles,
    /// Name to verify in the upstream's certificate instead of the target host.
    pub server_name: Option<String>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Some(Duration::from_secs(5)),
            http2_only: false,
            max_idle_per_host: 1024,
            idle_timeout: Duration::from_secs(90),
            tls: ClientTlsFiles::default(),
            server_name: None,
        }
    }
}

/// Build a pooled client.
pub fn build_client(opts: &ClientOptions) -> Result<UpstreamClient, TlsError> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(opts.connect_timeout);
    http.set_keepalive(Some(Duration::from_secs(60)));
    let tls = opts.tls.build()?;
    let builder = HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http();
    let builder = match &opts.server_name {
        Some(name) => {
            let name = rustls::pki_types::ServerName::try_from(name.clone()).map_err(|e| {
                TlsError::File {
                    path: "server_name".into(),
                    reason: e.to_string(),
                }
            })?;
            builder.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name))
        }
        None => builder,
    };
    let connector = if opts.http2_only {
        builder.enable_http2().wrap_connector(http)
    } else {
        builder.enable_http1().wrap_connector(http)
    };
    let client = Client::builder(TokioExecutor::new())
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .pool_max_idle_per_host(opts.max_idle_per_host)
        .pool_idle_timeout(opts.idle_timeout)
        .http2_only(opts.http2_only)
        .build(connector);
    Ok(client)
}
