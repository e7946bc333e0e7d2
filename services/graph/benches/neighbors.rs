//! ListNeighbors at concurrency 16 on an organisation graph shaped like the benchmark workload
//! (1,000 `Person` with `name` and `title`, 40 `Team`; each person after the first `MANAGES`d by
//! an earlier one, each a `MEMBER_OF` one team): a random person's `MANAGES` reports, outgoing,
//! depth 1..2, as `chatmesh bench`'s `graph-neighbors` asks.
//!
//! - `store_handoff`: the store call alone on a 2-worker tokio runtime, handed to the blocking
//!   pool (`spawn_blocking`, as every read once was) or answered on the async thread
//!   (`try_neighbors`, as the embedded store's async method now does) — a paired comparison
//!   of that one hop.
//! - `grpc`: the whole call through the service on a loopback port (one HTTP/2 connection).
//!
//! Run: `cargo bench -p chatmesh-graph --bench neighbors`. Each sample times `iters` calls
//! spread over 16 tasks, so the time per iteration is the inverse of the throughput.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chatmesh_graph::internals::{
    Direction, EmbeddedGraph, NeighborQuery, Properties, StoreOptions, Value,
};
use chatmesh_proto::graph as pb;
use chatmesh_proto::graph::graph_service_client::GraphServiceClient;
use criterion::{Criterion, criterion_group, criterion_main};

#[path = "common/generated.rs"]
mod generated;

const PEOPLE: usize = 1000;
const TEAMS: usize = 40;
const CONCURRENCY: u64 = 16;

/// Loads the organisation; returns the people's node ids.
fn load(store: &EmbeddedGraph) -> Vec<u64> {
    let mut rng = generated::Rng::new(7);
    let (people, _) = store
        .write(|txn| {
            let teams = (0..TEAMS)
                .map(|i| {
                    let name = Value::String(format!("team-{i}"));
                    txn.create_node(
                        BTreeSet::from(["Team".to_owned()]),
                        Properties::from([("name".to_owned(), name)]),
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut people = Vec::with_capacity(PEOPLE);
            for i in 0..PEOPLE {
                let person = txn.create_node(
                    BTreeSet::from(["Person".to_owned()]),
                    Properties::from([
                        ("name".to_owned(), Value::String(format!("person-{i}"))),
                        ("title".to_owned(), Value::String("Engineer".to_owned())),
                    ]),
                )?;
                if i > 0 {
                    let manager = people[rng.below(i)];
                    txn.create_relationship(manager, person, "MANAGES".into(), Properties::new())?;
                }
                let team = teams[rng.below(TEAMS)];
                txn.create_relationship(person, team, "MEMBER_OF".into(), Properties::new())?;
                people.push(person);
            }
            Ok(people)
        })
        .expect("load");
    people
}

fn query(node_id: u64) -> NeighborQuery {
    NeighborQuery {
        node_id,
        direction: Direction::Outgoing,
        types: vec!["MANAGES".into()],
        min_depth: 1,
        max_depth: 2,
        limit: None,
        deadline: None,
    }
}

/// Runs `iters` calls of `call` over [`CONCURRENCY`] tasks; returns the wall time.
fn concurrently<F, Fut>(runtime: &tokio::runtime::Runtime, iters: u64, call: F) -> Duration
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let call = Arc::new(call);
    runtime.block_on(async {
        let started = Instant::now();
        let tasks: Vec<_> = (0..CONCURRENCY)
            .map(|task| {
                let call = call.clone();
                tokio::spawn(async move {
                    let mut rng = generated::Rng::new(task + 1);
                    for _ in 0..iters.div_ceil(CONCURRENCY) {
                        call(rng.next_u64()).await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("task");
        }
        started.elapsed()
    })
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = EmbeddedGraph::open(dir.path(), StoreOptions::default()).expect("store");
    let people = Arc::new(load(&store));
    store.flush().expect("snapshot");
    handoff_benches(c, &runtime, Arc::new(store), people.clone());
    grpc_benches(c, &runtime, dir.path(), people);
}

/// The store call alone, handed to the blocking pool or answered inline.
fn handoff_benches(
    c: &mut Criterion,
    runtime: &tokio::runtime::Runtime,
    store: Arc<EmbeddedGraph>,
    people: Arc<Vec<u64>>,
) {
    let mut group = c.benchmark_group("neighbors_c16_store_handoff");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    group.bench_function("spawn_blocking", |b| {
        b.iter_custom(|iters| {
            let (store, people) = (store.clone(), people.clone());
            concurrently(runtime, iters, move |r| {
                let (store, node) = (store.clone(), people[r as usize % people.len()]);
                async move {
                    tokio::task::spawn_blocking(move || store.neighbors(&query(node)))
                        .await
                        .expect("join")
                        .expect("neighbors");
                }
            })
        })
    });
    group.bench_function("inline", |b| {
        b.iter_custom(|iters| {
            let (store, people) = (store.clone(), people.clone());
            concurrently(runtime, iters, move |r| {
                let found = store
                    .try_neighbors(&query(people[r as usize % people.len()]), 512)
                    .expect("answered at once")
                    .expect("neighbors");
                async move {
                    std::hint::black_box(found);
                }
            })
        })
    });
    group.finish();
}

/// The whole ListNeighbors call through the service on a loopback port, on the data `dir`
/// holds.
fn grpc_benches(
    c: &mut Criterion,
    runtime: &tokio::runtime::Runtime,
    dir: &std::path::Path,
    people: Arc<Vec<u64>>,
) {
    let (client, shutdown) = runtime.block_on(async {
        let args = ["chatmesh-graph", "--data-dir", &dir.display().to_string()].map(str::to_owned);
        let config: chatmesh_graph::Config =
            chatmesh_runtime::cli::parse_config(&chatmesh_graph::INFO, args).expect("config");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let shutdown = chatmesh_runtime::CancellationToken::new();
        tokio::spawn(chatmesh_graph::serve_on(config, listener, shutdown.clone()));
        let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
            .expect("uri")
            .connect()
            .await
            .expect("connect");
        let mut client = GraphServiceClient::new(channel);
        while let Err(status) = client.get_schema(pb::GetSchemaRequest {}).await {
            assert_eq!(status.code(), tonic::Code::Unavailable, "{status}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        (client, shutdown)
    });
    let mut group = c.benchmark_group("neighbors_c16_grpc");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("list_neighbors", |b| {
        b.iter_custom(|iters| {
            let (client, people) = (client.clone(), people.clone());
            concurrently(runtime, iters, move |r| {
                let mut client = client.clone();
                let node_id = people[r as usize % people.len()];
                async move {
                    client
                        .list_neighbors(pb::ListNeighborsRequest {
                            node_id,
                            direction: pb::Direction::Outgoing as i32,
                            relationship_types: vec!["MANAGES".into()],
                            min_depth: 1,
                            max_depth: 2,
                            ..Default::default()
                        })
                        .await
                        .expect("ListNeighbors");
                }
            })
        })
    });
    group.finish();
    shutdown.cancel();
}

criterion_group!(neighbors, benches);
criterion_main!(neighbors);
