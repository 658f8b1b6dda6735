//! TLS material for tests, made fresh with rcgen on every call: a
//! self-signed certificate, or a small PKI (a CA, a server leaf and a client
//! leaf signed by it) for mutual TLS. PEM strings in memory, written to a
//! temporary directory when a component needs file paths.
//!
//! Also builds rustls configs from that material, always with the `ring`
//! provider passed explicitly so no process-wide default is needed.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// Why TLS material could not be made or loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rcgen refused the parameters (a bad name, usually).
    #[error("generating certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// A PEM string did not hold what was expected.
    #[error("parsing PEM: {0}")]
    Pem(#[from] rustls::pki_types::pem::Error),
    /// rustls refused the certificate, key or settings.
    #[error("building rustls config: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client CA could not be turned into a verifier.
    #[error("building client verifier: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
    /// Writing files failed.
    #[error("writing TLS files: {0}")]
    Io(#[from] io::Error),
}

/// A certificate (chain) and its private key, both PEM.
#[derive(Clone, Debug)]
pub struct PemPair {
    /// Leaf first, then any intermediates.
    pub cert_pem: String,
    /// PKCS#8 private key.
    pub key_pem: String,
}

/// Paths of a [`PemPair`] written to disk.
#[derive(Clone, Debug)]
pub struct PemFiles {
    /// Certificate file.
    pub cert: PathBuf,
    /// Key file.
    pub key: PathBuf,
}

impl PemPair {
    /// Writes `<stem>.crt` and `<stem>.key` into `dir`.
    pub fn write_to(&self, dir: &Path, stem: &str) -> Result<PemFiles, TlsError> {
        let cert = dir.join(format!("{stem}.crt"));
        let key = dir.join(format!("{stem}.key"));
        std::fs::write(&cert, &self.cert_pem)?;
        std::fs::write(&key, &self.key_pem)?;
        Ok(PemFiles { cert, key })
    }
}

/// A self-signed server certificate for `names` (DNS names or IP
/// addresses), returned as `(cert_pem, key_pem)`.
pub fn self_signed(names: &[&str]) -> Result<(String, String), TlsError> {
    let key = KeyPair::generate()?;
    let params = CertificateParams::new(owned(names))?;
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// [`self_signed`] as a [`PemPair`], for [`crate::MockOptions::tls`].
pub fn self_signed_pair(names: &[&str]) -> Result<PemPair, TlsError> {
    let (cert_pem, key_pem) = self_signed(names)?;
    Ok(PemPair { cert_pem, key_pem })
}

/// A CA with a server leaf and a client leaf, for TLS and mutual TLS tests.
#[derive(Clone, Debug)]
pub struct TestPki {
    /// The CA certificate, to trust on either side.
    pub ca_cert_pem: String,
    /// Server certificate for the requested names, signed by the CA.
    pub server: PemPair,
    /// Client certificate (CN `client`, client-auth usage), signed by the CA.
    pub client: PemPair,
}

/// Paths of a [`TestPki`] written to disk.
#[derive(Clone, Debug)]
pub struct PkiFiles {
    /// `ca.crt`.
    pub ca_cert: PathBuf,
    /// `server.crt` and `server.key`.
    pub server: PemFiles,
    /// `client.crt` and `client.key`.
    pub client: PemFiles,
}

impl TestPki {
    /// Writes `ca.crt`, `server.{crt,key}` and `client.{crt,key}` into `dir`.
    pub fn write_to(&self, dir: &Path) -> Result<PkiFiles, TlsError> {
        let ca_cert = dir.join("ca.crt");
        std::fs::write(&ca_cert, &self.ca_cert_pem)?;
        Ok(PkiFiles {
            ca_cert,
            server: self.server.write_to(dir, "server")?,
            client: self.client.write_to(dir, "client")?,
        })
    }

    /// Writes the files into a fresh temporary directory, deleted when the
    /// returned guard drops.
    pub fn write_temp(&self) -> Result<(tempfile::TempDir, PkiFiles), TlsError> {
        let dir = tempfile::tempdir()?;
        let files = self.write_to(dir.path())?;
        Ok((dir, files))
    }
}

/// Makes a CA, a server certificate for `server_names` and a client
/// certificate, both signed by the CA.
pub fn ca_and_leaf(server_names: &[&str]) -> Result<TestPki, TlsError> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "sy-testkit CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = ca_params.self_signed(&ca_key)?;

    let leaf = |names: Vec<String>, cn: &str, usage: ExtendedKeyUsagePurpose| {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(names)?;
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![usage];
        let cert = params.signed_by(&key, &ca, &ca_key)?;
        Ok::<_, TlsError>(PemPair {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    };
    let server = leaf(
        owned(server_names),
        server_names.first().copied().unwrap_or("server"),
        ExtendedKeyUsagePurpose::ServerAuth,
    )?;
    let client = leaf(Vec::new(), "client", ExtendedKeyUsagePurpose::ClientAuth)?;
    Ok(TestPki {
        ca_cert_pem: ca.pem(),
        server,
        client,
    })
}

fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(ca_pem: &str) -> Result<RootCertStore, TlsError> {
    let mut store = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        store.add(cert?)?;
    }
    Ok(store)
}

fn chain(
    pair: &PemPair,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let certs =
        CertificateDer::pem_slice_iter(pair.cert_pem.as_bytes()).collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_slice(pair.key_pem.as_bytes())?;
    Ok((certs, key))
}

/// A server config for `identity`, offering h2 and http/1.1 by ALPN; with
/// `client_ca_pem`, clients must present a certificate signed by it.
pub fn server_config(
    identity: &PemPair,
    client_ca_pem: Option<&str>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let (certs, key) = chain(identity)?;
    let builder =
        ServerConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
    let builder = match client_ca_pem {
        Some(ca) => {
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots(ca)?), provider())
                    .build()?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A client config trusting only `ca_pem` (a CA or a self-signed
/// certificate), presenting `identity` when given. No ALPN is set.
pub fn client_config(
    ca_pem: &str,
    identity: Option<&PemPair>,
) -> Result<Arc<ClientConfig>, TlsError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots(ca_pem)?);
    let config = match identity {
        Some(pair) => {
            let (certs, key) = chain(pair)?;
            builder.with_client_auth_cert(certs, key)?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}
