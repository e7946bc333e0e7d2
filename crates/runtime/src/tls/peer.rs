//! Who is at the other end of an accepted connection, as tonic hands it to every request of the
//! connection (its `Connected::ConnectInfo`): the TCP addresses, and under mTLS the name the
//! client's certificate gives its holder. The name is what authorization by caller
//! (`crate::edge::callers`) checks, so it is read once per connection, at the handshake, from the
//! chain rustls has just verified against the CA.
//!
//! The name is the certificate's first DNS subject alternative name: the certificates
//! `chatmesh certs` issues (and the test CA's) list the holder's service name first (`router`,
//! `graph`), then the names it is dialled by; an operator's certificate lists `admin` first. This is the SPIFFE-like convention of
//! Linkerd and Istio (the identity is a SAN, not the deprecated common name), kept to plain DNS
//! names so that any CA can issue it.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use tonic::transport::server::TcpConnectInfo;

/// What tonic puts in the extensions of every request on a connection of a `GrpcServer`.
/// `crate::edge::connection` unpacks it, so handlers still find the plain [`TcpConnectInfo`]
/// (`Request::remote_addr`).
#[derive(Debug, Clone)]
pub struct PeerInfo {
    tcp: TcpConnectInfo,
    name: Option<Arc<str>>,
}

impl PeerInfo {
    /// A plaintext connection, or a TLS one whose client presented no certificate.
    pub(crate) fn anonymous(tcp: TcpConnectInfo) -> Self {
        Self { tcp, name: None }
    }

    /// A connection whose client presented `chain` (leaf first), already verified.
    pub(crate) fn with_chain(tcp: TcpConnectInfo, chain: &[CertificateDer<'_>]) -> Self {
        Self {
            tcp,
            name: chain.first().and_then(first_dns_name),
        }
    }

    /// The TCP addresses.
    pub fn tcp(&self) -> &TcpConnectInfo {
        &self.tcp
    }

    /// The client certificate's first DNS name (lower case), when it presented one that has one.
    pub fn name(&self) -> Option<&Arc<str>> {
        self.name.as_ref()
    }
}

/// The first DNS subject alternative name of `cert`, lower-cased; `None` for a certificate
/// without one (IP addresses only) or one that does not parse.
pub(crate) fn first_dns_name(cert: &CertificateDer<'_>) -> Option<Arc<str>> {
    let cert = webpki::EndEntityCert::try_from(cert).ok()?;
    let name = cert.valid_dns_names().next()?;
    Some(Arc::from(name.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate(names: &[&str]) -> CertificateDer<'static> {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let key = rcgen_key();
        let params = rcgen::CertificateParams::new(names).unwrap();
        params.self_signed(&key).unwrap().der().clone()
    }

    fn rcgen_key() -> rcgen::KeyPair {
        rcgen::KeyPair::generate().unwrap()
    }

    #[test]
    fn the_name_is_the_first_dns_name_not_an_ip_address() {
        let cert = certificate(&["127.0.0.1", "Router", "localhost"]);
        assert_eq!(first_dns_name(&cert).as_deref(), Some("router"));
        let ip_only = certificate(&["127.0.0.1"]);
        assert_eq!(first_dns_name(&ip_only), None);
        assert_eq!(first_dns_name(&CertificateDer::from(vec![1, 2, 3])), None);
    }
}
