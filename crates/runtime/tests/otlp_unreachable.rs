//! Span export switched on towards a collector that is not there must not get in the way of
//! serving: every call is answered, and flushing and shutting the exporter down return (the
//! failures are logged, not raised).

use std::time::Duration;

use chatmesh_runtime::config::LogFormat;
use chatmesh_runtime::{CancellationToken, GrpcServer, ServerArgs, ServiceInfo, telemetry};
use tokio::net::TcpListener;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

const INFO: ServiceInfo = ServiceInfo {
    name: "otlp-unreachable",
    fqn: "chatmesh.test.v1.UnreachableService",
    default_port: 0,
    file_descriptor_set: &[],
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_collector_never_breaks_serving() {
    // A port that was free a moment ago: nothing listens there.
    let nowhere = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let telemetry = telemetry::init(
        INFO.name,
        LogFormat::Human,
        "error",
        Some(&format!("http://{nowhere}")),
    )
    .expect("the exporter is built lazily, without connecting");
    assert!(telemetry.exporting());

    let server = GrpcServer::new(&INFO, &ServerArgs::for_tests())
        .await
        .unwrap();
    server.health().set_serving().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let serving = tokio::spawn(server.serve(listener, shutdown.clone()));

    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);
    for _ in 0..200 {
        let request = tonic::Request::new(HealthCheckRequest {
            service: INFO.fqn.into(),
        });
        health
            .check(request)
            .await
            .expect("answered while export fails");
    }

    // Flushing tries the collector, fails, and returns.
    let telemetry = tokio::task::spawn_blocking(move || {
        telemetry.flush();
        telemetry
    })
    .await
    .unwrap();
    let status = health
        .check(HealthCheckRequest {
            service: INFO.fqn.into(),
        })
        .await
        .expect("still serving after a failed export");
    assert_eq!(status.into_inner().status, 1, "SERVING");

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(30), serving)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
    tokio::task::spawn_blocking(move || telemetry.shutdown())
        .await
        .unwrap();
}
