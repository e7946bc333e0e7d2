//! Health `Watch` over a real socket: a watcher of a name the server does not know gets a proper
//! gRPC status (NOT_FOUND), not a stream cut off without one ("Stream removed"), while watching a
//! known name still streams its updates.

use std::time::Duration;

use chatmesh_runtime::{CancellationToken, GrpcServer, ServerArgs, ServiceInfo};
use chatmesh_test_support::grpc::channel;
use clap::Parser;
use tokio::net::TcpListener;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const INFO: ServiceInfo = ServiceInfo {
    name: "watched",
    fqn: "chatmesh.test.v1.WatchedService",
    default_port: 0,
    file_descriptor_set: &[],
};

#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    server: ServerArgs,
}

#[tokio::test]
async fn watching_an_unknown_name_is_not_found_and_a_known_one_streams() {
    let args = Args::parse_from(["watched"]).server;
    let server = GrpcServer::new(&INFO, &args).await.unwrap();
    let health = server.health();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    tokio::spawn(server.serve(listener, shutdown.clone()));
    let mut client = HealthClient::new(channel(addr).await);

    let unknown = tokio::time::timeout(
        Duration::from_secs(10),
        client.watch(HealthCheckRequest {
            service: "no.such.Service".into(),
        }),
    )
    .await
    .expect("an answer, not a hang");
    let status = match unknown {
        Ok(response) => response
            .into_inner()
            .message()
            .await
            .expect_err("no update for an unknown name"),
        Err(status) => status,
    };
    assert_eq!(status.code(), Code::NotFound, "{status:?}");

    let mut known = client
        .watch(HealthCheckRequest {
            service: INFO.fqn.into(),
        })
        .await
        .unwrap()
        .into_inner();
    let first = known.message().await.unwrap().unwrap();
    assert_eq!(first.status(), ServingStatus::NotServing);
    health.set_serving().await;
    let next = known.message().await.unwrap().unwrap();
    assert_eq!(next.status(), ServingStatus::Serving);
    shutdown.cancel();
}
