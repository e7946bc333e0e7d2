//! The graph service's behaviour on both engines: one test body each, run on the embedded
//! engine always and on a Bolt server (ArcadeDB in CI) when `--include-ignored` and
//! `CHATMESH_TEST_BOLT_URL` say so (see `common/engines.rs`). Over real sockets, through the
//! gRPC service. What only the embedded engine promises (sequential ids, ids never reused)
//! stays in `grpc_api.rs`; what only the Bolt engine does (an unreachable server, bad
//! credentials) is in `bolt.rs`.

mod common;

use chatmesh_proto::graph as pb;
use common::engines::{Engine, TestGraph};
use common::{assert_code, float, int, name_of, node, props, rel, text};
use tonic::Code;

both_engines!(
    crud,
    neighbors_with_paging,
    neighbors_of_a_node_found_by_property,
    shortest_paths,
    schema_counts,
    queries_in_both_access_modes,
    a_write_in_read_mode_never_commits,
    query_errors,
    ids_in_cypher_are_the_rpcs,
);

async fn crud(engine: Engine) {
    let graph = TestGraph::start(engine, &[]).await;
    let mut c = graph.client();
    let created = c
        .create_node(pb::CreateNodeRequest {
            labels: vec!["Person".into(), "Admin".into()],
            properties: props(&[("name", text("Ada")), ("age", int(36))]),
        })
        .await
        .unwrap()
        .into_inner()
        .node
        .unwrap();
    assert!(created.id > 0);
    assert_eq!(created.labels, ["Admin", "Person"]);
    let got = c
        .get_node(pb::GetNodeRequest { id: created.id })
        .await
        .unwrap();
    assert_eq!(got.into_inner().node.unwrap(), created);

    // A label change may give the node a new id (ArcadeDB): the answer says which.
    let updated = c
        .update_node(pb::UpdateNodeRequest {
            id: created.id,
            set_properties: props(&[("age", int(37)), ("score", float(1.5))]),
            remove_property_keys: vec!["name".into()],
            add_labels: vec!["Engineer".into()],
            remove_labels: vec!["Admin".into()],
        })
        .await
        .unwrap()
        .into_inner()
        .node
        .unwrap();
    assert_eq!(updated.labels, ["Engineer", "Person"]);
    assert_eq!(
        updated.properties,
        props(&[("age", int(37)), ("score", float(1.5))])
    );
    relationships_and_deletes(&mut c, updated).await;
}

/// The second half of [`crud`]: relationships, and deleting a node with one.
async fn relationships_and_deletes(c: &mut common::Client, updated: pb::Node) {
    let other = node(c, &["Person"], &[("name", text("Bob"))]).await;
    let knows = rel(c, updated.id, "KNOWS", other, &[("since", int(2020))]).await;
    let got = c
        .get_relationship(pb::GetRelationshipRequest { id: knows })
        .await
        .unwrap()
        .into_inner()
        .relationship
        .unwrap();
    assert_eq!((got.start_node_id, got.end_node_id), (updated.id, other));
    assert_eq!(
        (got.r#type.as_str(), got.properties),
        ("KNOWS", props(&[("since", int(2020))]))
    );

    let missing_end = c
        .create_relationship(pb::CreateRelationshipRequest {
            start_node_id: other,
            end_node_id: u64::MAX,
            r#type: "KNOWS".into(),
            ..Default::default()
        })
        .await;
    assert!(assert_code(missing_end, Code::NotFound).contains("end node"));

    let deleted = c
        .delete_node(pb::DeleteNodeRequest { id: updated.id })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(deleted.deleted_relationship_count, 1);
    assert_code(
        c.get_node(pb::GetNodeRequest { id: updated.id }).await,
        Code::NotFound,
    );
    assert_code(
        c.get_relationship(pb::GetRelationshipRequest { id: knows })
            .await,
        Code::NotFound,
    );
    assert_code(
        c.delete_relationship(pb::DeleteRelationshipRequest { id: knows })
            .await,
        Code::NotFound,
    );
    assert_code(
        c.get_node(pb::GetNodeRequest { id: 0 }).await,
        Code::InvalidArgument,
    );
}

/// A small organisation: boss manages a and b, a manages c and d, b manages e; c LIKES boss.
async fn organisation(c: &mut common::Client) -> [u64; 6] {
    let mut ids = [0; 6];
    for (i, name) in ["boss", "a", "b", "c", "d", "e"].iter().enumerate() {
        ids[i] = node(c, &["P"], &[("name", text(name))]).await;
    }
    for (from, to) in [(0, 1), (0, 2), (1, 3), (1, 4), (2, 5)] {
        rel(c, ids[from], "MANAGES", ids[to], &[]).await;
    }
    rel(c, ids[3], "LIKES", ids[0], &[]).await;
    ids
}

fn listing(response: &pb::ListNeighborsResponse) -> Vec<(i32, u64)> {
    response
        .neighbors
        .iter()
        .map(|n| (n.depth, n.node.as_ref().unwrap().id))
        .collect()
}

async fn neighbors_with_paging(engine: Engine) {
    let graph = TestGraph::start(engine, &[]).await;
    let mut c = graph.client();
    let ids = organisation(&mut c).await;
    let request = |page_token: String| pb::ListNeighborsRequest {
        node_id: ids[0],
        direction: pb::Direction::Outgoing as i32,
        relationship_types: vec!["MANAGES".into()],
        min_depth: 1,
        max_depth: 2,
        page_size: 2,
        page_token,
        ..Default::default()
    };
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let page = c.list_neighbors(request(token)).await.unwrap().into_inner();
        all.extend(listing(&page));
        for n in &page.neighbors {
            // The relationship is the one that reached the node, from the previous level.
            assert_eq!(
                n.relationship.as_ref().unwrap().end_node_id,
                n.node.as_ref().unwrap().id
            );
        }
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    let mut expected = vec![
        (1, ids[1]),
        (1, ids[2]),
        (2, ids[3]),
        (2, ids[4]),
        (2, ids[5]),
    ];
    expected.sort();
    assert_eq!(all, expected);

    // Both directions, all types: c reaches boss by LIKES at depth 1, and is listed once.
    let both = c
        .list_neighbors(pb::ListNeighborsRequest {
            node_id: ids[3],
            max_depth: 2,
            limit: 3,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut depth1 = [(1, ids[0]), (1, ids[1])];
    depth1.sort();
    assert_eq!(listing(&both)[..2], depth1[..]);
    assert_eq!(both.neighbors.len(), 3);
    assert!(both.limit_reached);
    let names: Vec<String> = both
        .neighbors
        .iter()
        .map(|n| name_of(n.node.as_ref().unwrap()))
        .collect();
    assert!(names.iter().all(|n| n != "c"), "{names:?}");
    assert_code(
        c.list_neighbors(pb::ListNeighborsRequest {
            node_id: u64::MAX,
            ..Default::default()
        })
        .await,
        Code::NotFound,
    );
}

/// ListNeighbors with `start`: the node found by label and property, the lowest id when several
/// match, NOT_FOUND when none does, and the request's mistakes refused before any lookup.
async fn neighbors_of_a_node_found_by_property(engine: Engine) {
    let graph = TestGraph::start(engine, &[]).await;
    let mut c = graph.client();
    let ids = organisation(&mut c).await;
    let by_name = |name: &str| pb::ListNeighborsRequest {
        start: Some(pb::NodeMatch {
            label: "P".into(),
            property: "name".into(),
            value: Some(text(name)),
        }),
        direction: pb::Direction::Outgoing as i32,
        relationship_types: vec!["MANAGES".into()],
        ..Default::default()
    };
    let a = c.list_neighbors(by_name("a")).await.unwrap().into_inner();
    assert_eq!(a.start_node_id, ids[1]);
    assert_eq!(listing(&a), [(1, ids[3]), (1, ids[4])]);
    let by_id = c
        .list_neighbors(pb::ListNeighborsRequest {
            node_id: ids[1],
            ..by_name("")
        })
        .await;
    assert!(assert_code(by_id, Code::InvalidArgument).contains("start"));
    let by_id = c
        .list_neighbors(pb::ListNeighborsRequest {
            node_id: ids[1],
            start: None,
            ..by_name("")
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (by_id.start_node_id, listing(&by_id)),
        (ids[1], listing(&a))
    );

    // Pages of a walk from a found node follow one another like any other.
    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .list_neighbors(pb::ListNeighborsRequest {
                page_size: 1,
                page_token: token,
                max_depth: 2,
                ..by_name("boss")
            })
            .await
            .unwrap()
            .into_inner();
        paged.extend(listing(&page));
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(paged.len(), 5, "{paged:?}");

    // Two nodes with one name: the lower id is the start.
    let twin = node(&mut c, &["P"], &[("name", text("a"))]).await;
    assert!(twin > ids[1]);
    let again = c.list_neighbors(by_name("a")).await.unwrap().into_inner();
    assert_eq!(again.start_node_id, ids[1]);

    let missing = c.list_neighbors(by_name("nobody")).await;
    assert!(assert_code(missing, Code::NotFound).contains("nobody"));
    refused_starts(&mut c).await;
}

/// Mistakes in `start` are INVALID_ARGUMENT naming the field, and change nothing.
async fn refused_starts(c: &mut common::Client) {
    for start in [
        pb::NodeMatch {
            label: "P`) DETACH DELETE (n".into(),
            property: "name".into(),
            value: Some(text("a")),
        },
        pb::NodeMatch {
            label: "P".into(),
            property: "".into(),
            value: Some(text("a")),
        },
        pb::NodeMatch {
            label: "P".into(),
            property: "name".into(),
            value: None,
        },
    ] {
        let refused = c
            .list_neighbors(pb::ListNeighborsRequest {
                start: Some(start.clone()),
                ..Default::default()
            })
            .await;
        assert!(
            assert_code(refused, Code::InvalidArgument).contains("start."),
            "{start:?}"
        );
    }
    assert_code(
        c.list_neighbors(pb::ListNeighborsRequest::default()).await,
        Code::InvalidArgument,
    );
    let count = c
        .execute_query(pb::ExecuteQueryRequest {
            cypher: "MATCH (n:P) RETURN count(n)".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(count.rows[0].values[0], int(7), "nothing was deleted");
}

fn path_request(source: u64, target: u64) -> pb::FindShortestPathRequest {
    pb::FindShortestPathRequest {
        source_node_id: source,
        target_node_id: target,
        direction: pb::Direction::Outgoing as i32,
        ..Default::default()
    }
}

async fn shortest_paths(engine: Engine) {
    let graph = TestGraph::start(engine, &[]).await;
    let mut c = graph.client();
    // s → a → t costs 10 + 10; s → b → d → t costs 1 + 1 + 1; s → t is absent.
    let [s, a, b, d, t, far] = {
        let mut ids = [0; 6];
        for (i, name) in ["s", "a", "b", "d", "t", "far"].iter().enumerate() {
            ids[i] = node(&mut c, &["W"], &[("name", text(name))]).await;
        }
        ids
    };
    for (from, to, w) in [
        (s, a, 10.0),
        (a, t, 10.0),
        (s, b, 1.0),
        (b, d, 1.0),
        (d, t, 1.0),
    ] {
        rel(&mut c, from, "ROAD", to, &[("km", float(w))]).await;
    }
    let hops = c
        .find_shortest_path(path_request(s, t))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((hops.hop_count, hops.total_weight), (2, 2.0));
    let nodes: Vec<u64> = hops
        .path
        .as_ref()
        .unwrap()
        .nodes
        .iter()
        .map(|n| n.id)
        .collect();
    assert_eq!(nodes, [s, a, t]);
    let rels = &hops.path.as_ref().unwrap().relationships;
    assert_eq!((rels[0].start_node_id, rels[1].end_node_id), (s, t));

    weighted_paths(&mut c, [s, b, d, t]).await;
    unreachable_paths(&mut c, [s, t, far]).await;
}

/// Dijkstra on the roads of [`shortest_paths`].
async fn weighted_paths(c: &mut common::Client, [s, b, d, t]: [u64; 4]) {
    let weighted = c
        .find_shortest_path(pb::FindShortestPathRequest {
            weight_property: Some("km".into()),
            ..path_request(s, t)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((weighted.hop_count, weighted.total_weight), (3, 3.0));
    let nodes: Vec<u64> = weighted.path.unwrap().nodes.iter().map(|n| n.id).collect();
    assert_eq!(nodes, [s, b, d, t]);
    // The hop limit never hides a cheaper path within it: at 2 hops the dear road wins.
    let limited = c
        .find_shortest_path(pb::FindShortestPathRequest {
            weight_property: Some("km".into()),
            max_depth: 2,
            ..path_request(s, t)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(limited.total_weight, 20.0);
}

/// No path, missing nodes, a path to itself, a negative weight.
async fn unreachable_paths(c: &mut common::Client, [s, t, far]: [u64; 3]) {
    assert_code(
        c.find_shortest_path(path_request(s, far)).await,
        Code::NotFound,
    );
    assert_code(
        c.find_shortest_path(path_request(t, s)).await,
        Code::NotFound,
    );
    assert_code(
        c.find_shortest_path(path_request(s, u64::MAX)).await,
        Code::NotFound,
    );
    let same = c
        .find_shortest_path(path_request(s, s))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(same.hop_count, 0);
    rel(c, s, "ROAD", far, &[("km", float(-1.0))]).await;
    let negative = c
        .find_shortest_path(pb::FindShortestPathRequest {
            weight_property: Some("km".into()),
            ..path_request(s, far)
        })
        .await;
    assert_code(negative, Code::FailedPrecondition);
}

async fn schema_counts(engine: Engine) {
    let graph = TestGraph::start(engine, &[]).await;
    let mut c = graph.client();
    let empty = c
        .get_schema(pb::GetSchemaRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!((empty.node_count, empty.relationship_count), (0, 0));
    organisation(&mut c).await;
    let schema = c
        .get_schema(pb::GetSchemaRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!((schema.node_count, schema.relationship_count), (6, 6));
    let labels: Vec<(&str, i64)> = schema
        .labels
        .iter()
        .map(|l| (l.label.as_str(), l.node_count))
        .collect();
    assert_eq!(labels, [("P", 6)]);
    let types: Vec<(&str, i64)> = schema
        .relationship_types
        .iter()
        .map(|t| (t.r#type.as_str(), t.relationship_count))
        .collect();
    assert_eq!(types, [("LIKES", 1), ("MANAGES", 5)]);
    let keys: Vec<(&str, i64, i64)> = schema
        .property_keys
        .iter()
        .map(|k| (k.key.as_str(), k.node_count, k.relationship_count))
        .collect();
    assert_eq!(keys, [("name", 6, 0)]);
}

async fn queries_in_both_access_modes(engine: Engine) {
    let graph = TestGraph::start(engine, &[]).await;
    let created = graph
        .write("CREATE (:Q {k: 1}), (:Q {k: 2}), (:Q {k: 3})")
        .await;
    assert!(created.rows.is_empty());
    let read = graph
        .execute(
            "MATCH (n:Q) RETURN n.k AS k, n.k * 10, n ORDER BY k",
            pb::AccessMode::Read,
        )
        .await
        .unwrap();
    assert_eq!(read.columns, ["k", "n.k * 10", "n"]);
    assert_eq!(read.rows.len(), 3);
    assert_eq!(read.rows[2].values[1], int(30));
    let mut c = graph.client();
    let limited = c
        .execute_query(pb::ExecuteQueryRequest {
            cypher: "MATCH (n:Q) RETURN n.k AS k ORDER BY k".into(),
            row_limit: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(limited.truncated);
    assert_eq!(limited.rows.len(), 2);
    let refused = graph
        .execute("MATCH (n:Q) SET n.k = 0", pb::AccessMode::Read)
        .await;
    let message = assert_code(refused, Code::InvalidArgument);
    assert!(message.contains("access_mode is READ"), "{message}");
    let parameters = props(&[("k", int(2))]);
    let with_params = c
        .execute_query(pb::ExecuteQueryRequest {
            cypher: "MATCH (n:Q) WHERE n.k = $k RETURN count(n) AS c".into(),
            parameters,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(with_params.rows[0].values[0], int(1));
    assert_eq!(
        graph
            .count("MATCH (n:Q) WHERE n.k = 0 RETURN count(n)")
            .await,
        0
    );
    let empty = graph
        .execute("MATCH (n:Nothing) RETURN n.k AS k, n", pb::AccessMode::Read)
        .await
        .unwrap();
    assert_eq!(
        (empty.columns, empty.rows.len()),
        (vec!["k".to_owned(), "n".to_owned()], 0)
    );
}

async fn a_write_in_read_mode_never_commits(engine: Engine) {
    let graph = TestGraph::start(engine, &[]).await;
    // Hidden from a keyword scan: our lexer cannot read `=~`, so the text goes to the engine
    // as it is (the embedded engine refuses it); whatever runs, nothing may stay.
    let sneaky = "CREATE (n:Sneaky {v: 'a' =~ 'a'}) RETURN n";
    let ran = graph.execute(sneaky, pb::AccessMode::Read).await;
    if engine == Engine::Bolt {
        // The engine ran the CREATE (and answered its row) in a transaction rolled back after.
        assert_eq!(ran.unwrap().rows.len(), 1);
    }
    let _ = graph
        .execute("CREATE (n:Sneaky) RETURN n", pb::AccessMode::Read)
        .await;
    assert_eq!(graph.count("MATCH (n:Sneaky) RETURN count(n)").await, 0);
}

async fn query_errors(engine: Engine) {
    let graph = TestGraph::start(engine, &[]).await;
    for bad in ["MATCH (n RETURN n", "MATCH (n) RETURN m", "RETURN $missing"] {
        let result = graph.execute(bad, pb::AccessMode::Read).await;
        assert!(
            !assert_code(result, Code::InvalidArgument).is_empty(),
            "{bad}"
        );
    }
    for mode in [pb::AccessMode::Read, pb::AccessMode::Write] {
        let csv = graph
            .execute("LOAD CSV FROM 'file:///etc/passwd' AS l RETURN l", mode)
            .await;
        assert!(assert_code(csv, Code::InvalidArgument).contains("LOAD CSV"));
    }
}

async fn ids_in_cypher_are_the_rpcs(engine: Engine) {
    let graph = TestGraph::start(engine, &[]).await;
    let mut c = graph.client();
    let id = node(&mut c, &["Ids"], &[]).await;
    let found = c
        .execute_query(pb::ExecuteQueryRequest {
            cypher: "MATCH (n) WHERE id(n) = $id RETURN id(n), n".into(),
            parameters: props(&[("id", int(id as i64))]),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.columns, ["id(n)", "n"]);
    assert_eq!(found.rows.len(), 1);
    assert_eq!(found.rows[0].values[0], int(id as i64));
    match &found.rows[0].values[1].kind {
        Some(pb::value::Kind::NodeValue(n)) => assert_eq!(n.id, id),
        other => panic!("not a node: {other:?}"),
    }
}
