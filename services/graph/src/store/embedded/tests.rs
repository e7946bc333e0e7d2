//! The embedded store's own tests: durability across reopen (log and snapshot, ids never
//! reused), deadlines on walks and queries (with rollback), the inline fast paths, and the
//! nodes walks share with the graph.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::*;
use crate::model::{AccessMode, Direction, NodeUpdate, QueryValue, Value, Weight};

/// A statement with no parameters, row limit or deadline.
fn cypher(text: &str, access_mode: AccessMode) -> CypherQuery {
    CypherQuery {
        text: text.into(),
        parameters: Default::default(),
        access_mode,
        row_limit: None,
        deadline: None,
    }
}

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
fn walks_share_nodes_and_later_changes_leave_answers_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedGraph::open(dir.path(), StoreOptions::default()).unwrap();
    let props = |name: &str| Properties::from([("name".into(), Value::String(name.into()))]);
    let ((a, b), _) = store
        .write(|txn| {
            let a = txn.create_node(BTreeSet::new(), props("a"))?;
            let b = txn.create_node(BTreeSet::from(["Person".into()]), props("b"))?;
            txn.create_relationship(a, b, "R".into(), Properties::new())?;
            Ok((a, b))
        })
        .unwrap();
    let walk = NeighborQuery {
        node_id: a,
        direction: Direction::Outgoing,
        types: Vec::new(),
        min_depth: 1,
        max_depth: 1,
        limit: None,
        deadline: None,
    };
    let first = store.neighbors(&walk).unwrap();
    let second = store.neighbors(&walk).unwrap();
    // Two answers hold the graph's own node, not copies of it.
    assert!(Arc::ptr_eq(&first.list[0].node, &second.list[0].node));
    assert_eq!(first.list[0].node.properties, props("b"));
    // A change while they are held copies the node for the graph; the answers keep what was
    // true when they were taken.
    store
        .update_node(NodeUpdate {
            id: b,
            set_properties: vec![("name".into(), Value::String("b2".into()))],
            remove_keys: Vec::new(),
            add_labels: vec!["Manager".into()],
            remove_labels: Vec::new(),
        })
        .unwrap();
    assert_eq!(first.list[0].node.properties, props("b"));
    assert_eq!(first.list[0].node.labels, BTreeSet::from(["Person".into()]));
    let third = store.neighbors(&walk).unwrap();
    assert_eq!(third.list[0].node.properties, props("b2"));
    assert_eq!(
        third.list[0].node.labels,
        BTreeSet::from(["Manager".into(), "Person".into()])
    );
    assert_eq!(*third.list[0].node, store.node(b).unwrap());
}

#[test]
fn queries_stop_at_the_deadline_and_writes_roll_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedGraph::open(dir.path(), StoreOptions::default()).unwrap();
    let query = |text: &str, deadline| CypherQuery {
        deadline,
        ..cypher(text, AccessMode::Write)
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

#[test]
fn indexed_lookups_follow_writes_rollbacks_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let run = |store: &EmbeddedGraph, text: &str| store.query(&cypher(text, AccessMode::Write));
    // Ids of the nodes a pattern finds, through the label and property indexes.
    let ids = |store: &EmbeddedGraph, pattern: &str| -> Vec<QueryValue> {
        let text = format!("MATCH (n{pattern}) RETURN id(n) ORDER BY id(n)");
        run(store, &text)
            .unwrap()
            .rows
            .into_iter()
            .map(|mut row| row.values.remove(0))
            .collect()
    };
    let store = EmbeddedGraph::open(dir.path(), StoreOptions::default()).unwrap();
    run(
        &store,
        "CREATE (:Person {name: 'Ada', n: 1.0}), (:Person {name: 'Bo', n: 2}), (:Team {name: 'Ada'})",
    )
    .unwrap();
    let (ada, bo, team) = (QueryValue::Int(1), QueryValue::Int(2), QueryValue::Int(3));
    assert_eq!(ids(&store, ":Person {name: 'Ada'}"), vec![ada.clone()]);
    assert_eq!(
        ids(&store, " {name: 'Ada'}"),
        vec![ada.clone(), team.clone()]
    );
    // 1 = 1.0 in Cypher: an integer finds the node whose property is the float.
    assert_eq!(ids(&store, " {n: 1}"), vec![ada.clone()]);
    assert_eq!(ids(&store, " {n: 2.0}"), vec![bo.clone()]);

    run(&store, "MATCH (n {name: 'Bo'}) SET n.name = 'Cy', n:Admin").unwrap();
    assert_eq!(ids(&store, ":Person {name: 'Bo'}"), vec![]);
    assert_eq!(ids(&store, ":Admin {name: 'Cy'}"), vec![bo.clone()]);
    run(&store, "MATCH (n:Admin) REMOVE n:Admin, n.n").unwrap();
    assert_eq!(ids(&store, ":Admin"), vec![]);
    assert_eq!(ids(&store, " {n: 2}"), vec![]);

    // A write that fails half-way leaves the indexes as the graph: unchanged.
    let err = run(
        &store,
        "MATCH (n:Person {name: 'Ada'}), (t:Team) SET n.name = 'Zed', t:Gone \
         CREATE (n)-[:IN]->(t) DELETE n",
    )
    .unwrap_err();
    assert!(matches!(err, GraphError::FailedPrecondition(_)), "{err}");
    assert_eq!(ids(&store, " {name: 'Zed'}"), vec![]);
    assert_eq!(ids(&store, ":Gone"), vec![]);
    assert_eq!(ids(&store, ":Person {name: 'Ada'}"), vec![ada.clone()]);

    run(&store, "MATCH (t:Team) DELETE t").unwrap();
    assert_eq!(ids(&store, " {name: 'Ada'}"), vec![ada.clone()]);
    store.flush().unwrap();
    drop(store);
    // Rebuilt from the snapshot and the log.
    let store = EmbeddedGraph::open(dir.path(), StoreOptions::default()).unwrap();
    assert_eq!(ids(&store, ":Person {name: 'Ada'}"), vec![ada]);
    assert_eq!(ids(&store, ":Person {name: 'Cy'}"), vec![bo]);
    assert_eq!(ids(&store, ":Team"), vec![]);
}

#[test]
fn quick_queries_answer_like_blocking_ones_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedGraph::open(dir.path(), StoreOptions::default()).unwrap();
    let query = cypher;
    let garbage = "NOT CYPHER AT ALL";
    assert!(
        store
            .try_query(&query(garbage, AccessMode::Read), 64)
            .is_some_and(|r| r.is_err())
    );
    let write = query(
        "CREATE (:N {k: 1}), (:N {k: 2}), (:N {k: 3})",
        AccessMode::Write,
    );
    assert!(
        store.try_query(&write, 1 << 20).is_none(),
        "writes never run inline"
    );
    store.query(&write).unwrap();
    let read = query("MATCH (n:N {k: 2}) RETURN id(n)", AccessMode::Read);
    let inline = store.try_query(&read, 64).expect("small enough").unwrap();
    assert_eq!(inline.rows, store.query(&read).unwrap().rows);
    // Past its steps a read gives way, whole: no partial answer.
    let wide = query(
        "MATCH (a:N), (b:N), (c:N) RETURN count(*)",
        AccessMode::Read,
    );
    assert!(store.try_query(&wide, 8).is_none());
    let rows = store.query(&wide).unwrap().rows;
    assert_eq!(rows[0].values[0], QueryValue::Int(27));
    // A write in READ mode is refused the same way inline.
    let sneaky = query("CREATE (:N)", AccessMode::Read);
    let err = store
        .try_query(&sneaky, 64)
        .expect("refused at once")
        .unwrap_err();
    assert!(matches!(err, GraphError::InvalidArgument(_)), "{err}");
}

#[test]
fn start_lookups_answer_as_the_cypher_statement_does() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedGraph::open(dir.path(), StoreOptions::default()).unwrap();
    let big = 1_i64 << 60;
    store
        .query(&cypher(
            &format!(
                "CREATE (:Team {{name: 'Ada'}}), (:Person {{name: 'Ada', n: 1.0, tags: ['x']}}), \
                 (:Person {{name: 'Bo', n: 2, ok: true}}), (:Person:Admin {{name: 'Ada', n: {big}}}), \
                 (:Person {{name: 'Gone'}})"
            ),
            AccessMode::Write,
        ))
        .unwrap();
    store
        .query(&cypher(
            "MATCH (n {name: 'Gone'}) DELETE n",
            AccessMode::Write,
        ))
        .unwrap();
    let string = |s: &str| QueryValue::String(s.into());
    let cases = [
        ("Person", "name", string("Ada")), // two Persons: the lower id
        ("Admin", "name", string("Ada")),
        ("Team", "name", string("Ada")),
        ("Person", "name", string("Gone")), // deleted
        ("Person", "name", string("ada")),  // equality is exact
        ("Nobody", "name", string("Ada")),
        ("Person", "n", QueryValue::Int(1)), // 1 = 1.0
        ("Person", "n", QueryValue::Float(2.0)),
        ("Person", "n", QueryValue::Int(big)), // past 2^53: no index, a scan
        ("Person", "ok", QueryValue::Bool(true)),
        ("Person", "tags", QueryValue::List(vec![string("x")])), // a list: a scan
        ("Person", "tags", QueryValue::List(vec![string("y")])),
    ];
    let mut found = 0;
    for (label, property, value) in cases {
        let start = NodeMatch {
            label: label.into(),
            property: property.into(),
            value,
        };
        let statement = store.query(&start.lookup(None)).unwrap();
        let expected = NodeMatch::first_id(&statement);
        assert_eq!(
            store.lowest_node(&start, None).unwrap(),
            expected,
            "{start:?}"
        );
        let inline = store.try_lowest_node(&start, None, 1 << 20);
        assert_eq!(inline.unwrap().unwrap(), expected, "{start:?}");
        found += usize::from(expected.is_some());
    }
    assert_eq!(found, 8, "the cases above find eight nodes");
    // Past its steps the inline lookup gives way to the blocking one.
    let ada = NodeMatch {
        label: "Person".into(),
        property: "name".into(),
        value: string("Ada"),
    };
    assert!(store.try_lowest_node(&ada, None, 0).is_none());
    assert_eq!(store.lowest_node(&ada, None).unwrap(), Some(2));
}
