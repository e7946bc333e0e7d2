//! The client side of mTLS: a reloadable rustls `ClientConfig` that trusts only the CA and
//! presents this service's certificate, and the connector tonic channels use with it. The
//! server's certificate must carry, as a subject alternative name, the name the client
//! expects: the address's host (an IP address or a DNS name), or the name set with
//! [`ClientTls::expecting`]. Service-to-service clients expect the callee's service name
//! (`router`, `graph`, …) because they dial resolved pod or container IPs: the identity checked
//! is the service's, whatever address it has today.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tower_service::Service;

use super::error::TlsError;
use super::material::{Material, TlsFiles};
use super::reload::Reloading;

/// A client's TLS settings, reloaded when the files change. Cheap to clone.
#[derive(Clone)]
pub struct ClientTls {
    config: Arc<Reloading<ClientConfig>>,
    /// The name the server's certificate must carry; `None`: the address's host.
    server_name: Option<ServerName<'static>>,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls").finish_non_exhaustive()
    }
}

impl ClientTls {
    /// Loads the files; errors name the file and the reason.
    pub fn load(files: TlsFiles, reload: Duration) -> Result<Self, TlsError> {
        Ok(Self {
            config: Arc::new(Reloading::load(files, reload, build)?),
            server_name: None,
        })
    }

    /// The same settings, checking that servers' certificates name `server` (a DNS name or an
    /// IP address) whatever address is dialled.
    pub fn expecting(&self, server: &str) -> Result<Self, String> {
        let name = ServerName::try_from(server.to_owned())
            .map_err(|e| format!("'{server}' is not a DNS name or IP address: {e}"))?;
        Ok(Self {
            config: Arc::clone(&self.config),
            server_name: Some(name),
        })
    }

    /// The settings for the next handshake (reloaded if the files changed).
    pub fn config(&self) -> Arc<ClientConfig> {
        self.config.current()
    }

    /// A connector for `Endpoint::connect_with_connector(_lazy)`.
    pub fn connector(&self) -> TlsConnector {
        TlsConnector { tls: self.clone() }
    }
}

fn build(material: &Material, files: &TlsFiles) -> Result<ClientConfig, TlsError> {
    let mut config = ClientConfig::builder_with_provider(super::material::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Mismatch(e.to_string()))?
        .with_root_certificates(material.roots(files)?)
        .with_client_auth_cert(material.chain(files)?, material.key(files)?)
        .map_err(|e| TlsError::Mismatch(format!("the key does not fit the certificate: {e}")))?;
    // gRPC channels speak HTTP/2 only.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// Opens a TCP connection to the URI's host and port and completes a TLS handshake on it.
#[derive(Debug, Clone)]
pub struct TlsConnector {
    tls: ClientTls,
}

/// A connection opened by [`TlsConnector`].
pub type TlsClientStream = TokioIo<tokio_rustls::client::TlsStream<TcpStream>>;

impl Service<Uri> for TlsConnector {
    type Response = TlsClientStream;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<TlsClientStream>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let tls = self.tls.clone();
        Box::pin(async move {
            let (host, port) = host_and_port(&uri)?;
            let name = match &tls.server_name {
                Some(name) => name.clone(),
                None => ServerName::try_from(host.clone()).map_err(|e| {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("server name '{host}': {e}"),
                    )
                })?,
            };
            let tcp = TcpStream::connect((host.as_str(), port)).await?;
            tcp.set_nodelay(true)?;
            let stream = tokio_rustls::TlsConnector::from(tls.config())
                .connect(name, tcp)
                .await?;
            Ok(TokioIo::new(stream))
        })
    }
}

/// The host (IPv6 without brackets) and the port (the scheme's default when absent).
pub(crate) fn host_and_port(uri: &Uri) -> io::Result<(String, u16)> {
    let host = uri.host().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("no host in '{uri}'"))
    })?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("https") {
            443
        } else {
            80
        });
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_ports_come_from_the_uri() {
        let cases = [
            ("http://127.0.0.1:50052", ("127.0.0.1", 50052)),
            ("http://[::1]:7", ("::1", 7)),
            (
                "http://router.chatmesh.svc:50052",
                ("router.chatmesh.svc", 50052),
            ),
            ("https://router", ("router", 443)),
        ];
        for (uri, (host, port)) in cases {
            let parsed = host_and_port(&uri.parse().unwrap()).unwrap();
            assert_eq!(parsed, (host.to_owned(), port), "{uri}");
        }
    }
}
