//! Helpers for the end-to-end tests: start chatmesh services in this process on ephemeral
//! loopback ports, and talk to them over real sockets with the standard health and reflection
//! protocols, the way probes and tools such as grpcurl do.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chatmesh_runtime::{CancellationToken, ServeError, ServiceInfo};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

pub mod otlp;

pub mod processes;

/// The test-only slow service (see `proto/chatmesh/testing/v1/testing.proto` in this crate).
pub mod testing {
    tonic::include_proto!("chatmesh.testing.v1");
}

/// A service running in this process.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Cancelling this shuts the service down.
    pub shutdown: CancellationToken,
    /// The serving task; ends when the service has stopped.
    pub task: JoinHandle<Result<(), ServeError>>,
}

impl Running {
    /// `http://addr`, for clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Shuts down and waits for the serving task's outcome.
    pub async fn stop(self) -> Result<(), ServeError> {
        self.shutdown.cancel();
        self.task.await.expect("serving task panicked")
    }
}

/// A loopback listener on a free port.
pub async fn loopback_listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback")
}

/// Starts `serve_on(config, listener, token)` on a fresh loopback port.
pub async fn start<C, F, Fut>(config: C, serve_on: F) -> Running
where
    F: FnOnce(C, TcpListener, CancellationToken) -> Fut,
    Fut: std::future::Future<Output = Result<(), ServeError>> + Send + 'static,
{
    let listener = loopback_listener().await;
    let addr = listener.local_addr().expect("local addr");
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(serve_on(config, listener, shutdown.clone()));
    Running {
        addr,
        shutdown,
        task,
    }
}

/// Parses a service's config the way its binary does, from `args` after the program name.
pub fn config<C: chatmesh_runtime::ServiceConfig>(info: &ServiceInfo, args: &[&str]) -> C {
    let binary = info.binary();
    let all = std::iter::once(binary.as_str()).chain(args.iter().copied());
    chatmesh_runtime::cli::parse_config(info, all).expect("valid test config")
}

/// All five services, each on its own loopback port, with data under `data`.
pub async fn start_all(data: &Path) -> Vec<(ServiceInfo, Running)> {
    let dir = |name: &str| data.join(name).display().to_string();
    let sqlite = format!("sqlite://{}/chatmesh.db", dir("relational"));
    vec![
        (
            chatmesh_chatbot::INFO,
            start(
                config(&chatmesh_chatbot::INFO, &[]),
                chatmesh_chatbot::serve_on,
            )
            .await,
        ),
        (
            chatmesh_router::INFO,
            start(
                config(&chatmesh_router::INFO, &[]),
                chatmesh_router::serve_on,
            )
            .await,
        ),
        (
            chatmesh_graph::INFO,
            start(
                config(&chatmesh_graph::INFO, &["--data-dir", &dir("graph")]),
                chatmesh_graph::serve_on,
            )
            .await,
        ),
        (
            chatmesh_vector::INFO,
            start(
                config(&chatmesh_vector::INFO, &["--data-dir", &dir("vector")]),
                chatmesh_vector::serve_on,
            )
            .await,
        ),
        (
            chatmesh_relational::INFO,
            start(
                config(&chatmesh_relational::INFO, &["--database-url", &sqlite]),
                chatmesh_relational::serve_on,
            )
            .await,
        ),
    ]
}

/// A plaintext channel to `addr`, connected now.
pub async fn channel(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect_timeout(Duration::from_secs(2))
        .connect()
        .await
        .expect("connect")
}

/// `grpc.health.v1.Health/Check` for `service` on a new connection.
pub async fn health(addr: SocketAddr, service: &str) -> Result<ServingStatus, tonic::Status> {
    let response = HealthClient::new(channel(addr).await)
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await?;
    Ok(response.into_inner().status())
}

/// Waits until `service` at `addr` is SERVING, failing the test after `limit`.
pub async fn wait_serving(addr: SocketAddr, service: &str, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Ok(ServingStatus::Serving) = health(addr, service).await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{service} at {addr} not SERVING after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Generates a "list services" call for one version of the reflection protocol.
macro_rules! list_services_fn {
    ($name:ident, $pb:path) => {
        /// The services `addr` lists through this version of server reflection.
        pub async fn $name(addr: SocketAddr) -> Result<Vec<String>, tonic::Status> {
            use pb::server_reflection_client::ServerReflectionClient;
            use pb::server_reflection_request::MessageRequest;
            use pb::server_reflection_response::MessageResponse;
            use $pb as pb;
            let request = pb::ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::ListServices(String::new())),
            };
            let mut responses = ServerReflectionClient::new(channel(addr).await)
                .server_reflection_info(tokio_stream::iter([request]))
                .await?
                .into_inner();
            match responses.message().await?.and_then(|r| r.message_response) {
                Some(MessageResponse::ListServicesResponse(list)) => {
                    Ok(list.service.into_iter().map(|s| s.name).collect())
                }
                other => Err(tonic::Status::internal(format!(
                    "unexpected reflection answer: {other:?}"
                ))),
            }
        }
    };
}

list_services_fn!(reflection_services_v1, tonic_reflection::pb::v1);
list_services_fn!(reflection_services_v1alpha, tonic_reflection::pb::v1alpha);

/// The test-only slow service, counting calls that finished and calls that were dropped
/// (cancelled) before finishing.
#[derive(Debug, Clone, Default)]
pub struct Sleeper {
    /// Calls that ran to the end.
    pub finished: Arc<AtomicUsize>,
    /// Calls dropped before the end (the caller gave up or the deadline passed).
    pub cancelled: Arc<AtomicUsize>,
}

struct CancelGuard {
    cancelled: Arc<AtomicUsize>,
    armed: bool,
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        if self.armed {
            self.cancelled.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[tonic::async_trait]
impl testing::sleep_service_server::SleepService for Sleeper {
    async fn sleep(
        &self,
        request: tonic::Request<testing::SleepRequest>,
    ) -> Result<tonic::Response<testing::SleepResponse>, tonic::Status> {
        let millis = request.into_inner().millis;
        let mut guard = CancelGuard {
            cancelled: self.cancelled.clone(),
            armed: true,
        };
        tokio::time::sleep(Duration::from_millis(millis)).await;
        guard.armed = false;
        self.finished.fetch_add(1, Ordering::SeqCst);
        Ok(tonic::Response::new(testing::SleepResponse {
            slept_millis: millis,
        }))
    }
}

/// What a raw gRPC call got back: the status code and message, wherever the server put them
/// (trailers-only response headers or trailers), and the response messages' bytes.
#[derive(Debug)]
pub struct RawOutcome {
    /// `grpc-status`.
    pub code: tonic::Code,
    /// `grpc-message`.
    pub message: String,
}

/// One unary call over a bare HTTP/2 connection, with `headers` sent as given. Unlike a tonic
/// client, nothing on the client side acts on `grpc-timeout`, so the server's own handling of
/// deadlines is what the caller observes.
pub async fn raw_unary<M: prost::Message>(
    addr: SocketAddr,
    path: &str,
    message: &M,
    headers: &[(&str, &str)],
) -> RawOutcome {
    use http_body_util::BodyExt;
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .expect("HTTP/2 handshake");
    tokio::spawn(connection);

    let payload = message.encode_to_vec();
    let mut framed = vec![0u8];
    framed.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    framed.extend_from_slice(&payload);
    let mut request = http::Request::post(format!("http://{addr}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(http_body_util::Full::new(bytes::Bytes::from(framed)))
        .expect("request");
    let response = sender.send_request(request).await.expect("response");
    let (parts, body) = response.into_parts();
    let collected = body.collect().await.expect("body");
    let trailers = collected.trailers().cloned().unwrap_or_default();
    let field = |name: &str| {
        parts
            .headers
            .get(name)
            .or_else(|| trailers.get(name))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let code = field("grpc-status")
        .and_then(|c| c.parse::<i32>().ok())
        .map(tonic::Code::from)
        .expect("a grpc-status");
    RawOutcome {
        code,
        message: percent_decode(&field("grpc-message").unwrap_or_default()),
    }
}

/// Decodes the percent-encoding gRPC applies to `grpc-message`.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
