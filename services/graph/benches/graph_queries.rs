//! Criterion benchmarks of the embedded graph store on a generated graph of 100k nodes and 1M
//! relationships (see `common/generated.rs`): 2-hop neighbours, a Cypher MATCH … WHERE … RETURN with a
//! property filter, and a shortest path by hop count. Bulk load time and memory are measured
//! by `cargo run --release -p chatmesh-graph --example bulk_load` (a load takes seconds, too
//! long to repeat as criterion samples on shared cores).
//!
//! Run: `cargo bench -p chatmesh-graph --bench graph_queries` (samples are few and short).

use std::time::Duration;

use chatmesh_graph::internals::{
    AccessMode, CypherQuery, Direction, EmbeddedGraph, NeighborQuery, PathQuery, StoreOptions,
};
use criterion::{Criterion, criterion_group, criterion_main};

#[path = "common/generated.rs"]
mod generated;

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = EmbeddedGraph::open(dir.path(), StoreOptions::default()).expect("store");
    let ids = generated::load(&store, generated::NODES, generated::EDGES);
    let mut rng = generated::Rng::new(42);

    let mut group = c.benchmark_group("graph_100k_nodes_1m_edges");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));

    group.bench_function("neighbors_2_hops_outgoing", |b| {
        b.iter(|| {
            let query = NeighborQuery {
                node_id: ids[rng.below(ids.len())],
                direction: Direction::Outgoing,
                types: Vec::new(),
                min_depth: 1,
                max_depth: 2,
                limit: None,
                deadline: None,
            };
            store.neighbors(&query).expect("neighbors").list.len()
        })
    });

    group.bench_function("cypher_match_where_property_filter", |b| {
        b.iter(|| {
            let dept = format!("d{}", rng.below(100));
            let query = CypherQuery {
                text: format!(
                    "MATCH (p:Person) WHERE p.dept = '{dept}' AND p.age >= 60 RETURN p.name, p.age"
                ),
                parameters: Default::default(),
                access_mode: AccessMode::Read,
                row_limit: Some(10_000),
                deadline: None,
            };
            store.query(&query).expect("query").rows.len()
        })
    });

    group.bench_function("shortest_path_hops_both_directions", |b| {
        b.iter(|| {
            let query = PathQuery {
                source: ids[rng.below(ids.len())],
                target: ids[rng.below(ids.len())],
                direction: Direction::Both,
                types: Vec::new(),
                max_depth: 15,
                weight: None,
                deadline: None,
            };
            store.shortest_path(&query).map(|p| p.hop_count).ok()
        })
    });
    group.finish();
}

criterion_group!(graph, benches);
criterion_main!(graph);
