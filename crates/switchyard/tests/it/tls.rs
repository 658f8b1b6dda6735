//! TLS on listeners (ALPN, mutual TLS, certificate reload) and to upstreams
//! (custom CA, client certificates), with rustls clients and servers on
//! loopback.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::ClientConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use sy_testkit::tls::{PkiFiles, TestPki, ca_and_leaf, client_config};
use sy_testkit::{MockHandle, MockOptions, MockUpstream};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::harness::{TestGateway, client, error_json};
use crate::raw::eventually;

fn pki() -> (TestPki, tempfile::TempDir, PkiFiles) {
    let pki = ca_and_leaf(&["localhost"]).unwrap();
    let (dir, files) = pki.write_temp().unwrap();
    (pki, dir, files)
}

/// A TLS listener (or two, the second without HTTP/2) in front of `mock`.
fn listener_config(files: &PkiFiles, mtls: bool, mock: &MockHandle) -> String {
    let ca = if mtls {
        format!("\n      client_ca_file: \"{}\"", files.ca_cert.display())
    } else {
        String::new()
    };
    format!(
        r#"
listeners:
  - name: main
    bind: 127.0.0.1:0
    tls:
      cert_file: "{cert}"
      key_file: "{key}"{ca}
  - name: h1only
    bind: 127.0.0.1:0
    http2: false
    tls:
      cert_file: "{cert}"
      key_file: "{key}"{ca}
upstreams:
  - name: up
    targets: [{{ url: "{url}" }}]
routes:
  - name: all
    target: {{ upstream: up }}
"#,
        cert = files.server.cert.display(),
        key = files.server.key.display(),
        url = mock.url(),
    )
}

fn with_alpn(config: Arc<ClientConfig>, alpn: &[&[u8]]) -> Arc<ClientConfig> {
    let mut c = (*config).clone();
    c.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(c)
}

async fn connect(
    addr: SocketAddr,
    config: Arc<ClientConfig>,
) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").unwrap();
    tokio::time::timeout(
        Duration::from_secs(5),
        TlsConnector::from(config).connect(name, tcp),
    )
    .await
    .expect("TLS handshake hung")
}

/// GET `path` over an established TLS stream, HTTP/1.1 or HTTP/2 as
/// negotiated; returns the status and body.
async fn get(
    stream: TlsStream<TcpStream>,
    path: &str,
) -> Result<(u16, http::Version, Bytes), hyper::Error> {
    let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
    let io = TokioIo::new(stream);
    let req = http::Request::get(format!("https://localhost{path}"))
        .header("host", "localhost")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let res = if h2 {
        let (mut send, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await?;
        tokio::spawn(conn);
        send.send_request(req).await?
    } else {
        let (mut send, conn) = hyper::client::conn::http1::handshake(io).await?;
        tokio::spawn(conn);
        send.send_request(req).await?
    };
    let status = res.status().as_u16();
    let version = res.version();
    let body = res.into_body().collect().await?.to_bytes();
    Ok((status, version, body))
}

fn der(pem: &str) -> CertificateDer<'static> {
    CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
}

#[tokio::test]
async fn https_listener_serves_a_client_trusting_the_ca() {
    let (pki, _dir, files) = pki();
    let mock = MockUpstream::start(MockOptions::named("up")).await.unwrap();
    let gw = TestGateway::start(&listener_config(&files, false, &mock)).await;
    let config = with_alpn(
        client_config(&pki.ca_cert_pem, None).unwrap(),
        &[b"http/1.1"],
    );
    let stream = connect(gw.addr, config).await.unwrap();
    assert_eq!(
        stream.get_ref().1.peer_certificates().unwrap()[0],
        der(&pki.server.cert_pem)
    );
    let (status, version, body) = get(stream, "/echo").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(version, http::Version::HTTP_11);
    let echo: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(echo["headers"]["x-forwarded-proto"], "https");
    // A client that does not trust the CA fails the handshake.
    let stranger = ca_and_leaf(&["localhost"]).unwrap();
    let err = connect(gw.addr, client_config(&stranger.ca_cert_pem, None).unwrap())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("invalid peer certificate"),
        "{err}"
    );
    // Plain HTTP on a TLS port gets nowhere.
    let res = client().get(gw.url("/echo")).send().await;
    assert!(res.is_err());
    gw.shutdown().await;
}

#[tokio::test]
async fn alpn_negotiates_h2_only_when_enabled() {
    let (pki, _dir, files) = pki();
    let mock = MockUpstream::start(MockOptions::named("up")).await.unwrap();
    let gw = TestGateway::start(&listener_config(&files, false, &mock)).await;
    let h1only = gw.gw.as_ref().unwrap().addrs[1];
    let offer = with_alpn(
        client_config(&pki.ca_cert_pem, None).unwrap(),
        &[b"h2", b"http/1.1"],
    );

    let stream = connect(gw.addr, offer.clone()).await.unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (status, version, body) = get(stream, "/echo").await.unwrap();
    assert_eq!((status, version), (200, http::Version::HTTP_2));
    let echo: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        echo["version"], "HTTP/1.1",
        "the upstream pool speaks HTTP/1.1"
    );

    let stream = connect(h1only, offer).await.unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let (status, version, _) = get(stream, "/echo").await.unwrap();
    assert_eq!((status, version), (200, http::Version::HTTP_11));

    // No ALPN at all: HTTP/1.1.
    let stream = connect(gw.addr, client_config(&pki.ca_cert_pem, None).unwrap())
        .await
        .unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), None);
    assert_eq!(get(stream, "/").await.unwrap().0, 200);

    let lines = gw.log_lines(3).await;
    let protocols: Vec<&str> = lines
        .iter()
        .map(|l| l["protocol"].as_str().unwrap())
        .collect();
    assert_eq!(protocols, ["HTTP/2", "HTTP/1.1", "HTTP/1.1"]);
    gw.shutdown().await;
}

#[tokio::test]
async fn mtls_listener_requires_a_client_certificate() {
    let (pki, _dir, files) = pki();
    let mock = MockUpstream::start(MockOptions::named("up")).await.unwrap();
    let gw = TestGateway::start(&listener_config(&files, true, &mock)).await;
    let anonymous = with_alpn(
        client_config(&pki.ca_cert_pem, None).unwrap(),
        &[b"http/1.1"],
    );
    // With TLS 1.3 the client may finish its side before the server checks
    // the (missing) certificate; then the first read fails instead.
    let refused = match connect(gw.addr, anonymous).await {
        Err(_) => true,
        Ok(stream) => get(stream, "/echo").await.is_err(),
    };
    assert!(refused, "a client without a certificate was served");
    // A certificate from another CA is refused too.
    let other = ca_and_leaf(&["localhost"]).unwrap();
    let wrong = with_alpn(
        client_config(&pki.ca_cert_pem, Some(&other.client)).unwrap(),
        &[b"http/1.1"],
    );
    let refused = match connect(gw.addr, wrong).await {
        Err(_) => true,
        Ok(stream) => get(stream, "/echo").await.is_err(),
    };
    assert!(refused, "a client with a foreign certificate was served");
    assert_eq!(mock.requests(), 0);

    let with_cert = with_alpn(
        client_config(&pki.ca_cert_pem, Some(&pki.client)).unwrap(),
        &[b"h2", b"http/1.1"],
    );
    let stream = connect(gw.addr, with_cert).await.unwrap();
    let (status, _, _) = get(stream, "/echo").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(mock.requests(), 1);
    gw.shutdown().await;
}

#[tokio::test]
async fn replaced_certificate_files_are_served_to_new_connections() {
    let (first, _dir, files) = pki();
    let mock = MockUpstream::start(MockOptions::named("up")).await.unwrap();
    let gw = TestGateway::start(&listener_config(&files, false, &mock)).await;
    let second = ca_and_leaf(&["localhost"]).unwrap();
    let both_cas = format!("{}{}", first.ca_cert_pem, second.ca_cert_pem);
    let config = with_alpn(client_config(&both_cas, None).unwrap(), &[b"http/1.1"]);

    let old = connect(gw.addr, config.clone()).await.unwrap();
    assert_eq!(
        old.get_ref().1.peer_certificates().unwrap()[0],
        der(&first.server.cert_pem)
    );

    // The watcher may see the new certificate before the new key; it must
    // keep the old pair until both match.
    std::fs::write(&files.server.cert, &second.server.cert_pem).unwrap();
    std::fs::write(&files.server.key, &second.server.key_pem).unwrap();
    let want = der(&second.server.cert_pem);
    let swapped = eventually(Duration::from_secs(8), || {
        let config = config.clone();
        let want = want.clone();
        async move {
            let Ok(s) = connect(gw.addr, config).await else {
                return false;
            };
            s.get_ref()
                .1
                .peer_certificates()
                .is_some_and(|c| c[0] == want)
        }
    })
    .await;
    assert!(swapped, "the new certificate was not served within 8 s");
    // New connections work end to end; the connection made before still does.
    let s = connect(gw.addr, config.clone()).await.unwrap();
    assert_eq!(get(s, "/echo").await.unwrap().0, 200);
    assert_eq!(get(old, "/echo").await.unwrap().0, 200);
    gw.shutdown().await;
}

#[tokio::test]
async fn broken_certificate_files_keep_the_old_certificate() {
    let (first, _dir, files) = pki();
    let mock = MockUpstream::start(MockOptions::named("up")).await.unwrap();
    let gw = TestGateway::start(&listener_config(&files, false, &mock)).await;
    let config = with_alpn(
        client_config(&first.ca_cert_pem, None).unwrap(),
        &[b"http/1.1"],
    );
    std::fs::write(&files.server.cert, "not a certificate").unwrap();
    // The watcher polls every 2 s: keep checking for longer than that.
    let until = tokio::time::Instant::now() + Duration::from_millis(2600);
    while tokio::time::Instant::now() < until {
        let s = connect(gw.addr, config.clone()).await.unwrap();
        assert_eq!(
            s.get_ref().1.peer_certificates().unwrap()[0],
            der(&first.server.cert_pem)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        get(connect(gw.addr, config).await.unwrap(), "/")
            .await
            .unwrap()
            .0,
        200
    );
    gw.shutdown().await;
}

fn upstream_tls_config(upstreams: &str) -> String {
    format!(
        r#"
upstreams:
{upstreams}
routes:
  - name: good
    match: {{ path: {{ prefix: /good }} }}
    rewrite: {{ path: /echo }}
    target: {{ upstream: good }}
  - name: bad
    match: {{ path: {{ prefix: /bad }} }}
    rewrite: {{ path: /echo }}
    target: {{ upstream: bad }}
"#
    )
}

#[tokio::test]
async fn https_upstream_with_a_custom_ca() {
    let pki = ca_and_leaf(&["127.0.0.1"]).unwrap();
    let (_dir, files) = pki.write_temp().unwrap();
    let mock = MockUpstream::start(MockOptions::named("secure").tls(pki.server.clone()))
        .await
        .unwrap();
    assert!(mock.url().starts_with("https://127.0.0.1:"));
    let gw = TestGateway::start(&upstream_tls_config(&format!(
        r#"  - name: good
    targets: [{{ url: "{url}" }}]
    tls: {{ ca_file: "{ca}" }}
  - name: bad
    targets: [{{ url: "{url}" }}]
"#,
        url = mock.url(),
        ca = files.ca_cert.display()
    )))
    .await;
    let res = client().get(gw.url("/good")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-upstream"], "secure");
    let echo: serde_json::Value = res.json().await.unwrap();
    assert_eq!(echo["path"], "/echo");
    // Without the CA the public roots are used, and they do not know it.
    let res = client().get(gw.url("/bad")).send().await.unwrap();
    assert_eq!(res.status(), 502);
    let json = error_json(res).await;
    assert_eq!(json["error"]["code"], "upstream_error");
    let msg = json["error"]["message"].as_str().unwrap();
    let prefix = format!("upstream bad target {}: connect failed: ", mock.addr());
    assert!(msg.starts_with(&prefix), "{msg}");
    assert!(msg.contains("certificate"), "{msg}");
    assert_eq!(mock.requests(), 1);
    gw.shutdown().await;
}

#[tokio::test]
async fn https_upstream_with_a_client_certificate() {
    let pki = ca_and_leaf(&["upstream.test"]).unwrap();
    let (_dir, files) = pki.write_temp().unwrap();
    let mock = MockUpstream::start(
        MockOptions::named("mutual").mtls(pki.server.clone(), pki.ca_cert_pem.clone()),
    )
    .await
    .unwrap();
    let gw = TestGateway::start(&upstream_tls_config(&format!(
        r#"  - name: good
    targets: [{{ url: "{url}" }}]
    tls:
      ca_file: "{ca}"
      server_name: upstream.test
      client_cert_file: "{cert}"
      client_key_file: "{key}"
  - name: bad
    targets: [{{ url: "{url}" }}]
    tls:
      ca_file: "{ca}"
      server_name: upstream.test
"#,
        url = mock.url(),
        ca = files.ca_cert.display(),
        cert = files.client.cert.display(),
        key = files.client.key.display(),
    )))
    .await;
    let res = client().get(gw.url("/good")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-upstream"], "mutual");
    // No client certificate: the upstream refuses the handshake.
    let res = client().get(gw.url("/bad")).send().await.unwrap();
    assert_eq!(res.status(), 502);
    let json = error_json(res).await;
    assert_eq!(json["error"]["code"], "upstream_error");
    let msg = json["error"]["message"].as_str().unwrap();
    assert!(
        msg.starts_with(&format!("upstream bad target {}: ", mock.addr())),
        "{msg}"
    );
    assert_eq!(mock.requests(), 1);
    gw.shutdown().await;
}
