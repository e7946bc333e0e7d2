//! A Cypher write that is still running when the caller's deadline passes is rolled back, at
//! whatever stage it is (issue #18.6: the deadline was only read while matching, every 256
//! steps, so a short write past its deadline answered DEADLINE_EXCEEDED yet was applied). The
//! store is driven directly, so the deadline can be one that has already passed: the gRPC edge
//! refuses such a request before the store sees it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chatmesh_graph::internals::{AccessMode, CypherQuery, EmbeddedGraph, GraphError, StoreOptions};

fn query(text: &str, access_mode: AccessMode, deadline: Option<Instant>) -> CypherQuery {
    CypherQuery {
        text: text.into(),
        parameters: HashMap::new(),
        access_mode,
        row_limit: None,
        deadline,
    }
}

fn count(graph: &EmbeddedGraph, label: &str) -> String {
    let result = graph
        .query(&query(
            &format!("MATCH (n:{label}) RETURN count(n)"),
            AccessMode::Read,
            None,
        ))
        .unwrap();
    format!("{:?}", result.rows[0].values[0])
}

#[test]
fn a_write_past_its_deadline_is_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let graph = EmbeddedGraph::open(dir.path(), StoreOptions::default()).unwrap();
    let passed = Some(Instant::now() - Duration::from_millis(1));
    for text in [
        "CREATE (:Late)",
        "CREATE (:Late) WITH 1 AS x CREATE (:Late)",
        "CREATE (:Late), (:Late {x: 2})",
    ] {
        let result = graph.query(&query(text, AccessMode::Write, passed));
        assert!(
            matches!(result, Err(GraphError::DeadlineExceeded(_))),
            "{text}: {result:?}"
        );
    }
    let in_time = Some(Instant::now() + Duration::from_secs(60));
    graph
        .query(&query("CREATE (:OnTime)", AccessMode::Write, in_time))
        .unwrap();
    assert_eq!(
        count(&graph, "Late"),
        count(&graph, "Nothing"),
        "nothing late kept"
    );
    assert_ne!(count(&graph, "OnTime"), count(&graph, "Nothing"));
    // After a reopen (the log replayed), still nothing of the late writes.
    drop(graph);
    let graph = EmbeddedGraph::open(dir.path(), StoreOptions::default()).unwrap();
    assert_eq!(count(&graph, "Late"), count(&graph, "Nothing"));
}
