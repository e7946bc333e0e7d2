//! Fuzzes parsing and running Cypher on a small graph: whatever parses must run to a result or
//! an error within the time budget, and a failing statement must leave the graph unchanged.

#![no_main]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chatmesh_graph::internals::{Budget, Graph, GraphState, Txn, execute, parse};
use libfuzzer_sys::fuzz_target;

/// A few labelled nodes and relationships to match against.
fn small_graph() -> GraphState {
    let mut state = GraphState::new();
    let setup = parse(
        "CREATE (a:Person {name: 'Ada', age: 36})-[:KNOWS {since: 2001}]->(b:Person {name: 'Bo', age: 7}), \
         (b)-[:MANAGES]->(c:Team {name: 'Core', tags: ['x', 'y']}), (c)-[:OWNS]->(a)",
    )
    .expect("set-up parses");
    let mut txn = Txn::new(&mut state);
    execute(
        Graph::Write(&mut txn),
        &setup,
        &HashMap::new(),
        &Budget::new(None),
        None,
    )
    .expect("set-up runs");
    drop(txn);
    state
}

fn summary(state: &GraphState) -> (usize, usize) {
    (state.node_count(), state.relationship_count())
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(statement) = parse(text) else {
        return;
    };
    let mut state = small_graph();
    let before = summary(&state);
    let budget = Budget::new(Some(Instant::now() + Duration::from_millis(200)));
    let mut txn = Txn::new(&mut state);
    let result = execute(
        Graph::Write(&mut txn),
        &statement,
        &HashMap::new(),
        &budget,
        Some(100),
    );
    if result.is_err() {
        txn.rollback();
        assert_eq!(summary(&state), before, "a failed statement changed the graph");
    }
});
