//! `rediss://`: the limiter over TLS to a redis-server of the test's own,
//! started with certificates made for the test (a CA, a server certificate
//! for 127.0.0.1, a client certificate). Needs `redis-server` built with TLS
//! (Debian's is); `SY_SKIP_REDIS=1` skips these with the other Redis tests.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sy_cluster::{Cluster, ClusterError, ClusterOptions, ClusterTls, OnError};
use sy_state::{Quota, RateLimiter};
use sy_testkit::tls::{PkiFiles, TestPki, ca_and_leaf};

use crate::common::{closed_port, random};

/// A TLS-only redis-server on a free port, stopped on drop.
struct TlsRedis {
    child: Child,
    port: u16,
    pki: TestPki,
    _dir: tempfile::TempDir,
}

impl TlsRedis {
    fn start(require_client_certificate: bool) -> Option<TlsRedis> {
        if std::env::var("SY_SKIP_REDIS").is_ok_and(|v| v == "1") {
            return None;
        }
        let pki = ca_and_leaf(&["127.0.0.1"]).unwrap();
        let (dir, files): (_, PkiFiles) = pki.write_temp().unwrap();
        let port = closed_port();
        let child = Command::new("redis-server")
            .args(["--port", "0", "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "no", "--tls-port", &port.to_string()])
            .arg("--tls-cert-file")
            .arg(&files.server.cert)
            .arg("--tls-key-file")
            .arg(&files.server.key)
            .arg("--tls-ca-cert-file")
            .arg(&files.ca_cert)
            .args([
                "--tls-auth-clients",
                if require_client_certificate { "yes" } else { "no" },
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("redis-server could not be started ({e}); install it (apt-get install redis-server)")
            });
        let mut server = TlsRedis {
            child,
            port,
            pki,
            _dir: dir,
        };
        // A hang guard: redis-server listens within milliseconds.
        for _ in 0..500 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("redis-server exited ({status}): is it built with TLS?");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not listen on {port}");
    }

    fn cluster(&self, tls: Option<ClusterTls>) -> Result<Cluster, ClusterError> {
        Cluster::new(ClusterOptions {
            prefix: format!("sytest:tls:{:016x}", random()),
            timeout: Duration::from_secs(2),
            // Refusals show when Redis could not be reached, so a test can
            // tell "limited by Redis" from "let through because it failed".
            on_error: OnError::Deny,
            tls,
            ..ClusterOptions::new(format!("rediss://127.0.0.1:{}/0", self.port))
        })
    }

    fn trusted(&self) -> ClusterTls {
        ClusterTls {
            ca_pem: Some(self.pki.ca_cert_pem.clone().into_bytes()),
            client: None,
        }
    }

    fn with_client_certificate(&self) -> ClusterTls {
        ClusterTls {
            client: Some((
                self.pki.client.cert_pem.clone().into_bytes(),
                self.pki.client.key_pem.clone().into_bytes(),
            )),
            ..self.trusted()
        }
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const TWO_PER_MINUTE: Quota = Quota {
    rate: 2,
    period: Duration::from_secs(60),
    burst: 2,
};

/// Allowed, allowed, refused: the bucket is in Redis. `false` for the first
/// call means Redis could not be reached (`on_error: deny`).
async fn bucket_works(c: &Cluster) -> bool {
    let limiter = c.limiter();
    if !limiter.acquire("k", TWO_PER_MINUTE, 1).await.allowed {
        return false;
    }
    assert!(limiter.acquire("k", TWO_PER_MINUTE, 1).await.allowed);
    let third = limiter.acquire("k", TWO_PER_MINUTE, 1).await;
    assert!(!third.allowed, "the bucket holds two");
    assert!(third.retry_after > Duration::from_secs(1), "{third:?}");
    true
}

#[tokio::test]
async fn a_server_trusted_through_the_configured_ca_serves_limits() {
    let Some(redis) = TlsRedis::start(false) else {
        return;
    };
    let c = redis.cluster(Some(redis.trusted())).unwrap();
    assert!(bucket_works(&c).await, "TLS with the test's CA must work");
}

#[tokio::test]
async fn a_server_the_client_does_not_trust_is_not_used() {
    let Some(redis) = TlsRedis::start(false) else {
        return;
    };
    // The system's roots do not hold the test's CA; nor does another CA.
    let stranger = ca_and_leaf(&["127.0.0.1"]).unwrap();
    for tls in [
        None,
        Some(ClusterTls {
            ca_pem: Some(stranger.ca_cert_pem.into_bytes()),
            client: None,
        }),
    ] {
        let c = redis.cluster(tls).unwrap();
        assert!(!bucket_works(&c).await, "an unverified server was used");
    }
}

#[tokio::test]
async fn a_server_requiring_client_certificates_gets_one() {
    let Some(redis) = TlsRedis::start(true) else {
        return;
    };
    let without = redis.cluster(Some(redis.trusted())).unwrap();
    assert!(
        !bucket_works(&without).await,
        "the server must refuse a client without a certificate"
    );
    let with = redis
        .cluster(Some(redis.with_client_certificate()))
        .unwrap();
    assert!(bucket_works(&with).await);
}

#[tokio::test]
async fn unusable_certificates_are_an_error_at_start() {
    let Some(redis) = TlsRedis::start(false) else {
        return;
    };
    let garbage = ClusterTls {
        ca_pem: Some(b"not a certificate".to_vec()),
        client: None,
    };
    let err = redis.cluster(Some(garbage)).unwrap_err();
    assert!(matches!(err, ClusterError::Tls(_)), "{err:?}");
    assert!(err.to_string().contains("TLS certificates"), "{err}");
}

#[tokio::test]
async fn a_client_key_that_is_not_a_key_is_an_error_at_start() {
    let Some(redis) = TlsRedis::start(false) else {
        return;
    };
    let mut tls = redis.with_client_certificate();
    if let Some((_, key)) = tls.client.as_mut() {
        *key = redis.pki.client.cert_pem.clone().into_bytes();
    }
    let err = redis.cluster(Some(tls)).unwrap_err();
    assert!(matches!(err, ClusterError::Tls(_)), "{err:?}");
}
