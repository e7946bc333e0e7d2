//! Certificates for mTLS tests: a CA made for one test and the certificates it issues, as PEM
//! text and as files. Nothing here knows a service: a test names each certificate and the
//! names it is valid for ([`with_loopback`] adds the loopback names a local server is dialled
//! by). Every certificate is good as a server and as a client certificate, as chatmesh's mTLS
//! wants (each service is both). Keys are ECDSA P-256.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// The names a server on this machine is dialled by.
pub const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// `name` followed by [`LOOPBACK_NAMES`]: what a test certificate for `name` is valid for.
pub fn with_loopback(name: &str) -> Vec<String> {
    std::iter::once(name)
        .chain(LOOPBACK_NAMES)
        .map(str::to_owned)
        .collect()
}

/// A PEM certificate and its PEM private key.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Its private key, PEM (PKCS#8).
    pub key_pem: String,
}

impl Issued {
    /// Writes `<dir>/<stem>.pem` and `<dir>/<stem>.key`, the `--tls-cert` and `--tls-key` files.
    pub fn write(&self, dir: &Path, stem: &str) {
        std::fs::write(dir.join(format!("{stem}.pem")), &self.cert_pem).expect("write cert");
        std::fs::write(dir.join(format!("{stem}.key")), &self.key_pem).expect("write key");
    }
}

/// A self-signed CA for one test.
pub struct TestCa {
    params: CertificateParams,
    key: KeyPair,
    cert_pem: String,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl TestCa {
    /// A new CA with a fresh key, named `name` (two CAs may share a name: an impostor's does).
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().expect("CA key");
        let cert_pem = params.self_signed(&key).expect("CA certificate").pem();
        Self {
            params,
            key,
            cert_pem,
        }
    }

    /// The CA certificate, PEM: the `--tls-ca` file.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Writes the CA certificate to `<dir>/ca.pem` and returns its path.
    pub fn write(&self, dir: &Path) -> PathBuf {
        let path = dir.join("ca.pem");
        std::fs::write(&path, &self.cert_pem).expect("write ca.pem");
        path
    }

    /// A certificate for `common_name`, valid for the DNS names and IP addresses in `names`, as
    /// server and as client certificate.
    pub fn issue(&self, common_name: &str, names: &[String]) -> Issued {
        let mut params = CertificateParams::new(names.to_vec()).expect("certificate names");
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().expect("key");
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).expect("certificate");
        Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// [`TestCa::issue`] for `name` and loopback ([`with_loopback`]).
    pub fn issue_for(&self, name: &str) -> Issued {
        self.issue(name, &with_loopback(name))
    }
}
