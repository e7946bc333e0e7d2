//! What only the Bolt engine does, on a real Bolt server (`#[ignore = "needs a Bolt server"]`;
//! see `common/engines.rs` for the environment): the engine going away and coming back (through
//! a TCP relay this test opens and closes, so the shared server keeps running), credentials it
//! refuses, the demo data seeded through the store, no data directory, and a
//! caller's deadline ending a long statement with its writes rolled back.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chatmesh_proto::graph as pb;
use chatmesh_runtime::{CancellationToken, ServeError};
use common::engines::{BOLT_LOCK, Engine, TestGraph, bolt_flags, bolt_url};
use common::{assert_code, node};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// A TCP relay to the Bolt server that the test switches on and off, like a server that stops
/// and comes back: off, its port refuses connections and the relayed ones are cut.
struct Relay {
    addr: SocketAddr,
    target: SocketAddr,
    running: Option<(CancellationToken, JoinHandle<()>)>,
}

impl Relay {
    async fn new() -> Self {
        let url = bolt_url();
        let host = url.split("://").nth(1).unwrap().trim_end_matches('/');
        let target = tokio::net::lookup_host(host).await.unwrap().next().unwrap();
        let addr = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        Self {
            addr,
            target,
            running: None,
        }
    }

    fn url(&self) -> String {
        format!("bolt://{}", self.addr)
    }

    async fn up(&mut self) {
        let listener = TcpListener::bind(self.addr).await.unwrap();
        let stop = CancellationToken::new();
        let (target, token) = (self.target, stop.clone());
        let task = tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    () = token.cancelled() => return,
                    accepted = listener.accept() => accepted,
                };
                let Ok((mut client, _)) = accepted else {
                    continue;
                };
                let token = token.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        () = token.cancelled() => {}
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                    }
                });
            }
        });
        self.running = Some((stop, task));
    }

    async fn down(&mut self) {
        if let Some((stop, task)) = self.running.take() {
            stop.cancel();
            task.await.unwrap();
        }
    }
}

async fn health(addr: SocketAddr) -> ServingStatus {
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = HealthClient::new(channel);
    let request = HealthCheckRequest {
        service: "chatmesh.graph.v1.GraphService".into(),
    };
    client.check(request).await.unwrap().into_inner().status()
}

/// Waits (bounded, generously: a shared machine) until health says `want`.
async fn wait_for(addr: SocketAddr, want: ServingStatus) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while health(addr).await != want {
        assert!(Instant::now() < deadline, "health never became {want:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A call while the engine is away answers UNAVAILABLE at once.
async fn unavailable_fast(client: &mut common::Client) {
    let started = Instant::now();
    let answer = client.get_schema(pb::GetSchemaRequest {}).await;
    assert_code(answer, Code::Unavailable);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Bolt server"]
async fn engine_away_then_back() {
    let _lock = BOLT_LOCK.lock().await;
    let data = tempfile::tempdir().unwrap();
    let mut relay = Relay::new().await;
    let flags = bolt_flags(&relay.url(), data.path());
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    // Unreachable at start: NOT_SERVING, calls UNAVAILABLE without waiting.
    let service = common::Service::start(&data.path().join("graph"), &flags).await;
    let mut client = service.client.clone();
    assert_eq!(health(service.addr).await, ServingStatus::NotServing);
    unavailable_fast(&mut client).await;

    relay.up().await;
    wait_for(service.addr, ServingStatus::Serving).await;
    let id = node(&mut client, &["Outage"], &[]).await;

    relay.down().await;
    wait_for(service.addr, ServingStatus::NotServing).await;
    unavailable_fast(&mut client).await;

    relay.up().await;
    wait_for(service.addr, ServingStatus::Serving).await;
    let got = client.get_node(pb::GetNodeRequest { id }).await.unwrap();
    assert_eq!(got.into_inner().node.unwrap().labels, ["Outage"]);
    client
        .delete_node(pb::DeleteNodeRequest { id })
        .await
        .unwrap();
    service.stop().await;
    relay.down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Bolt server"]
async fn refused_credentials_stop_the_start() {
    let data = tempfile::tempdir().unwrap();
    let mut flags = bolt_flags(&bolt_url(), data.path());
    std::fs::write(data.path().join("bolt-password"), "wrong\n").unwrap();
    let dir = data.path().join("never-created");
    flags.extend(["--data-dir".into(), dir.display().to_string()]);
    let args = std::iter::once("chatmesh-graph".to_owned()).chain(flags);
    let config: chatmesh_graph::Config =
        chatmesh_runtime::cli::parse_config(&chatmesh_graph::INFO, args).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let served = tokio::time::timeout(
        Duration::from_secs(30),
        chatmesh_graph::serve_on(config, listener, CancellationToken::new()),
    )
    .await
    .expect("a refused login ends the start");
    match served {
        Err(ServeError::Startup(message)) => assert!(
            message.contains("cannot be used") && message.contains("uthentication"),
            "{message}"
        ),
        other => panic!("expected a start-up error, got {other:?}"),
    }
    // With a graph URL the data directory is neither needed nor created.
    assert!(!dir.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Bolt server"]
async fn demo_is_seeded_once_through_the_store() {
    let graph = TestGraph::start(Engine::Bolt, &[]).await;
    let data = tempfile::tempdir().unwrap();
    let flags = bolt_flags(&bolt_url(), data.path());
    let mut flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    flags.push("--seed-demo");
    for _ in 0..2 {
        let seeded = common::Service::start(&data.path().join("graph"), &flags).await;
        seeded.stop().await;
    }
    let people = graph.count("MATCH (p:Person) RETURN count(p)").await;
    let manages = graph
        .count("MATCH ()-[r:MANAGES]->() RETURN count(r)")
        .await;
    assert_eq!((people, manages), (8, 7));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Bolt server"]
async fn the_deadline_ends_a_long_write_and_rolls_it_back() {
    let graph = TestGraph::start(Engine::Bolt, &[]).await;
    let mut c = graph.client();
    let mut request = tonic::Request::new(pb::ExecuteQueryRequest {
        cypher: "UNWIND range(1, 20000) AS x CREATE (:Slow {x: x})".into(),
        access_mode: pb::AccessMode::Write as i32,
        ..Default::default()
    });
    request.set_timeout(Duration::from_millis(100));
    let answer = c.execute_query(request).await;
    assert!(
        matches!(&answer, Err(s) if s.code() == Code::DeadlineExceeded || s.code() == Code::Cancelled),
        "{answer:?}"
    );
    assert_eq!(graph.count("MATCH (n:Slow) RETURN count(n)").await, 0);
}
