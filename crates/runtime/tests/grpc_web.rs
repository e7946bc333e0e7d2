//! gRPC-Web on every port, over HTTP/1.1 as browsers send it: a call in the binary and in the
//! base64 text encoding is answered with its message and the status in a trailers frame, and
//! the layers behind the translation apply as to gRPC (an oversized message is
//! RESOURCE_EXHAUSTED, an unknown method UNIMPLEMENTED).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use chatmesh_runtime::{CancellationToken, GrpcServer, ServerArgs, ServiceInfo};
use clap::Parser;
use http_body_util::{BodyExt, Full};
use prost::Message;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

const INFO: ServiceInfo = ServiceInfo {
    name: "web",
    fqn: "chatmesh.test.v1.WebService",
    default_port: 0,
    file_descriptor_set: &[],
};

#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    server: ServerArgs,
}

async fn start() -> (std::net::SocketAddr, CancellationToken) {
    let args = Args::parse_from(["web", "--max-message-bytes", "1024"]).server;
    let server = GrpcServer::new(&INFO, &args).await.unwrap();
    server.health().set_serving().await;
    let running = chatmesh_test_support::serve::server(server).await;
    (running.addr, running.shutdown)
}

/// What a gRPC-Web answer held: its content type, its messages and its trailers.
#[derive(Debug)]
struct WebAnswer {
    http_status: u16,
    content_type: String,
    /// `grpc-status` of a trailers-only answer, which carries it in the HTTP headers.
    header_status: Option<String>,
    messages: Vec<Bytes>,
    trailers: String,
}

impl WebAnswer {
    /// The status, from the trailers frame or else from the headers.
    fn grpc_status(&self) -> Option<&str> {
        self.trailers
            .lines()
            .find_map(|line| line.strip_prefix("grpc-status:"))
            .map(str::trim)
            .or(self.header_status.as_deref())
    }
}

/// One gRPC-Web call over HTTP/1.1 with `payload` as its only message; `text` selects the
/// base64 encoding (`application/grpc-web-text`).
async fn call(addr: std::net::SocketAddr, path: &str, payload: &[u8], text: bool) -> WebAnswer {
    let mut sender = chatmesh_test_support::http::http1(addr).await;
    let mut framed = vec![0u8];
    framed.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    framed.extend_from_slice(payload);
    let (content_type, body) = if text {
        (
            "application/grpc-web-text",
            STANDARD.encode(&framed).into_bytes(),
        )
    } else {
        ("application/grpc-web+proto", framed)
    };
    let request = http::Request::post(path)
        .header("host", "test")
        .header("content-type", content_type)
        .header("accept", content_type)
        .header("x-grpc-web", "1")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let http_status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let content_type = header("content-type").unwrap_or_default();
    let header_status = header("grpc-status");
    let mut body = response.into_body().collect().await.unwrap().to_bytes();
    if content_type.starts_with("application/grpc-web-text") {
        // Each frame is encoded on its own, padding included, so the answer is decoded one
        // four-character quantum at a time.
        let mut decoded = Vec::new();
        for quantum in body.chunks(4) {
            decoded.extend(STANDARD.decode(quantum).expect("base64 answer"));
        }
        body = Bytes::from(decoded);
    }
    let (mut messages, mut trailers) = (Vec::new(), String::new());
    while body.len() >= 5 {
        let flag = body[0];
        let len = u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize;
        let frame = body.slice(5..5 + len);
        body = body.slice(5 + len..);
        if flag & 0x80 != 0 {
            trailers.push_str(&String::from_utf8_lossy(&frame));
        } else {
            messages.push(frame);
        }
    }
    assert!(body.is_empty(), "a partial frame at the end: {body:?}");
    WebAnswer {
        http_status,
        content_type,
        header_status,
        messages,
        trailers,
    }
}

fn health_check() -> Vec<u8> {
    HealthCheckRequest {
        service: INFO.fqn.into(),
    }
    .encode_to_vec()
}

#[tokio::test]
async fn a_grpc_web_call_is_answered_with_its_message_and_trailers() {
    let (addr, shutdown) = start().await;
    for text in [false, true] {
        let answer = call(addr, "/grpc.health.v1.Health/Check", &health_check(), text).await;
        assert_eq!(answer.http_status, 200, "{answer:?}");
        let expected = if text {
            "application/grpc-web-text"
        } else {
            "application/grpc-web"
        };
        assert!(answer.content_type.starts_with(expected), "{answer:?}");
        assert_eq!(answer.grpc_status(), Some("0"), "{answer:?}");
        assert_eq!(answer.messages.len(), 1, "{answer:?}");
        let status = HealthCheckResponse::decode(answer.messages[0].clone()).unwrap();
        assert_eq!(status.status, ServingStatus::Serving as i32);
    }
    shutdown.cancel();
}

#[tokio::test]
async fn the_layers_behind_grpc_web_apply_as_to_grpc() {
    let (addr, shutdown) = start().await;
    let oversized = HealthCheckRequest {
        service: "x".repeat(4096),
    }
    .encode_to_vec();
    let answer = call(addr, "/grpc.health.v1.Health/Check", &oversized, false).await;
    assert_eq!(
        answer.grpc_status(),
        Some("8"),
        "RESOURCE_EXHAUSTED: {answer:?}"
    );
    assert!(answer.messages.is_empty(), "{answer:?}");

    let answer = call(addr, "/chatmesh.test.v1.WebService/Nothing", &[], false).await;
    assert_eq!(
        answer.grpc_status(),
        Some("12"),
        "UNIMPLEMENTED: {answer:?}"
    );
    shutdown.cancel();
}
