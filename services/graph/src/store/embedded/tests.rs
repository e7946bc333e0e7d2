//! The embedded store's own tests: durability across reopen (log and snapshot, ids never
//! reused), deadlines on walks and queries (with rollback), and the inline fast paths.

use std::collections::BTreeSet;

use super::*;
use crate::model::{AccessMode, Direction, QueryValue, Value, Weight};

#[test]
fn survives_reopen_through_log_and_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions::default();
    let (a, b) = {
        let store = EmbeddedGraph::open(dir.path(), options.clone()).unwrap();
        let a = store
            .create_node(
                BTreeSet::from(["Person".into()]),
                Properties::from([("name".into(), Value::String("Ada".into()))]),
            )
            .unwrap();
        let b = store
            .create_node(BTreeSet::new(), Properties::new())
            .unwrap();
        store
            .create_relationship(a.id, b.id, "KNOWS".into(), Properties::new())
            .unwrap();
        store.flush().unwrap();
        let c = store
            .create_node(BTreeSet::new(), Properties::new())
            .unwrap();
        store.delete_node(c.id).unwrap();
        (a, b)
    };
    let store = EmbeddedGraph::open(dir.path(), options.clone()).unwrap();
    assert_eq!(store.node(a.id).unwrap(), a);
    assert_eq!(store.node(b.id).unwrap(), b);
    assert_eq!(store.schema().relationship_count, 1);
    // Deleted ids are never reused, across restarts too.
    let d = store
        .create_node(BTreeSet::new(), Properties::new())
        .unwrap();
    assert_eq!(d.id, 4);
    store.flush().unwrap();
    drop(store);
    let store = EmbeddedGraph::open(dir.path(), options).unwrap();
    let e = store
        .create_node(BTreeSet::new(), Properties::new())
        .unwrap();
    assert_eq!(e.id, 5);
}

#[test]
fn neighbors_and_paths_stop_at_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedGraph::open(dir.path(), StoreOptions::default()).unwrap();
    // A hub with 600 spokes that all lead on to one target: every walk from the hub
    // past depth 1 visits hundreds of nodes.
    let ((hub, target), _) = store
        .write(|txn| {
            let hub = txn.create_node(BTreeSet::new(), Properties::new())?;
            let target = txn.create_node(BTreeSet::new(), Properties::new())?;
            for _ in 0..600 {
                let spoke = txn.create_node(BTreeSet::new(), Properties::new())?;
                txn.create_relationship(hub, spoke, "OUT".into(), Properties::new())?;
                txn.create_relationship(spoke, target, "IN".into(), Properties::new())?;
            }
            Ok((hub, target))
        })
        .unwrap();
    let neighbors = |deadline| NeighborQuery {
        node_id: hub,
        direction: Direction::Outgoing,
        types: Vec::new(),
        min_depth: 1,
        max_depth: 2,
        limit: None,
        deadline,
    };
    let path = |deadline, weight| PathQuery {
        source: hub,
        target,
        direction: Direction::Outgoing,
        types: Vec::new(),
        max_depth: 10,
        weight,
        deadline,
    };
    let weight = || {
        Some(Weight {
            property: "w".into(),
            default: Some(1.0),
        })
    };
    let past = Some(std::time::Instant::now());
    let expired = [
        store.neighbors(&neighbors(past)).map(|_| ()).unwrap_err(),
        store
            .shortest_path(&path(past, None))
            .map(|_| ())
            .unwrap_err(),
        store
            .shortest_path(&path(past, weight()))
            .map(|_| ())
            .unwrap_err(),
    ];
    for err in expired {
        assert!(matches!(err, GraphError::DeadlineExceeded(_)), "{err}");
    }
    // Without a deadline all three finish.
    assert_eq!(store.neighbors(&neighbors(None)).unwrap().list.len(), 601);
    assert_eq!(store.shortest_path(&path(None, None)).unwrap().hop_count, 2);
    assert_eq!(
        store
            .shortest_path(&path(None, weight()))
            .unwrap()
            .total_weight,
        2.0
    );
}

#[test]
fn quick_reads_answer_like_blocking_ones_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedGraph::open(dir.path(), StoreOptions::default()).unwrap();
    // A chain a -> b -> c, and a hub with 20 spokes.
    let ((a, hub), _) = store
        .write(|txn| {
            let a = txn.create_node(BTreeSet::new(), Properties::new())?;
            let b = txn.create_node(BTreeSet::new(), Properties::new())?;
            let c = txn.create_node(BTreeSet::new(), Properties::new())?;
            txn.create_relationship(a, b, "R".into(), Properties::new())?;
            txn.create_relationship(b, c, "R".into(), Properties::new())?;
            let hub = txn.create_node(BTreeSet::new(), Properties::new())?;
            for _ in 0..20 {
                let spoke = txn.create_node(BTreeSet::new(), Properties::new())?;
                txn.create_relationship(hub, spoke, "R".into(), Properties::new())?;
            }
            Ok((a, hub))
        })
        .unwrap();
    let walk = |node_id| NeighborQuery {
        node_id,
        direction: Direction::Outgoing,
        types: Vec::new(),
        min_depth: 1,
        max_depth: 2,
        limit: None,
        deadline: None,
    };
    let quick = store.try_neighbors(&walk(a), 10).unwrap().unwrap();
    assert_eq!(quick, store.neighbors(&walk(a)).unwrap());
    assert_eq!(quick.list.len(), 2);
    // A walk taking more relationships than allowed is left to the blocking method.
    assert!(store.try_neighbors(&walk(hub), 10).is_none());
    assert_eq!(
        store
            .try_neighbors(&walk(hub), 20)
            .unwrap()
            .unwrap()
            .list
            .len(),
        20
    );
    // Errors come back as answers.
    assert!(matches!(
        store.try_neighbors(&walk(999), 10),
        Some(Err(GraphError::NotFound(_)))
    ));
    assert_eq!(store.try_node(a).unwrap().unwrap(), store.node(a).unwrap());
    assert_eq!(
        store.try_relationship(1).unwrap().unwrap(),
        store.relationship(1).unwrap()
    );
    // While a write holds the graph, nothing is answered at once.
    let writing = store.inner.state.write();
    assert!(store.try_node(a).is_none());
    assert!(store.try_relationship(1).is_none());
    assert!(store.try_neighbors(&walk(a), 10).is_none());
    drop(writing);
    assert!(store.try_node(a).is_some());
}

#[test]
fn queries_stop_at_the_deadline_and_writes_roll_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedGraph::open(dir.path(), StoreOptions::default()).unwrap();
    let query = |text: &str, deadline| CypherQuery {
        text: text.into(),
        parameters: Default::default(),
        access_mode: AccessMode::Write,
        row_limit: None,
        deadline,
    };
    store
        .query(&query(
            "CREATE (:N), (:N), (:N), (:N), (:N), (:N), (:N), (:N)",
            None,
        ))
        .unwrap();
    for _ in 0..5 {
        store
            .query(&query("MATCH (n:N) CREATE (:N)", None))
            .unwrap();
    }
    let nodes = || store.schema().node_count;
    assert_eq!(nodes(), 256);
    let past = Some(std::time::Instant::now());
    let err = store
        .query(&query("MATCH (a:N), (b:N) RETURN count(*)", past))
        .unwrap_err();
    assert!(matches!(err, GraphError::DeadlineExceeded(_)), "{err}");
    let err = store
        .query(&query("MATCH (a:N), (b:N) CREATE (:X)", past))
        .unwrap_err();
    assert!(matches!(err, GraphError::DeadlineExceeded(_)), "{err}");
    assert_eq!(nodes(), 256);
    let rows = store
        .query(&query("MATCH (a:N), (b:N) RETURN count(*)", None))
        .unwrap()
        .rows;
    assert_eq!(rows[0].values[0], QueryValue::Int(65536));
}
