//! Under mTLS the client certificate names the caller (#18.4): the graph service, in this
//! process with `--tls-*` and no peer tokens, checks each call against its default callers
//! (the router reads, `admin` writes) by the first DNS name of the certificate the client
//! presented. A certificate whose common name says `router` but whose first DNS name does not
//! is not the router; health answers any client the CA vouches for.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use chatmesh_proto::graph::graph_service_client::GraphServiceClient;
use chatmesh_proto::graph::{CreateNodeRequest, GetSchemaRequest};
use chatmesh_runtime::channel::{ClientArgs, connect};
use chatmesh_runtime::tls::{ClientTls, TlsFileArgs};
use chatmesh_test_support::certs::{TestCa, with_loopback};
use chatmesh_test_support::serve::{config, start};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

/// Writes the CA, the graph's certificate and the clients' to `dir`: `router`, `chatbot` and
/// `admin` named as `chatmesh certs` names them (their name first), and `impostor`, whose
/// common name is `router` but whose first DNS name is `stranger`.
fn write_pki(dir: &Path) {
    let ca = TestCa::new("callers test CA");
    ca.write(dir);
    for name in ["graph", "router", "chatbot", "admin"] {
        ca.issue_for(name).write(dir, name);
    }
    ca.issue("router", &with_loopback("stranger"))
        .write(dir, "impostor");
}

fn files(dir: &Path, name: &str) -> TlsFileArgs {
    TlsFileArgs::new(
        dir.join("ca.pem"),
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    )
}

fn client_tls(dir: &Path, name: &str) -> ClientTls {
    files(dir, name)
        .client(Duration::from_secs(10))
        .unwrap()
        .unwrap()
}

async fn graph_as(
    addr: SocketAddr,
    dir: &Path,
    name: &str,
) -> GraphServiceClient<tonic::transport::Channel> {
    let args = ClientArgs {
        tls: Some(client_tls(dir, name)),
        ..ClientArgs::default()
    };
    GraphServiceClient::new(connect(&addr.to_string(), &args).await.unwrap())
}

async fn wait_serving(addr: SocketAddr, tls: &ClientTls) {
    let fqn = chatmesh_graph::INFO.fqn;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let status = chatmesh_runtime::probe::check_with(
            &addr.to_string(),
            fqn,
            Duration::from_secs(2),
            Some(tls.clone()),
        )
        .await;
        if status == Ok(ServingStatus::Serving) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{fqn} at {addr} is not SERVING over mTLS: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_certificates_first_dns_name_is_the_caller() {
    let certs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let dir = certs.path();
    write_pki(dir);
    let path = |name: &str| dir.join(name).display().to_string();
    let data_dir = data.path().display().to_string();
    let graph = start(
        config(
            &chatmesh_graph::INFO,
            &[
                "--data-dir",
                &data_dir,
                "--tls-ca",
                &path("ca.pem"),
                "--tls-cert",
                &path("graph.pem"),
                "--tls-key",
                &path("graph.key"),
            ],
        ),
        chatmesh_graph::serve_on,
    )
    .await;
    let addr = graph.addr;
    // Health is not the service's API: a certificate no allow list names still gets it.
    wait_serving(addr, &client_tls(dir, "impostor")).await;

    let mut router = graph_as(addr, dir, "router").await;
    router
        .get_schema(GetSchemaRequest {})
        .await
        .expect("the router's certificate reads");
    let create = CreateNodeRequest {
        labels: vec!["Person".into()],
        properties: Default::default(),
    };
    let refused = router.create_node(create.clone()).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert!(
        refused
            .message()
            .starts_with("caller 'router' may not call chatmesh.graph.v1.GraphService/CreateNode"),
        "{}",
        refused.message()
    );

    for (name, caller) in [("chatbot", "chatbot"), ("impostor", "stranger")] {
        let refused = graph_as(addr, dir, name)
            .await
            .get_schema(GetSchemaRequest {})
            .await
            .unwrap_err();
        assert_eq!(
            refused.code(),
            Code::PermissionDenied,
            "{name}: {refused:?}"
        );
        let expected =
            format!("caller '{caller}' may not call chatmesh.graph.v1.GraphService/GetSchema");
        assert!(
            refused.message().starts_with(&expected),
            "{}",
            refused.message()
        );
    }

    graph_as(addr, dir, "admin")
        .await
        .create_node(create)
        .await
        .expect("admin's certificate writes");
    graph.stop().await.expect("clean stop");
}
