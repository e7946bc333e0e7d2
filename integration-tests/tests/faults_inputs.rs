//! Fault injection, part two: hostile requests (issue #18). The five services run as separate
//! processes with the demo data. Every service gets a corpus of requests a careless or hostile
//! client sends: frames that are not its protobuf, messages larger than allowed, ids at the ends
//! of their ranges, nesting past every depth limit, injection-shaped text, contradictory or
//! out-of-range arguments, and writes that fail half way. Each must be refused with the precise
//! code the contract names (never INTERNAL, UNKNOWN or UNAVAILABLE); afterwards every process is
//! still SERVING, every store holds exactly what it held before, and ordinary writes still work
//! (one hostile id must not break id allocation for everyone).
//!
//! Part one, signals, is `faults_signals.rs`; the requests themselves are in `corpus.rs`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;

use chatmesh_integration_tests::mesh::Mesh;
use chatmesh_proto::chat::chat_service_client::ChatServiceClient;
use chatmesh_proto::graph::{self as graph, graph_service_client::GraphServiceClient};
use chatmesh_proto::relational::{self as rel, relational_service_client::RelationalServiceClient};
use chatmesh_proto::router::router_service_client::RouterServiceClient;
use chatmesh_proto::vector::{self as vec, vector_service_client::VectorServiceClient};
use chatmesh_test_support::grpc::{channel, health};
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;

#[path = "faults_inputs/corpus.rs"]
mod corpus;

use corpus::{edge_requests, frames, graph_requests, order, relational_requests, vector_requests};

const COLLECTION: &str = "faults";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_are_refused_precisely_and_change_nothing() {
    let data = tempfile::tempdir().unwrap();
    let mesh = Mesh::start(data.path(), &[]).await;
    let mut c = Clients::connect(&mesh).await;
    mesh.create_vectors_only_collection(COLLECTION, 4).await;
    let before = Digest::take(&mut c).await;

    let mut report = Report::default();
    frames(&mut report, &mesh).await;
    graph_requests(&mut report, &mut c.graph).await;
    vector_requests(&mut report, &mut c.vector).await;
    relational_requests(&mut report, &mut c.relational).await;
    edge_requests(&mut report, &mut c).await;
    eprintln!("{} hostile requests sent", report.sent);
    assert!(
        report.wrong.is_empty(),
        "{} of {} hostile requests were not refused as the contract says:\n{}",
        report.wrong.len(),
        report.sent,
        report.wrong.join("\n")
    );

    for (addr, service) in [
        (mesh.graph.addr, chatmesh_graph::INFO.fqn),
        (mesh.vector.addr, chatmesh_vector::INFO.fqn),
        (mesh.relational.addr, chatmesh_relational::INFO.fqn),
        (mesh.router.addr, chatmesh_router::INFO.fqn),
        (mesh.chatbot.addr, chatmesh_chatbot::INFO.fqn),
    ] {
        assert_eq!(
            health(addr, service).await.expect("health answers"),
            ServingStatus::Serving,
            "{service} after the hostile requests"
        );
    }
    assert_eq!(
        Digest::take(&mut c).await,
        before,
        "a refused request changed a store"
    );

    // Ordinary writes still work, ids included.
    let order = c
        .relational
        .create_order(order("Ada Lovelace", 1, 100))
        .await
        .expect("an ordinary order after the hostile ones")
        .into_inner()
        .order
        .expect("order");
    assert!(order.id > 0 && order.id < i64::MAX, "{order:?}");
    c.graph
        .create_node(graph::CreateNodeRequest {
            labels: vec!["Fault".into()],
            properties: HashMap::new(),
        })
        .await
        .expect("an ordinary node after the hostile requests");
}

/// Which requests were not answered as expected.
#[derive(Default)]
struct Report {
    sent: usize,
    wrong: Vec<String>,
}

impl Report {
    /// `got` must be an error with one of `codes`.
    fn refused<T: Debug>(&mut self, case: &str, got: Result<T, tonic::Status>, codes: &[Code]) {
        self.sent += 1;
        match got {
            Err(status) if codes.contains(&status.code()) => {}
            Err(status) => self.wrong.push(format!(
                "{case}: {:?} {:?}, expected one of {codes:?}",
                status.code(),
                status.message()
            )),
            Ok(answer) => self.wrong.push(format!(
                "{case}: answered {:.200}, expected one of {codes:?}",
                format!("{answer:?}")
            )),
        }
    }

    /// `got` must succeed: hostile-looking data that is only data.
    fn accepted<T: Debug>(&mut self, case: &str, got: Result<T, tonic::Status>) -> Option<T> {
        self.sent += 1;
        match got {
            Ok(answer) => Some(answer),
            Err(status) => {
                self.wrong
                    .push(format!("{case}: {status:?}, expected an answer"));
                None
            }
        }
    }
}

struct Clients {
    graph: GraphServiceClient<Channel>,
    vector: VectorServiceClient<Channel>,
    relational: RelationalServiceClient<Channel>,
    router: RouterServiceClient<Channel>,
    chat: ChatServiceClient<Channel>,
}

impl Clients {
    async fn connect(mesh: &Mesh) -> Self {
        Self {
            graph: GraphServiceClient::new(channel(mesh.graph.addr).await),
            vector: VectorServiceClient::new(channel(mesh.vector.addr).await),
            relational: RelationalServiceClient::new(channel(mesh.relational.addr).await),
            router: RouterServiceClient::new(channel(mesh.router.addr).await),
            chat: ChatServiceClient::new(channel(mesh.chatbot.addr).await),
        }
    }
}

/// What the three stores hold, compared before and after.
#[derive(Debug, PartialEq)]
struct Digest {
    nodes: i64,
    relationships: i64,
    labels: Vec<(String, i64)>,
    collections: BTreeMap<String, (i64, i64)>,
    orders: Vec<(i64, String, String, i32, i32, i64)>,
}

impl Digest {
    async fn take(c: &mut Clients) -> Self {
        let schema = c
            .graph
            .get_schema(graph::GetSchemaRequest {})
            .await
            .expect("schema")
            .into_inner();
        let collections = c
            .vector
            .list_collections(vec::ListCollectionsRequest::default())
            .await
            .expect("collections")
            .into_inner()
            .collections
            .into_iter()
            .map(|k| (k.name, (k.object_count, k.tombstone_count)))
            .collect();
        let orders = c
            .relational
            .list_orders(rel::ListOrdersRequest {
                page_size: 1000,
                ..Default::default()
            })
            .await
            .expect("orders")
            .into_inner()
            .orders
            .into_iter()
            .map(|o| {
                (
                    o.id,
                    o.customer,
                    o.product,
                    o.quantity,
                    o.status,
                    o.total_cents,
                )
            })
            .collect();
        let mut labels: Vec<(String, i64)> = schema
            .labels
            .into_iter()
            .map(|l| (l.label, l.node_count))
            .collect();
        labels.sort();
        Self {
            nodes: schema.node_count,
            relationships: schema.relationship_count,
            labels,
            collections,
            orders,
        }
    }
}
