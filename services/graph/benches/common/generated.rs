//! The generated graph the benchmarks run on: `NODES` people, `EDGES` relationships between
//! random pairs (80% KNOWS, 20% MANAGES, each with an integer `weight`), from a fixed seed so
//! every run measures the same graph. Loaded through the durable store's write transactions in
//! batches, as a bulk import would be (every batch logged and fsync'd).

#![allow(dead_code)]

use std::collections::BTreeSet;

use chatmesh_graph::internals::{EmbeddedGraph, Properties, Value};

pub(crate) const NODES: usize = 100_000;
pub(crate) const EDGES: usize = 1_000_000;
/// Entities per write transaction during the load.
const BATCH: usize = 10_000;

/// xorshift64*: deterministic, dependency-free.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

fn person(i: usize) -> Properties {
    Properties::from([
        ("name".to_owned(), Value::String(format!("p{i}"))),
        ("age".to_owned(), Value::Int(18 + (i % 50) as i64)),
        ("dept".to_owned(), Value::String(format!("d{}", i % 100))),
    ])
}

/// Loads `nodes` people and `edges` relationships into `store`; returns the node ids in
/// creation order.
pub(crate) fn load(store: &EmbeddedGraph, nodes: usize, edges: usize) -> Vec<u64> {
    let labels = BTreeSet::from(["Person".to_owned()]);
    let mut ids = Vec::with_capacity(nodes);
    for start in (0..nodes).step_by(BATCH) {
        let (batch, _) = store
            .write(|txn| {
                (start..(start + BATCH).min(nodes))
                    .map(|i| txn.create_node(labels.clone(), person(i)))
                    .collect::<Result<Vec<_>, _>>()
            })
            .expect("node batch");
        ids.extend(batch);
    }
    let mut rng = Rng::new(0x5eed);
    for start in (0..edges).step_by(BATCH) {
        store
            .write(|txn| {
                for _ in start..(start + BATCH).min(edges) {
                    let (a, b) = (ids[rng.below(nodes)], ids[rng.below(nodes)]);
                    let rel_type = if rng.below(5) == 0 {
                        "MANAGES"
                    } else {
                        "KNOWS"
                    };
                    let weight = Value::Int(1 + rng.below(10) as i64);
                    txn.create_relationship(
                        a,
                        b,
                        rel_type.to_owned(),
                        Properties::from([("weight".to_owned(), weight)]),
                    )?;
                }
                Ok(())
            })
            .expect("relationship batch");
    }
    ids
}
