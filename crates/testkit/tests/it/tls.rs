//! HTTPS and mutual-TLS mocks, reached with tokio-rustls and hyper.

use std::sync::Arc;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use sy_testkit::tls::{self, PemPair};
use sy_testkit::{MockOptions, MockUpstream};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// GET `/` over TLS; `Err` when the handshake or the request fails.
async fn https_get(
    addr: std::net::SocketAddr,
    config: Arc<rustls::ClientConfig>,
) -> Result<String, Box<dyn std::error::Error>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost")?;
    let tls = TlsConnector::from(config).connect(name, tcp).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
    tokio::spawn(conn);
    let req = Request::get("/")
        .header("host", "localhost")
        .body(Empty::<Bytes>::new())?;
    let resp = sender.send_request(req).await?;
    let body = resp.into_body().collect().await?.to_bytes();
    Ok(String::from_utf8(body.to_vec())?)
}

#[tokio::test]
async fn self_signed_https_mock() {
    let (cert_pem, key_pem) = tls::self_signed(&["localhost", "127.0.0.1"]).unwrap();
    let client = tls::client_config(&cert_pem, None).unwrap();
    let mock = MockUpstream::start(MockOptions::default().tls(PemPair { cert_pem, key_pem }))
        .await
        .unwrap();
    assert!(mock.url().starts_with("https://127.0.0.1:"));
    assert_eq!(https_get(mock.addr(), client).await.unwrap(), "ok");
}

#[tokio::test]
async fn mutual_tls_mock_requires_a_client_certificate() {
    let pki = tls::ca_and_leaf(&["localhost"]).unwrap();
    let mock = MockUpstream::start(
        MockOptions::default().mtls(pki.server.clone(), pki.ca_cert_pem.clone()),
    )
    .await
    .unwrap();
    let with_cert = tls::client_config(&pki.ca_cert_pem, Some(&pki.client)).unwrap();
    assert_eq!(https_get(mock.addr(), with_cert).await.unwrap(), "ok");
    let without = tls::client_config(&pki.ca_cert_pem, None).unwrap();
    assert!(https_get(mock.addr(), without).await.is_err());
}

#[test]
fn pki_files_are_written() {
    let pki = tls::ca_and_leaf(&["localhost"]).unwrap();
    let (_dir, files) = pki.write_temp().unwrap();
    let ca = std::fs::read_to_string(&files.ca_cert).unwrap();
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(
        std::fs::read_to_string(&files.client.key)
            .unwrap()
            .contains("PRIVATE KEY")
    );
    assert!(files.server.cert.exists());
}
