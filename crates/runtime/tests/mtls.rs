//! mTLS over real loopback sockets: a `GrpcServer` with `--tls-*` serves a client holding a
//! certificate from its CA, and refuses a plaintext client, a TLS client without a certificate
//! and a client whose certificate another CA signed (and keeps serving afterwards). Rotation:
//! rewritten files are picked up by new connections without a restart, on the server and on the
//! client side, and a half-written rotation keeps the last good certificate.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chatmesh_runtime::channel::{ClientArgs, connect};
use chatmesh_runtime::config::ServiceInfo;
use chatmesh_runtime::http2::Http2Channel;
use chatmesh_runtime::tls::server::TlsConnection;
use chatmesh_runtime::tls::{ClientAuth, ClientTls, ServerTls, TlsArgs, TlsFileArgs};
use chatmesh_runtime::{CancellationToken, GrpcServer, ServerArgs};
use chatmesh_test_support::certs::{Issued, TestCa};
use futures::StreamExt;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const INFO: ServiceInfo = ServiceInfo {
    name: "mtls",
    fqn: "chatmesh.test.v1.MtlsService",
    default_port: 0,
    file_descriptor_set: &[],
};

/// A CA and, in a temporary directory, its certificate and one service's certificate and key.
struct Pki {
    ca: TestCa,
    dir: tempfile::TempDir,
}

impl Pki {
    fn new(service: &str) -> Self {
        Self::with_ca("test CA", service)
    }

    /// Under a CA named `ca_name`: a stranger's CA may share our CA's name (an impostor) or not.
    fn with_ca(ca_name: &str, service: &str) -> Self {
        let ca = TestCa::new(ca_name);
        let dir = tempfile::tempdir().unwrap();
        ca.write(dir.path());
        let pki = Self { ca, dir };
        pki.install(service, &pki.issue(service));
        pki
    }

    fn issue(&self, service: &str) -> Issued {
        self.ca.issue_for(service)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn install(&self, service: &str, issued: &Issued) {
        issued.write(self.dir.path(), service);
    }

    fn files(&self, service: &str) -> TlsFileArgs {
        TlsFileArgs::new(
            self.path("ca.pem"),
            self.path(&format!("{service}.pem")),
            self.path(&format!("{service}.key")),
        )
    }

    /// Client settings that re-read the files on every connection.
    fn client(&self, service: &str) -> ClientTls {
        self.files(service).client(Duration::ZERO).unwrap().unwrap()
    }
}

fn der(pem: &str) -> CertificateDer<'static> {
    CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
}

/// A `GrpcServer` (health SERVING) with mTLS from `pki`'s "server" files, re-reading them on
/// every handshake.
async fn start_server(pki: &Pki) -> (SocketAddr, CancellationToken) {
    let files = pki.files("server");
    let mut tls = TlsArgs::with_files(
        files.tls_ca.unwrap(),
        files.tls_cert.unwrap(),
        files.tls_key.unwrap(),
    );
    tls.tls_reload_interval = Duration::ZERO;
    let args = ServerArgs {
        tls,
        ..ServerArgs::for_tests()
    };
    let server = GrpcServer::new(&INFO, &args).await.unwrap();
    server.health().set_serving().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(server.serve(listener, stop.clone()));
    (addr, stop)
}

async fn health(addr: SocketAddr, tls: Option<ClientTls>) -> Result<ServingStatus, String> {
    let args = ClientArgs {
        tls,
        ..ClientArgs::default()
    };
    let channel = connect(&addr.to_string(), &args)
        .await
        .map_err(|e| e.to_string())?;
    ask_health(HealthClient::new(channel)).await
}

/// [`health`] through the channel of service-to-service calls ([`Http2Channel`], lazy).
async fn health_between_services(
    addr: SocketAddr,
    tls: ClientTls,
) -> Result<ServingStatus, String> {
    let args = ClientArgs {
        tls: Some(tls),
        ..ClientArgs::default()
    };
    let channel = Http2Channel::lazy(&addr.to_string(), &args).map_err(|e| e.to_string())?;
    ask_health(HealthClient::new(channel)).await
}

async fn ask_health<T>(mut client: HealthClient<T>) -> Result<ServingStatus, String>
where
    T: tonic::client::GrpcService<tonic::body::Body>,
    T::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    T::ResponseBody: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    <T::ResponseBody as http_body::Body>::Error:
        Into<Box<dyn std::error::Error + Send + Sync>> + Send,
{
    let response = client
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .map_err(|s| format!("{:?}: {}", s.code(), s.message()))?;
    Ok(response.into_inner().status())
}

/// A raw TLS client trusting `ca_pem`, presenting `identity` when given.
fn raw_client(ca_pem: &str, identity: Option<&Issued>) -> tokio_rustls::TlsConnector {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der(ca_pem)).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match identity {
        Some(issued) => builder
            .with_client_auth_cert(
                vec![der(&issued.cert_pem)],
                PrivateKeyDer::from_pem_slice(issued.key_pem.as_bytes()).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// Connects with `client`, asks `GET /metrics` over HTTP/1.1 and returns the server's
/// certificate and what came back (an error when the server refused us).
async fn get_metrics(
    client: &tokio_rustls::TlsConnector,
    addr: SocketAddr,
) -> Result<(CertificateDer<'static>, String), String> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut tls = client
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let server_cert = tls.get_ref().1.peer_certificates().unwrap()[0].clone();
    tls.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut response = Vec::new();
    tls.read_to_end(&mut response)
        .await
        .map_err(|e| format!("read: {e}"))?;
    Ok((server_cert, String::from_utf8_lossy(&response).into_owned()))
}

#[tokio::test]
async fn a_client_with_a_certificate_from_the_ca_is_served() {
    let pki = Pki::new("server");
    pki.install("client", &pki.issue("client"));
    let (addr, stop) = start_server(&pki).await;
    assert_eq!(
        health(addr, Some(pki.client("client"))).await,
        Ok(ServingStatus::Serving)
    );
    // HTTP/1.1 on the same port (ALPN http/1.1) is served too.
    let client = raw_client(pki.ca.cert_pem(), Some(&pki.issue("client")));
    let (_, response) = get_metrics(&client, addr).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    stop.cancel();
}

#[tokio::test]
async fn a_plaintext_client_is_refused_and_the_server_keeps_serving() {
    let pki = Pki::new("server");
    pki.install("client", &pki.issue("client"));
    let (addr, stop) = start_server(&pki).await;
    let refused = health(addr, None).await;
    assert!(refused.is_err(), "plaintext was served: {refused:?}");

    // Plain HTTP/1.1 gets no answer either: the bytes are not a TLS ClientHello.
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut response = Vec::new();
    let _ = tcp.read_to_end(&mut response).await;
    assert!(
        !String::from_utf8_lossy(&response).contains("HTTP/1.1 200"),
        "{response:?}"
    );

    assert_eq!(
        health(addr, Some(pki.client("client"))).await,
        Ok(ServingStatus::Serving)
    );
    stop.cancel();
}

#[tokio::test]
async fn a_tls_client_without_a_certificate_is_refused() {
    let pki = Pki::new("server");
    let (addr, stop) = start_server(&pki).await;
    let client = raw_client(pki.ca.cert_pem(), None);
    let refused = get_metrics(&client, addr).await;
    let error = refused.expect_err("a client without a certificate was served");
    assert!(error.contains("CertificateRequired"), "{error}");

    let good = raw_client(pki.ca.cert_pem(), Some(&pki.issue("client")));
    assert!(get_metrics(&good, addr).await.is_ok());
    stop.cancel();
}

#[tokio::test]
async fn a_client_certificate_from_another_ca_is_refused() {
    let pki = Pki::new("server");
    let (addr, stop) = start_server(&pki).await;
    // Strangers trust our CA (so they accept our server), but their own CA signed them: one
    // CA unknown to the server, one impostor with our CA's name whose signature does not verify.
    let stranger = Pki::with_ca("stranger CA", "client");
    let client = raw_client(pki.ca.cert_pem(), Some(&stranger.issue("client")));
    let error = get_metrics(&client, addr)
        .await
        .expect_err("a certificate from another CA was accepted");
    assert!(error.contains("UnknownCA"), "{error}");
    let impostor = Pki::with_ca("test CA", "client");
    let client = raw_client(pki.ca.cert_pem(), Some(&impostor.issue("client")));
    let error = get_metrics(&client, addr)
        .await
        .expect_err("an impostor CA's certificate was accepted");
    assert!(error.contains("DecryptError"), "{error}");

    stop.cancel();
}

#[tokio::test]
async fn a_client_refuses_a_server_certificate_from_another_ca() {
    let pki = Pki::new("server");
    let (addr, stop) = start_server(&pki).await;
    let stranger = Pki::with_ca("stranger CA", "client");
    let refused = health(addr, Some(stranger.client("client"))).await;
    let error = refused.expect_err("a server from another CA was trusted");
    assert!(error.contains("UnknownIssuer"), "{error}");
    stop.cancel();
}

#[tokio::test]
async fn service_to_service_channels_speak_mtls_and_check_the_server() {
    let pki = Pki::new("server");
    pki.install("router", &pki.issue("router"));
    let (addr, stop) = start_server(&pki).await;
    let served = health_between_services(addr, pki.client("router")).await;
    assert_eq!(served, Ok(ServingStatus::Serving));
    let stranger = Pki::with_ca("stranger CA", "router");
    let refused = health_between_services(addr, stranger.client("router")).await;
    let error = refused.expect_err("a server from another CA was trusted");
    assert!(
        error.starts_with("Unavailable: cannot connect to"),
        "{error}"
    );
    assert!(error.contains("UnknownIssuer"), "{error}");
    stop.cancel();
}

#[tokio::test]
async fn a_rotated_server_certificate_is_used_without_a_restart() {
    let pki = Pki::new("server");
    let (addr, stop) = start_server(&pki).await;
    let client = raw_client(pki.ca.cert_pem(), Some(&pki.issue("client")));
    let first = std::fs::read_to_string(pki.path("server.pem")).unwrap();
    let (seen, _) = get_metrics(&client, addr).await.unwrap();
    assert_eq!(seen, der(&first));

    // Half a rotation (the new certificate, the old key) does not load: the old one stays.
    let next = pki.issue("server");
    std::fs::write(pki.path("server.pem"), &next.cert_pem).unwrap();
    let (seen, response) = get_metrics(&client, addr).await.unwrap();
    assert_eq!(seen, der(&first), "a certificate without its key was used");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    // The key arrives: the next connection gets the new certificate, from the same process.
    std::fs::write(pki.path("server.key"), &next.key_pem).unwrap();
    let (seen, response) = get_metrics(&client, addr).await.unwrap();
    assert_eq!(seen, der(&next.cert_pem));
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    stop.cancel();
}

/// Connects with `client`'s connector and returns the certificate the server saw.
async fn presented(
    client: &ClientTls,
    addr: SocketAddr,
    accepted: &mut (impl futures::Stream<Item = std::io::Result<TlsConnection>> + Unpin),
) -> CertificateDer<'static> {
    use tower_service::Service;
    let uri: http::Uri = format!("http://localhost:{}", addr.port()).parse().unwrap();
    let _stream = client.connector().call(uri).await.unwrap();
    let connection = tokio::time::timeout(Duration::from_secs(10), accepted.next())
        .await
        .expect("a connection within 10s")
        .expect("the stream is open")
        .expect("the handshake succeeded");
    connection.peer_certificates()[0].clone()
}

#[tokio::test]
async fn a_rotated_client_certificate_is_presented_without_a_restart() {
    let pki = Pki::new("server");
    pki.install("client", &pki.issue("client"));
    let files = pki.files("server").files().unwrap();
    let server = ServerTls::load(files, ClientAuth::Required, Duration::ZERO).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut accepted = server.incoming(listener);
    let client = pki.client("client");

    let first = std::fs::read_to_string(pki.path("client.pem")).unwrap();
    assert_eq!(presented(&client, addr, &mut accepted).await, der(&first));

    let next = pki.issue("client");
    pki.install("client", &next);
    assert_eq!(
        presented(&client, addr, &mut accepted).await,
        der(&next.cert_pem)
    );
}

#[test]
fn the_probe_asks_over_mtls_given_the_files() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let pki = Pki::new("server");
    pki.install("client", &pki.issue("client"));
    let (addr, stop) = runtime.block_on(start_server(&pki));
    let probe = |tls: Option<ClientTls>| {
        runtime.block_on(chatmesh_runtime::probe::report(
            "probe",
            &addr.to_string(),
            "",
            Duration::from_secs(3),
            tls,
            true,
        ))
    };
    assert_eq!(
        probe(Some(pki.client("client"))),
        std::process::ExitCode::SUCCESS
    );
    assert_eq!(probe(None), std::process::ExitCode::FAILURE);
    stop.cancel();
}
