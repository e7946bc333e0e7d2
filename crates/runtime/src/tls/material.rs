//! The three PEM files behind mTLS, read as bytes (so a change is seen whatever the file system
//! says about times, including Kubernetes' symlink swap of a mounted Secret) and parsed into
//! the CA roots, the certificate chain and the private key.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::error::TlsError;

const CA_SETTING: &str = "--tls-ca (CHATMESH_TLS_CA)";
const CERT_SETTING: &str = "--tls-cert (CHATMESH_TLS_CERT)";
const KEY_SETTING: &str = "--tls-key (CHATMESH_TLS_KEY)";

/// Where the CA, the certificate chain and the key are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// CA certificate(s), PEM.
    pub ca: PathBuf,
    /// This service's certificate chain, PEM.
    pub cert: PathBuf,
    /// Its private key, PEM.
    pub key: PathBuf,
}

/// The contents of the three files at one moment.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Material {
    ca: Vec<u8>,
    cert: Vec<u8>,
    key: Vec<u8>,
}

impl Material {
    /// Reads the three files.
    pub(crate) fn read(files: &TlsFiles) -> Result<Self, TlsError> {
        Ok(Self {
            ca: read(CA_SETTING, &files.ca)?,
            cert: read(CERT_SETTING, &files.cert)?,
            key: read(KEY_SETTING, &files.key)?,
        })
    }

    /// The CA certificates as trust roots.
    pub(crate) fn roots(&self, files: &TlsFiles) -> Result<Arc<RootCertStore>, TlsError> {
        let certs = certificates(&self.ca, CA_SETTING, &files.ca)?;
        let mut roots = RootCertStore::empty();
        for cert in certs {
            roots.add(cert).map_err(|e| TlsError::File {
                setting: CA_SETTING,
                path: files.ca.clone(),
                reason: format!("not a usable CA certificate: {e}"),
            })?;
        }
        Ok(Arc::new(roots))
    }

    /// This service's certificate chain, leaf first.
    pub(crate) fn chain(&self, files: &TlsFiles) -> Result<Vec<CertificateDer<'static>>, TlsError> {
        certificates(&self.cert, CERT_SETTING, &files.cert)
    }

    /// This service's private key.
    pub(crate) fn key(&self, files: &TlsFiles) -> Result<PrivateKeyDer<'static>, TlsError> {
        PrivateKeyDer::from_pem_slice(&self.key).map_err(|e| TlsError::File {
            setting: KEY_SETTING,
            path: files.key.clone(),
            reason: format!("no PEM private key in it: {e}"),
        })
    }
}

fn read(setting: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError::File {
        setting,
        path: path.to_owned(),
        reason: format!("cannot read it: {e}"),
    })
}

fn certificates(
    pem: &[u8],
    setting: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let fail = |reason: String| TlsError::File {
        setting,
        path: path.to_owned(),
        reason,
    };
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(format!("not PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(fail("no PEM certificate in it".into()));
    }
    Ok(certs)
}

/// The crypto provider every chatmesh TLS setting uses (ring: no C toolchain needed).
pub(crate) fn provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}
