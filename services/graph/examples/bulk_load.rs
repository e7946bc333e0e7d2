//! Measures a bulk load of the generated benchmark graph (100k nodes, 1M relationships) into
//! the durable embedded store: load time (batches of 10k entities, each logged and fsync'd)
//! and the resident memory it adds. Prints one line per run and the median load time.
//!
//! Run: `cargo run --release -p chatmesh-graph --example bulk_load [runs]` (default 3).

use std::time::Instant;

use chatmesh_graph::internals::{EmbeddedGraph, StoreOptions};

#[path = "../benches/common/generated.rs"]
mod generated;

/// Resident set size of this process, in bytes (Linux).
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(3);
    let mut seconds = Vec::new();
    for run in 1..=runs {
        let dir = tempfile::tempdir().expect("temporary directory");
        let before = rss_bytes().unwrap_or(0);
        let started = Instant::now();
        let store = EmbeddedGraph::open(dir.path(), StoreOptions::default()).expect("store");
        generated::load(&store, generated::NODES, generated::EDGES);
        let elapsed = started.elapsed().as_secs_f64();
        let after = rss_bytes().unwrap_or(0);
        let schema = store.schema();
        println!(
            "run {run}: loaded {} nodes and {} relationships in {elapsed:.2} s; RSS +{:.0} MiB (from {:.0} to {:.0} MiB)",
            schema.node_count,
            schema.relationship_count,
            after.saturating_sub(before) as f64 / 1048576.0,
            before as f64 / 1048576.0,
            after as f64 / 1048576.0,
        );
        seconds.push(elapsed);
        drop(store);
    }
    seconds.sort_by(f64::total_cmp);
    println!("median load time: {:.2} s", seconds[seconds.len() / 2]);
}
