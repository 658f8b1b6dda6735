//! TLS for listeners (rustls, PEM files, reload on change, optional mTLS) and
//! for upstream connections (custom CA, client certificates).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio_util::sync::CancellationToken;

/// Why TLS material could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or holds no usable PEM item.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// rustls refused the combination (e.g. key does not match certificate).
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

fn file_err(path: &Path, reason: impl ToString) -> TlsError {
    TlsError::File {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Read a PEM certificate chain.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_err(path, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_err(path, e))?;
    if certs.is_empty() {
        return Err(file_err(path, "no CERTIFICATE in PEM file"));
    }
    Ok(certs)
}

/// Read a PEM private key (PKCS#8, PKCS#1 or SEC1).
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| file_err(path, e))
}

fn roots_from(path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in load_certs(path)? {
        roots.add(cert).map_err(|e| file_err(path, e))?;
    }
    Ok(roots)
}

/// Files behind a listener's TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTlsFiles {
    /// Certificate chain.
    pub cert: PathBuf,
    /// Private key.
    pub key: PathBuf,
    /// CA for client certificates (mTLS).
    pub client_ca: Option<PathBuf>,
    /// Whether a client certificate is mandatory when `client_ca` is set.
    pub require_client_cert: bool,
}

impl ServerTlsFiles {
    /// Build a rustls server config; ALPN offers `h2` (when `http2`) and `http/1.1`.
    pub fn build(&self, http2: bool) -> Result<ServerConfig, TlsError> {
        let certs = load_certs(&self.cert)?;
        let key = load_key(&self.key)?;
        let builder = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?;
        let builder = match &self.client_ca {
            Some(ca) => {
                let roots = Arc::new(roots_from(ca)?);
                let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider());
                let verifier = if self.require_client_cert {
                    verifier
                } else {
                    verifier.allow_unauthenticated()
                };
                builder.with_client_cert_verifier(verifier.build().map_err(|e| file_err(ca, e))?)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_single_cert(certs, key)?;
        config.alpn_protocols = if http2 {
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        } else {
            vec![b"http/1.1".to_vec()]
        };
        Ok(config)
    }

    fn mtimes(&self) -> Vec<Option<SystemTime>> {
        let mut paths = vec![&self.cert, &self.key];
        if let Some(ca) = &self.client_ca {
            paths.push(ca);
        }
        paths
            .into_iter()
            .map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
            .collect()
    }
}

/// The crypto provider: ring, everywhere, so no C toolchain beyond `cc` is needed.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A listener's current TLS config, swapped when the files change.
#[derive(Debug)]
pub struct ReloadingTls {
    current: ArcSwap<ServerConfig>,
    files: ServerTlsFiles,
    http2: bool,
}

impl ReloadingTls {
    /// Load the files now; fails if they are unusable.
    pub fn new(files: ServerTlsFiles, http2: bool) -> Result<Arc<Self>, TlsError> {
        let config = files.build(http2)?;
        Ok(Arc::new(ReloadingTls {
            current: ArcSwap::from_pointee(config),
            files,
            http2,
        }))
    }

    /// The config new connections should use.
    pub fn current(&self) -> Arc<ServerConfig> {
        self.current.load_full()
    }

    /// Reload now. A failure keeps the old certificate serving.
    pub fn reload(&self) -> Result<(), TlsError> {
        let config = self.files.build(self.http2)?;
        self.current.store(Arc::new(config));
        Ok(())
    }

    /// Poll the files' modification times every `every` and reload on change
    /// until `cancel` fires. Polling (not inotify) because certificate
    /// managers often replace files through symlink swaps that inotify misses.
    pub async fn watch(self: Arc<Self>, every: Duration, cancel: CancellationToken) {
        let mut seen = self.files.mtimes();
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            let now = self.files.mtimes();
            if now != seen {
                match self.reload() {
                    Ok(()) => {
                        tracing::info!(cert = %self.files.cert.display(), "TLS certificate reloaded");
                        seen = now;
                    }
                    Err(e) => {
                        // Keep `seen` so a half-written pair is retried next tick.
                        tracing::warn!(error = %e, "TLS reload failed; the previous certificate keeps serving");
                    }
                }
            }
        }
    }
}

/// Settings for TLS to upstreams.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientTlsFiles {
    /// Trust only this CA bundle instead of the public web roots.
    pub ca: Option<PathBuf>,
    /// Client certificate chain for mTLS to the upstream.
    pub client_cert: Option<PathBuf>,
    /// Client key.
    pub client_key: Option<PathBuf>,
}

impl ClientTlsFiles {
    /// A rustls client config; ALPN set by the connector.
    pub fn build(&self) -> Result<ClientConfig, TlsError> {
        let roots = match &self.ca {
            Some(ca) => roots_from(ca)?,
            None => RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            },
        };
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots);
        let config = match (&self.client_cert, &self.client_key) {
            (Some(cert), Some(key)) => {
                builder.with_client_auth_cert(load_certs(cert)?, load_key(key)?)?
            }
            _ => builder.with_no_client_auth(),
        };
        Ok(config)
    }
}
