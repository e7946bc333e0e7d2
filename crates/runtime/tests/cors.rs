//! Cross-origin calls, as a browser makes them over HTTP/1.1: without `--cors-allow-origin` a
//! preflight gets no permission and answers carry none; with it, a named origin's preflight is
//! answered (POST, the headers it asked for) and its gRPC-Web answers let the page read the
//! gRPC status; an origin not named gets no permission; `*` allows any origin.

use bytes::Bytes;
use chatmesh_runtime::{CancellationToken, EdgeArgs, GrpcServer, ServerArgs, ServiceInfo};
use clap::Parser;
use http::{HeaderMap, Method};
use http_body_util::{BodyExt, Full};
use prost::Message;
use tonic_health::pb::HealthCheckRequest;

const INFO: ServiceInfo = ServiceInfo {
    name: "cors",
    fqn: "chatmesh.test.v1.CorsService",
    default_port: 0,
    file_descriptor_set: &[],
};

const CHECK: &str = "/grpc.health.v1.Health/Check";

#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    edge: EdgeArgs,
}

async fn start(flags: &[&str]) -> (std::net::SocketAddr, CancellationToken) {
    let args = Args::parse_from(std::iter::once("cors").chain(flags.iter().copied()));
    let server = GrpcServer::new(&INFO, &args.server)
        .await
        .unwrap()
        .edge([format!("/{}/", INFO.fqn)], &args.edge)
        .unwrap();
    server.health().set_serving().await;
    let running = chatmesh_test_support::serve::server(server).await;
    (running.addr, running.shutdown)
}

/// Sends one HTTP/1.1 request from a page of `origin`; the answer's status and headers.
async fn send(
    addr: std::net::SocketAddr,
    method: Method,
    origin: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, HeaderMap) {
    let mut sender = chatmesh_test_support::http::http1(addr).await;
    let mut request = http::Request::builder()
        .method(method)
        .uri(CHECK)
        .header("host", "mesh.test")
        .header("origin", origin);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = sender
        .send_request(request.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    body.collect().await.unwrap();
    (parts.status.as_u16(), parts.headers)
}

/// A browser's preflight before a gRPC-Web POST from `origin`.
async fn preflight(addr: std::net::SocketAddr, origin: &str) -> (u16, HeaderMap) {
    let asks = [
        ("access-control-request-method", "POST"),
        ("access-control-request-headers", "content-type,x-grpc-web"),
    ];
    send(addr, Method::OPTIONS, origin, &asks, Vec::new()).await
}

/// The gRPC-Web call itself (a health check) from `origin`.
async fn grpc_web(addr: std::net::SocketAddr, origin: &str) -> (u16, HeaderMap) {
    let message = HealthCheckRequest::default().encode_to_vec();
    let mut framed = vec![0u8];
    framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
    framed.extend_from_slice(&message);
    let headers = [
        ("content-type", "application/grpc-web+proto"),
        ("x-grpc-web", "1"),
    ];
    send(addr, Method::POST, origin, &headers, framed).await
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn without_named_origins_no_page_of_another_origin_may_call() {
    let (addr, shutdown) = start(&[]).await;
    let (_, headers) = preflight(addr, "http://app.test").await;
    assert_eq!(header(&headers, "access-control-allow-origin"), None);
    assert_eq!(header(&headers, "access-control-allow-methods"), None);
    let (status, headers) = grpc_web(addr, "http://app.test").await;
    assert_eq!(status, 200, "the call itself is served: {headers:?}");
    assert_eq!(header(&headers, "access-control-allow-origin"), None);
    shutdown.cancel();
}

#[tokio::test]
async fn a_named_origin_may_call_and_read_the_status() {
    let (addr, shutdown) = start(&[
        "--cors-allow-origin",
        "http://app.test,https://other.test:8443",
    ])
    .await;
    let (status, headers) = preflight(addr, "http://app.test").await;
    assert_eq!(status, 200, "{headers:?}");
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some("http://app.test")
    );
    let methods = header(&headers, "access-control-allow-methods").unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let allowed = header(&headers, "access-control-allow-headers").unwrap();
    assert!(allowed.contains("x-grpc-web"), "{allowed}");
    assert_eq!(header(&headers, "access-control-max-age"), Some("600"));

    let (status, headers) = grpc_web(addr, "https://other.test:8443").await;
    assert_eq!(status, 200, "{headers:?}");
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some("https://other.test:8443")
    );
    let exposed = header(&headers, "access-control-expose-headers").unwrap();
    assert!(exposed.contains("grpc-status"), "{exposed}");
    assert!(exposed.contains("grpc-message"), "{exposed}");

    for origin in [
        "http://evil.test",
        "http://app.test:8080",
        "https://app.test",
    ] {
        let (_, headers) = preflight(addr, origin).await;
        assert_eq!(
            header(&headers, "access-control-allow-origin"),
            None,
            "{origin}"
        );
        let (_, headers) = grpc_web(addr, origin).await;
        assert_eq!(
            header(&headers, "access-control-allow-origin"),
            None,
            "{origin}"
        );
    }
    shutdown.cancel();
}

#[tokio::test]
async fn a_star_allows_any_origin() {
    let (addr, shutdown) = start(&["--cors-allow-origin", "*"]).await;
    let (status, headers) = preflight(addr, "http://anywhere.test").await;
    assert_eq!(status, 200, "{headers:?}");
    assert_eq!(header(&headers, "access-control-allow-origin"), Some("*"));
    let (_, headers) = grpc_web(addr, "http://anywhere.test").await;
    assert_eq!(header(&headers, "access-control-allow-origin"), Some("*"));
    shutdown.cancel();
}

#[test]
fn an_origin_with_a_path_stops_start_up() {
    let error =
        Args::try_parse_from(["cors", "--cors-allow-origin", "https://app.test/page"]).unwrap_err();
    assert!(error.to_string().contains("origin"), "{error}");
}
