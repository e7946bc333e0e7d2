//! The development CA behind `chatmesh certs` and the names of the five services' certificates.
//! Every service certificate is good as a server and as a client certificate (both extended key
//! usages), since each service is both. Keys are ECDSA P-256. Not for production: the CA key
//! is written next to the certificates, and nothing revokes them. (Tests make their own
//! certificates with the test-support crate: this command's output is a product, checked by
//! its own tests.)

use std::time::{SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// The five services, each of which gets a certificate from `chatmesh certs`.
pub(crate) const SERVICES: [&str; 5] = ["chatbot", "router", "graph", "vector", "relational"];

/// Names every service certificate carries besides the service's own: loopback, for `chatmesh
/// up`, local processes and the health probe.
pub(crate) const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// A PEM certificate and its PEM private key.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    /// The certificate, PEM.
    pub(crate) cert_pem: String,
    /// Its private key, PEM (PKCS#8).
    pub(crate) key_pem: String,
}

/// A self-signed CA that issues certificates.
pub(crate) struct DevCa {
    params: CertificateParams,
    key: KeyPair,
    cert_pem: String,
}

impl std::fmt::Debug for DevCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevCa").finish_non_exhaustive()
    }
}

impl DevCa {
    /// A new CA with a fresh key, named `name`.
    pub(crate) fn new(name: &str) -> Result<Self, rcgen::Error> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        set_validity(&mut params);
        let key = KeyPair::generate()?;
        let cert_pem = params.self_signed(&key)?.pem();
        Ok(Self {
            params,
            key,
            cert_pem,
        })
    }

    /// The CA certificate, PEM: the `--tls-ca` file.
    pub(crate) fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA's private key, PEM. Whoever holds it can issue certificates the mesh trusts.
    pub(crate) fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    /// A certificate for `common_name` valid for the DNS names and IP addresses in `names`,
    /// usable as server and as client certificate.
    pub(crate) fn issue(
        &self,
        common_name: &str,
        names: &[String],
    ) -> Result<Issued, rcgen::Error> {
        let mut params = CertificateParams::new(names.to_vec())?;
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        set_validity(&mut params);
        let key = KeyPair::generate()?;
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// The names of `service`'s certificate: the service name (the compose host name), loopback,
/// then `extra` (e.g. Kubernetes Service names), without repeats.
pub(crate) fn service_names(service: &str, extra: &[String]) -> Vec<String> {
    let mut names = vec![service.to_owned()];
    names.extend(LOOPBACK_NAMES.iter().map(|n| (*n).to_owned()));
    for name in extra {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

/// Valid from the start of last year to the start of the year after next: wide enough to
/// ignore clock skew and the inexact year computed here, short enough to expire.
fn set_validity(params: &mut CertificateParams) {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let year = 1970 + (seconds / 31_556_952) as i32;
    params.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
    params.not_after = rcgen::date_time_ymd(year + 2, 1, 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_start_with_the_service_and_skip_repeats() {
        let names = service_names("router", &["localhost".into(), "router.mesh.svc".into()]);
        assert_eq!(
            names,
            ["router", "localhost", "127.0.0.1", "::1", "router.mesh.svc"]
        );
    }

    #[test]
    fn issued_pems_parse() {
        let ca = DevCa::new("test CA").unwrap();
        let issued = ca.issue("graph", &service_names("graph", &[])).unwrap();
        assert!(issued.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(issued.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(ca.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        assert_ne!(ca.cert_pem(), issued.cert_pem);
    }
}
