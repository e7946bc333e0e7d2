//! Talking to a server the way probes and tools do: a plaintext channel, `grpc.health.v1` checks
//! and waiting for SERVING, the services listed by server reflection (both protocol versions),
//! and one unary call over a bare HTTP/2 connection with headers sent as given.

use std::net::SocketAddr;
use std::time::Duration;

use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

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
    wait_for_health(addr, service, ServingStatus::Serving, limit).await;
}

/// Waits until health reports `want` for `service` at `addr` (asking every 20 ms, a new
/// connection each time, so a restarting server is found again), failing the test after
/// `limit`.
pub async fn wait_for_health(
    addr: SocketAddr,
    service: &str,
    want: ServingStatus,
    limit: Duration,
) {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if health(addr, service).await.ok() == Some(want) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{service} at {addr} not {want:?} after {limit:?}"
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
