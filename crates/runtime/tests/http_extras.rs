//! HTTP extras share the gRPC port: a plain HTTP/1.1 request reaches an added route, a JSON body
//! is not mistaken for gRPC framing by the message-size layer, and gRPC (health, unknown
//! methods) keeps working on the same port.

use std::time::Duration;

use axum::routing::{get, post};
use chatmesh_runtime::{CancellationToken, GrpcServer, ServerArgs, ServiceInfo};
use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const INFO: ServiceInfo = ServiceInfo {
    name: "extras",
    fqn: "chatmesh.test.v1.ExtrasService",
    default_port: 0,
    file_descriptor_set: &[],
};

#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    server: ServerArgs,
}

async fn start() -> (std::net::SocketAddr, CancellationToken) {
    let args = Args::parse_from(["extras", "--max-message-bytes", "1024"]).server;
    let routes = axum::Router::new()
        .route("/hello", get(|| async { "hello from http" }))
        .route("/echo", post(|body: String| async move { body }));
    let server = GrpcServer::new(&INFO, &args)
        .await
        .unwrap()
        .add_http(routes);
    server.health().set_serving().await;
    let running = chatmesh_test_support::serve::server(server).await;
    (running.addr, running.shutdown)
}

/// Sends one HTTP/1.1 request and returns the whole response text (the server closes).
async fn http1(addr: std::net::SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .expect("the server answers and closes")
        .unwrap();
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn http_route_answers_http1_on_the_grpc_port() {
    let (addr, shutdown) = start().await;
    let response = http1(
        addr,
        "GET /hello HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("hello from http"), "{response}");
    shutdown.cancel();
}

#[tokio::test]
async fn json_body_larger_than_the_grpc_limit_is_not_treated_as_grpc() {
    let (addr, shutdown) = start().await;
    // 2,000 bytes of JSON, over the 1024-byte gRPC message limit; its first bytes would read as a
    // huge gRPC length prefix if the limit layer framed it.
    let body = format!("{{\"text\":\"{}\"}}", "x".repeat(1989));
    let request = format!(
        "POST /echo HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let response = http1(addr, &request).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with(&body), "{response}");
    shutdown.cancel();
}

#[tokio::test]
async fn grpc_still_served_next_to_http() {
    let (addr, shutdown) = start().await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel.clone());
    let status = health
        .check(HealthCheckRequest {
            service: INFO.fqn.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .status;
    assert_eq!(status, ServingStatus::Serving as i32);

    // An unknown gRPC method is still UNIMPLEMENTED, not an HTTP 404.
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let err = grpc
        .unary::<(), (), _>(
            tonic::Request::new(()),
            "/chatmesh.test.v1.Nope/Missing".parse().unwrap(),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unimplemented);
    shutdown.cancel();
}
