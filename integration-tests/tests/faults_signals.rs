//! Fault injection, part one: signals (issue #18). The five services run as separate processes,
//! as deployed. Each data service in turn is killed (SIGKILL, a crash) and then stopped
//! (SIGTERM, a drain) while four writers write to it and a chat client keeps asking through the
//! chatbot. After each restart on the same store, every write the service acknowledged is there
//! as it was acknowledged; SIGTERM ends with exit code 0; no chat fails meanwhile (a backend that
//! is down is a fallback answer, never an error); and once the backend is back, its questions are
//! answered from it again.
//!
//! Part two, hostile requests, is `faults_inputs.rs`; the memory bound of exploding queries is
//! `services/graph/tests/query_limits.rs`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chatmesh_integration_tests::mesh::{Backend, Mesh};
use chatmesh_proto::chat::chat_service_client::ChatServiceClient;
use chatmesh_proto::chat::{ChatRequest, ChatResponse};
use chatmesh_proto::graph::{self as graph, graph_service_client::GraphServiceClient};
use chatmesh_proto::relational::{self as rel, relational_service_client::RelationalServiceClient};
use chatmesh_proto::router::Target;
use chatmesh_proto::vector::{self as vec, vector_service_client::VectorServiceClient};
use chatmesh_test_support::grpc::channel;
use chatmesh_test_support::process::Signal;
use tonic::transport::Channel;

const WRITERS: u64 = 4;
/// Acknowledged writes, and time of writing, before the signal: the signal lands mid-stream,
/// with writes in flight and others in the log's tail.
const ACKED_BEFORE_SIGNAL: usize = 40;
const WRITING_BEFORE_SIGNAL: Duration = Duration::from_millis(250);
const FAULT_COLLECTION: &str = "faults";

/// A write the service acknowledged, with what it must read back.
#[derive(Debug, Clone)]
enum Ack {
    Node { id: u64, seq: i64 },
    Object { id: String, seq: i64 },
    Order { id: i64, total_cents: i64 },
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_backend_keeps_its_acknowledged_writes_through_sigkill_and_sigterm_under_load() {
    let data = tempfile::tempdir().unwrap();
    let mut mesh = Mesh::start(data.path(), &[]).await;
    mesh.create_vectors_only_collection(FAULT_COLLECTION, 4)
        .await;

    // Chats through the whole mesh for the whole test; every one must be answered.
    let chats = ChatLoad::start(&mesh).await;

    for backend in Backend::ALL {
        for sig in [Signal::Kill, Signal::Term] {
            let acked = write_until_signal(&mut mesh, backend, sig).await;
            mesh.restart(backend, data.path()).await;
            verify(&mesh, &acked).await;
            chats.wait_until_answered_by(backend).await;
            eprintln!(
                "{backend:?} after {sig:?}: {} acknowledged writes read back",
                acked.len()
            );
        }
    }

    let (answered, failures) = chats.stop().await;
    assert!(answered > 0, "no chat was answered");
    eprintln!("{answered} chats answered, {} failed", failures.len());
    assert!(
        failures.is_empty(),
        "{} of {} chats failed: {:?}",
        failures.len(),
        answered + failures.len() as u64,
        &failures[..failures.len().min(5)]
    );
}

/// Four writers write to `backend` until it stops answering; once at least
/// [`ACKED_BEFORE_SIGNAL`] writes are acknowledged and [`WRITING_BEFORE_SIGNAL`] has passed,
/// `sig` goes to the process. Returns every
/// acknowledged write.
async fn write_until_signal(mesh: &mut Mesh, backend: Backend, sig: Signal) -> Vec<Ack> {
    let addr = mesh.backend(backend).addr;
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let acked = acked.clone();
        let channel = channel(addr).await;
        writers.push(tokio::spawn(async move {
            let mut seq = 0i64;
            loop {
                seq += 1;
                let tag = (writer as i64) * 1_000_000 + seq;
                match write(backend, channel.clone(), tag).await {
                    Ok(ack) => acked.lock().unwrap().push(ack),
                    // The process is going or gone: unavailable, refused, reset, cancelled.
                    Err(_) => return,
                }
            }
        }));
    }
    let started = Instant::now();
    while acked.lock().unwrap().len() < ACKED_BEFORE_SIGNAL
        || started.elapsed() < WRITING_BEFORE_SIGNAL
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{backend:?}: only {} writes acknowledged in 30 s",
            acked.lock().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let process = mesh.backend(backend);
    match sig {
        Signal::Kill => process.kill(),
        _ => {
            // The drain takes a moment; the writers run on the other worker meanwhile.
            let code = tokio::task::block_in_place(|| process.terminate());
            assert_eq!(code, Some(0), "{backend:?} after SIGTERM");
        }
    }
    for writer in writers {
        tokio::time::timeout(Duration::from_secs(15), writer)
            .await
            .expect("a writer did not notice the stop within 15 s")
            .expect("writer task");
    }
    Arc::try_unwrap(acked).unwrap().into_inner().unwrap()
}

/// One write of `tag` to `backend`, with a deadline so that a write to a frozen process ends.
async fn write(backend: Backend, channel: Channel, tag: i64) -> Result<Ack, tonic::Status> {
    fn timed<T>(message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request.set_timeout(Duration::from_secs(5));
        request
    }
    match backend {
        Backend::Graph => {
            let request = graph::CreateNodeRequest {
                labels: vec!["Fault".into()],
                properties: HashMap::from([("seq".into(), graph_int(tag))]),
            };
            let node = GraphServiceClient::new(channel)
                .create_node(timed(request))
                .await?
                .into_inner()
                .node
                .expect("the created node");
            Ok(Ack::Node {
                id: node.id,
                seq: tag,
            })
        }
        Backend::Vector => {
            let id = format!("w{tag}");
            let request = vec::UpsertObjectsRequest {
                collection: FAULT_COLLECTION.into(),
                objects: vec![vec::VectorObject {
                    id: id.clone(),
                    vector: vec![1.0, (tag % 97) as f32, 0.5, 2.0],
                    payload: HashMap::from([("seq".into(), payload_int(tag))]),
                    text: None,
                }],
            };
            VectorServiceClient::new(channel)
                .upsert_objects(timed(request))
                .await?;
            Ok(Ack::Object { id, seq: tag })
        }
        Backend::Relational => {
            let request = rel::CreateOrderRequest {
                id: None,
                customer: "Fault Injector".into(),
                product: format!("part {tag}"),
                quantity: 1,
                status: rel::OrderStatus::Pending as i32,
                total_cents: tag,
            };
            let order = RelationalServiceClient::new(channel)
                .create_order(timed(request))
                .await?
                .into_inner()
                .order
                .expect("the created order");
            Ok(Ack::Order {
                id: order.id,
                total_cents: tag,
            })
        }
    }
}

/// Reads every acknowledged write back from the restarted service.
async fn verify(mesh: &Mesh, acked: &[Ack]) {
    let mut graph = GraphServiceClient::new(channel(mesh.graph.addr).await);
    let mut vector = VectorServiceClient::new(channel(mesh.vector.addr).await);
    let mut relational = RelationalServiceClient::new(channel(mesh.relational.addr).await);
    for ack in acked {
        match ack {
            Ack::Node { id, seq } => {
                let node = graph
                    .get_node(graph::GetNodeRequest { id: *id })
                    .await
                    .unwrap_or_else(|s| panic!("acknowledged node {id}: {s:?}"))
                    .into_inner()
                    .node
                    .expect("node");
                assert_eq!(
                    node.properties.get("seq"),
                    Some(&graph_int(*seq)),
                    "{node:?}"
                );
            }
            Ack::Object { id, seq } => {
                let object = vector
                    .get_object(vec::GetObjectRequest {
                        collection: FAULT_COLLECTION.into(),
                        id: id.clone(),
                        include_vector: false,
                    })
                    .await
                    .unwrap_or_else(|s| panic!("acknowledged object {id}: {s:?}"))
                    .into_inner()
                    .object
                    .expect("object");
                assert_eq!(object.payload.get("seq"), Some(&payload_int(*seq)));
            }
            Ack::Order { id, total_cents } => {
                let order = relational
                    .get_order(rel::GetOrderRequest { id: *id })
                    .await
                    .unwrap_or_else(|s| panic!("acknowledged order {id}: {s:?}"))
                    .into_inner()
                    .order
                    .expect("order");
                assert_eq!(order.total_cents, *total_cents, "{order:?}");
            }
        }
    }
}

fn graph_int(value: i64) -> graph::Value {
    graph::Value {
        kind: Some(graph::value::Kind::IntValue(value)),
    }
}

fn payload_int(value: i64) -> vec::PayloadValue {
    vec::PayloadValue {
        kind: Some(vec::payload_value::Kind::IntValue(value)),
    }
}

/// A chat client asking a question for each backend in turn, for as long as the test runs.
struct ChatLoad {
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicU64>,
    /// When a question for each backend was last answered from that backend.
    last_answer: Arc<Mutex<HashMap<i32, Instant>>>,
    failures: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

const QUESTIONS: [(&str, Target); 3] = [
    ("Who manages Alan Turing?", Target::Graph),
    ("How do I reset my password?", Target::Vector),
    ("What is the status of order 100001?", Target::Relational),
];

impl ChatLoad {
    async fn start(mesh: &Mesh) -> Self {
        let mut chat = ChatServiceClient::new(channel(mesh.chatbot.addr).await);
        let stop = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(AtomicU64::new(0));
        let last_answer = Arc::new(Mutex::new(HashMap::new()));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn({
            let (stop, answered) = (stop.clone(), answered.clone());
            let (last_answer, failures) = (last_answer.clone(), failures.clone());
            async move {
                for turn in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let (question, target) = QUESTIONS[turn % QUESTIONS.len()];
                    let mut request = tonic::Request::new(ChatRequest {
                        session_id: format!("faults-{}", turn % 7),
                        message: question.into(),
                        hints: None,
                    });
                    request.set_timeout(Duration::from_secs(10));
                    match chat.chat(request).await {
                        Ok(response) => {
                            answered.fetch_add(1, Ordering::Relaxed);
                            let response: ChatResponse = response.into_inner();
                            if !response.fallback && response.target == target as i32 {
                                last_answer
                                    .lock()
                                    .unwrap()
                                    .insert(target as i32, Instant::now());
                            }
                        }
                        Err(status) => failures
                            .lock()
                            .unwrap()
                            .push(format!("{question}: {status:?}")),
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            }
        });
        Self {
            stop,
            answered,
            last_answer,
            failures,
            task,
        }
    }

    /// Waits (at most 20 s) until a question for `backend` is answered from it again.
    async fn wait_until_answered_by(&self, backend: Backend) {
        let target = match backend {
            Backend::Graph => Target::Graph,
            Backend::Vector => Target::Vector,
            Backend::Relational => Target::Relational,
        } as i32;
        let since = Instant::now();
        loop {
            let last = self.last_answer.lock().unwrap().get(&target).copied();
            if last.is_some_and(|at| at > since) {
                return;
            }
            assert!(
                since.elapsed() < Duration::from_secs(20),
                "no chat was answered from {backend:?} within 20 s of its restart"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops asking; returns how many chats were answered and each failure.
    async fn stop(self) -> (u64, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("chat task");
        let failures = self.failures.lock().unwrap().clone();
        (self.answered.load(Ordering::Relaxed), failures)
    }
}
