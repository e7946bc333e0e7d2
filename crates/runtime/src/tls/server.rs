//! The server side of mTLS: a reloadable rustls `ServerConfig` that requires (or, for a public
//! edge, accepts) a client certificate from the CA, and the accept loop that hands tonic only
//! connections whose handshake succeeded. Each handshake runs in its own task with a time limit,
//! so a slow or hostile client delays nobody; a refused handshake is logged at debug and the
//! loop goes on. Each accepted connection carries its [`PeerInfo`]: who the verified client
//! certificate says the caller is.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use clap::ValueEnum;
use futures::{Stream, StreamExt};
use rustls::ServerConfig;
use rustls::server::WebPkiClientVerifier;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::{Connected, TcpIncoming};

use super::error::TlsError;
use super::material::{Material, TlsFiles};
use super::peer::PeerInfo;
use super::reload::Reloading;
use crate::write_at_flush::WriteAtFlush;

/// Whether a TLS server insists on a client certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ClientAuth {
    /// Every client must present a certificate signed by the CA (mutual TLS).
    #[default]
    Required,
    /// Clients may connect without a certificate; one that presents a certificate must present
    /// one the CA signed. For a public edge (the chatbot) whose other callers hold no certificate.
    Optional,
}

/// Longest a client may take to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshaken connections waiting for tonic to take them.
const ACCEPTED_BACKLOG: usize = 64;

/// The server's TLS settings, reloaded when the files change. Cheap to clone.
#[derive(Clone)]
pub struct ServerTls {
    config: Arc<Reloading<ServerConfig>>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls").finish_non_exhaustive()
    }
}

impl ServerTls {
    /// Loads the files; errors name the file and the reason.
    pub fn load(files: TlsFiles, auth: ClientAuth, reload: Duration) -> Result<Self, TlsError> {
        let build = match auth {
            ClientAuth::Required => build_required,
            ClientAuth::Optional => build_optional,
        };
        Ok(Self {
            config: Arc::new(Reloading::load(files, reload, build)?),
        })
    }

    /// The settings for the next handshake (reloaded if the files changed).
    pub fn config(&self) -> Arc<ServerConfig> {
        self.config.current()
    }

    /// Accepts on `listener` and yields the connections whose TLS handshake succeeded. The
    /// listener closes when the returned stream is dropped.
    pub fn incoming(&self, listener: TcpListener) -> ReceiverStream<io::Result<TlsConnection>> {
        let (accepted, stream) = mpsc::channel(ACCEPTED_BACKLOG);
        tokio::spawn(accept_loop(self.clone(), listener, accepted));
        ReceiverStream::new(stream)
    }
}

/// Idle time after which the kernel probes an accepted connection (TCP keepalive), so that a
/// client that vanished does not hold its connection for ever; HTTP/2 pings are off by default
/// (`--keepalive-interval`).
const TCP_KEEPALIVE: Duration = Duration::from_secs(60);

/// The connections `GrpcServer` serves: TLS ones when `tls` is set, plain TCP otherwise.
pub fn incoming(
    listener: TcpListener,
    tls: Option<ServerTls>,
) -> impl Stream<Item = io::Result<Accepted>> {
    match tls {
        Some(tls) => tls
            .incoming(listener)
            .map(|c| c.map(|tls| Accepted::Tls(Box::new(WriteAtFlush::new(tls)))))
            .left_stream(),
        None => TcpIncoming::from(listener)
            .with_nodelay(Some(true))
            .with_keepalive(Some(TCP_KEEPALIVE))
            .map(|c| c.map(|tcp| Accepted::Plain(WriteAtFlush::new(tcp))))
            .right_stream(),
    }
}

async fn accept_loop(
    tls: ServerTls,
    listener: TcpListener,
    accepted: mpsc::Sender<io::Result<TlsConnection>>,
) {
    loop {
        let next = tokio::select! {
            next = listener.accept() => next,
            () = accepted.closed() => return,
        };
        let (tcp, peer) = match next {
            Ok(next) => next,
            Err(error) => {
                // Out of file descriptors and the like: pause instead of spinning.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let keepalive = socket2::TcpKeepalive::new().with_time(TCP_KEEPALIVE);
        let _ = socket2::SockRef::from(&tcp).set_tcp_keepalive(&keepalive);
        let (tls, accepted) = (tls.clone(), accepted.clone());
        tokio::spawn(async move {
            let acceptor = TlsAcceptor::from(tls.config());
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => {
                    let _ = accepted.send(Ok(TlsConnection::new(stream))).await;
                }
                Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake refused"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

fn build_required(material: &Material, files: &TlsFiles) -> Result<ServerConfig, TlsError> {
    build(material, files, ClientAuth::Required)
}

fn build_optional(material: &Material, files: &TlsFiles) -> Result<ServerConfig, TlsError> {
    build(material, files, ClientAuth::Optional)
}

fn build(
    material: &Material,
    files: &TlsFiles,
    auth: ClientAuth,
) -> Result<ServerConfig, TlsError> {
    let provider = super::material::provider();
    let verifier =
        WebPkiClientVerifier::builder_with_provider(material.roots(files)?, provider.clone());
    let verifier = match auth {
        ClientAuth::Required => verifier,
        ClientAuth::Optional => verifier.allow_unauthenticated(),
    }
    .build()
    .map_err(|e| TlsError::Mismatch(format!("cannot verify clients with this CA: {e}")))?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Mismatch(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(material.chain(files)?, material.key(files)?)
        .map_err(|e| TlsError::Mismatch(format!("the key does not fit the certificate: {e}")))?;
    // The port serves gRPC (HTTP/2) and /metrics and the HTTP APIs (HTTP/1.1 too).
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// One accepted TLS connection, as tonic serves it.
pub struct TlsConnection {
    inner: tokio_rustls::server::TlsStream<TcpStream>,
    /// Read once from the verified client certificate.
    peer: PeerInfo,
}

impl TlsConnection {
    fn new(inner: tokio_rustls::server::TlsStream<TcpStream>) -> Self {
        let tcp = inner.get_ref().0.connect_info();
        let peer = match inner.get_ref().1.peer_certificates() {
            Some(chain) => PeerInfo::with_chain(tcp, chain),
            None => PeerInfo::anonymous(tcp),
        };
        Self { inner, peer }
    }

    /// The certificate chain the client presented (empty when it presented none).
    pub fn peer_certificates(&self) -> Vec<rustls::pki_types::CertificateDer<'static>> {
        self.inner
            .get_ref()
            .1
            .peer_certificates()
            .map(|certs| certs.iter().map(|c| c.clone().into_owned()).collect())
            .unwrap_or_default()
    }
}

impl Connected for TlsConnection {
    // The TCP addresses and the certificate's name; `crate::edge::connection` puts the plain
    // TCP addresses back for `Request::remote_addr`.
    type ConnectInfo = PeerInfo;

    fn connect_info(&self) -> PeerInfo {
        self.peer.clone()
    }
}

impl AsyncRead for TlsConnection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConnection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A connection as [`incoming`] yields it: plaintext or TLS, with the same connection info;
/// either writes to the socket when HTTP/2 flushes (`crate::write_at_flush`).
pub enum Accepted {
    /// mTLS is off.
    Plain(WriteAtFlush<TcpStream>),
    /// mTLS is on and the handshake succeeded (boxed: the TLS state is large).
    Tls(Box<WriteAtFlush<TlsConnection>>),
}

impl Connected for Accepted {
    type ConnectInfo = PeerInfo;

    fn connect_info(&self) -> PeerInfo {
        match self {
            Accepted::Plain(plain) => PeerInfo::anonymous(plain.get_ref().connect_info()),
            Accepted::Tls(tls) => tls.get_ref().connect_info(),
        }
    }
}

impl AsyncRead for Accepted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Accepted::Plain(plain) => Pin::new(plain).poll_read(cx, buf),
            Accepted::Tls(tls) => Pin::new(tls).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Accepted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Accepted::Plain(plain) => Pin::new(plain).poll_write(cx, buf),
            Accepted::Tls(tls) => Pin::new(tls).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Accepted::Plain(plain) => Pin::new(plain).poll_flush(cx),
            Accepted::Tls(tls) => Pin::new(tls).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Accepted::Plain(plain) => Pin::new(plain).poll_shutdown(cx),
            Accepted::Tls(tls) => Pin::new(tls).poll_shutdown(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Accepted::Plain(plain) => plain.is_write_vectored(),
            Accepted::Tls(tls) => tls.is_write_vectored(),
        }
    }
}
