//! The non-Cypher RPCs over gRPC, against the service running in this process: nodes and
//! relationships (create, get, update, delete), ListNeighbors with paging, FindShortestPath by
//! hops and by weight, GetSchema, the demo organisation and every error case of the contract.

mod common;

use chatmesh_proto::graph as pb;
use common::*;
use tonic::Code;

/// Node ids of the demo organisation, in the order `seed.rs` creates them.
fn demo_id(name: &str) -> u64 {
    let order = [
        "Ada Lovelace",
        "Grace Hopper",
        "Alan Turing",
        "Barbara Liskov",
        "Edsger Dijkstra",
        "Ken Thompson",
        "Margaret Hamilton",
        "Linus Torvalds",
        "Platform",
        "auth-service",
        "gateway",
        "Search",
        "search-api",
        "indexer",
        "Payments",
        "billing",
        "checkout",
    ];
    order.iter().position(|n| *n == name).expect("demo name") as u64 + 1
}

fn neighbors_request(
    node: &str,
    direction: pb::Direction,
    types: &[&str],
) -> pb::ListNeighborsRequest {
    pb::ListNeighborsRequest {
        node_id: demo_id(node),
        direction: direction as i32,
        relationship_types: types.iter().map(|t| t.to_string()).collect(),
        ..Default::default()
    }
}

fn names(response: &pb::ListNeighborsResponse) -> Vec<(String, i32)> {
    response
        .neighbors
        .iter()
        .map(|n| (name_of(n.node.as_ref().unwrap()), n.depth))
        .collect()
}

#[tokio::test]
async fn node_create_get_update_delete() {
    let tmp = tempfile::tempdir().unwrap();
    let service = Service::start(tmp.path(), &[]).await;
    let mut c = service.client.clone();

    let created = c
        .create_node(pb::CreateNodeRequest {
            labels: vec!["Person".into(), "Admin".into(), "Person".into()],
            properties: props(&[("name", text("Ada")), ("age", int(36)), ("gone", null())]),
        })
        .await
        .unwrap()
        .into_inner()
        .node
        .unwrap();
    assert_eq!(created.id, 1);
    assert_eq!(created.labels, vec!["Admin", "Person"]);
    assert_eq!(
        created.properties,
        props(&[("name", text("Ada")), ("age", int(36))])
    );

    let got = c
        .get_node(pb::GetNodeRequest { id: 1 })
        .await
        .unwrap()
        .into_inner()
        .node
        .unwrap();
    assert_eq!(got, created);

    let updated = c
        .update_node(pb::UpdateNodeRequest {
            id: 1,
            set_properties: props(&[("age", int(37)), ("name", null()), ("score", float(1.5))]),
            remove_property_keys: vec!["absent".into()],
            add_labels: vec!["Engineer".into()],
            remove_labels: vec!["Admin".into()],
        })
        .await
        .unwrap()
        .into_inner()
        .node
        .unwrap();
    assert_eq!(updated.labels, vec!["Engineer", "Person"]);
    assert_eq!(
        updated.properties,
        props(&[("age", int(37)), ("score", float(1.5))])
    );

    // An empty update is a valid no-op.
    let same = c
        .update_node(pb::UpdateNodeRequest {
            id: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .node
        .unwrap();
    assert_eq!(same, updated);

    let deleted = c
        .delete_node(pb::DeleteNodeRequest { id: 1 })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(deleted.deleted_relationship_count, 0);
    assert_code(
        c.get_node(pb::GetNodeRequest { id: 1 }).await,
        Code::NotFound,
    );
    // Deleted ids are never reused.
    assert_eq!(node(&mut c, &[], &[]).await, 2);
    service.stop().await;
}

#[tokio::test]
async fn node_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let service = Service::start(tmp.path(), &[]).await;
    let mut c = service.client.clone();
    let id = node(&mut c, &["A"], &[("k", int(1))]).await;

    let msg = assert_code(
        c.get_node(pb::GetNodeRequest { id: 0 }).await,
        Code::InvalidArgument,
    );
    assert!(msg.contains("id"), "{msg}");
    let msg = assert_code(
        c.get_node(pb::GetNodeRequest { id: 99 }).await,
        Code::NotFound,
    );
    assert!(msg.contains("99"), "{msg}");
    assert_code(
        c.delete_node(pb::DeleteNodeRequest { id: 0 }).await,
        Code::InvalidArgument,
    );
    assert_code(
        c.delete_node(pb::DeleteNodeRequest { id: 99 }).await,
        Code::NotFound,
    );

    let bad_creates = [
        pb::CreateNodeRequest {
            labels: vec![String::new()],
            ..Default::default()
        },
        pb::CreateNodeRequest {
            labels: vec!["a\u{7}b".into()],
            ..Default::default()
        },
        pb::CreateNodeRequest {
            labels: (0..33).map(|i| format!("L{i}")).collect(),
            ..Default::default()
        },
        pb::CreateNodeRequest {
            properties: props(&[("x", float(f64::NAN))]),
            ..Default::default()
        },
        pb::CreateNodeRequest {
            properties: props(&[(
                "x",
                pb::Value {
                    kind: Some(pb::value::Kind::NodeValue(pb::Node::default())),
                },
            )]),
            ..Default::default()
        },
        pb::CreateNodeRequest {
            properties: props(&[("", int(1))]),
            ..Default::default()
        },
    ];
    for request in bad_creates {
        assert_code(c.create_node(request.clone()).await, Code::InvalidArgument);
    }

    let conflicts = [
        pb::UpdateNodeRequest {
            id,
            set_properties: props(&[("k", int(2))]),
            remove_property_keys: vec!["k".into()],
            ..Default::default()
        },
        pb::UpdateNodeRequest {
            id,
            add_labels: vec!["B".into()],
            remove_labels: vec!["B".into()],
            ..Default::default()
        },
        pb::UpdateNodeRequest {
            id,
            add_labels: (0..32).map(|i| format!("L{i}")).collect(),
            set_properties: props(&[("k", int(2))]),
            ..Default::default()
        },
    ];
    for request in conflicts {
        assert_code(c.update_node(request).await, Code::InvalidArgument);
    }
    // The refused update with too many labels changed nothing (it also set k).
    let unchanged = c
        .get_node(pb::GetNodeRequest { id })
        .await
        .unwrap()
        .into_inner()
        .node
        .unwrap();
    assert_eq!(unchanged.labels, vec!["A"]);
    assert_eq!(unchanged.properties, props(&[("k", int(1))]));
    assert_code(
        c.update_node(pb::UpdateNodeRequest {
            id: 99,
            ..Default::default()
        })
        .await,
        Code::NotFound,
    );
    assert_code(
        c.update_node(pb::UpdateNodeRequest::default()).await,
        Code::InvalidArgument,
    );
    service.stop().await;
}

/// Property values are Neo4j's: scalars and lists of non-null scalars. Maps, lists of maps,
/// lists inside lists and nulls inside lists are INVALID_ARGUMENT naming the property, on every
/// RPC that writes properties, and nothing is written.
#[tokio::test]
async fn maps_and_nested_lists_are_not_property_values() {
    let tmp = tempfile::tempdir().unwrap();
    let service = Service::start(tmp.path(), &[]).await;
    let mut c = service.client.clone();
    let a = node(&mut c, &["A"], &[("k", int(1))]).await;
    let b = node(&mut c, &["B"], &[]).await;

    let list = |values: Vec<pb::Value>| pb::Value {
        kind: Some(pb::value::Kind::ListValue(pb::ValueList { values })),
    };
    let map = || pb::Value {
        kind: Some(pb::value::Kind::MapValue(pb::ValueMap {
            entries: props(&[("num", int(1))]),
        })),
    };
    let refused = [
        map(),
        list(vec![map()]),
        list(vec![list(vec![int(1)])]),
        list(vec![int(1), null()]),
    ];
    for value in refused {
        let msg = assert_code(
            c.create_node(pb::CreateNodeRequest {
                labels: vec!["A".into()],
                properties: props(&[("maplist", value.clone())]),
            })
            .await,
            Code::InvalidArgument,
        );
        assert!(msg.contains("maplist"), "{msg}");
        let msg = assert_code(
            c.update_node(pb::UpdateNodeRequest {
                id: a,
                set_properties: props(&[("maplist", value.clone())]),
                ..Default::default()
            })
            .await,
            Code::InvalidArgument,
        );
        assert!(msg.contains("maplist"), "{msg}");
        let msg = assert_code(
            c.create_relationship(pb::CreateRelationshipRequest {
                start_node_id: a,
                end_node_id: b,
                r#type: "R".into(),
                properties: props(&[("maplist", value)]),
            })
            .await,
            Code::InvalidArgument,
        );
        assert!(msg.contains("maplist"), "{msg}");
    }
    let schema = c
        .get_schema(pb::GetSchemaRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!((schema.node_count, schema.relationship_count), (2, 0));
    let unchanged = c
        .get_node(pb::GetNodeRequest { id: a })
        .await
        .unwrap()
        .into_inner()
        .node
        .unwrap();
    assert_eq!(unchanged.properties, props(&[("k", int(1))]));

    // A list of scalars of mixed kinds is a property value.
    let mixed = list(vec![int(1), text("two"), float(3.5)]);
    let created = c
        .create_node(pb::CreateNodeRequest {
            labels: vec![],
            properties: props(&[("mixed", mixed.clone()), ("empty", list(vec![]))]),
        })
        .await
        .unwrap()
        .into_inner()
        .node
        .unwrap();
    assert_eq!(created.properties["mixed"], mixed);
    assert_eq!(created.properties["empty"], list(vec![]));
    service.stop().await;
}

#[tokio::test]
async fn relationships_and_detaching_delete() {
    let tmp = tempfile::tempdir().unwrap();
    let service = Service::start(tmp.path(), &[]).await;
    let mut c = service.client.clone();
    let a = node(&mut c, &["A"], &[]).await;
    let b = node(&mut c, &["B"], &[]).await;

    let r = c
        .create_relationship(pb::CreateRelationshipRequest {
            start_node_id: a,
            end_node_id: b,
            r#type: "KNOWS".into(),
            properties: props(&[("since", int(1843)), ("none", null())]),
        })
        .await
        .unwrap()
        .into_inner()
        .relationship
        .unwrap();
    assert_eq!((r.id, r.start_node_id, r.end_node_id), (1, a, b));
    assert_eq!(r.r#type, "KNOWS");
    assert_eq!(r.properties, props(&[("since", int(1843))]));
    let got = c
        .get_relationship(pb::GetRelationshipRequest { id: r.id })
        .await
        .unwrap()
        .into_inner()
        .relationship
        .unwrap();
    assert_eq!(got, r);

    let missing_start = pb::CreateRelationshipRequest {
        start_node_id: 99,
        end_node_id: b,
        r#type: "KNOWS".into(),
        ..Default::default()
    };
    let msg = assert_code(c.create_relationship(missing_start).await, Code::NotFound);
    assert!(msg.contains("start node 99"), "{msg}");
    let missing_end = pb::CreateRelationshipRequest {
        start_node_id: a,
        end_node_id: 98,
        r#type: "KNOWS".into(),
        ..Default::default()
    };
    let msg = assert_code(c.create_relationship(missing_end).await, Code::NotFound);
    assert!(msg.contains("end node 98"), "{msg}");
    for bad in [
        pb::CreateRelationshipRequest {
            start_node_id: a,
            end_node_id: b,
            ..Default::default()
        },
        pb::CreateRelationshipRequest {
            start_node_id: 0,
            end_node_id: b,
            r#type: "T".into(),
            ..Default::default()
        },
    ] {
        assert_code(c.create_relationship(bad).await, Code::InvalidArgument);
    }
    assert_code(
        c.get_relationship(pb::GetRelationshipRequest { id: 0 })
            .await,
        Code::InvalidArgument,
    );
    assert_code(
        c.get_relationship(pb::GetRelationshipRequest { id: 42 })
            .await,
        Code::NotFound,
    );

    let r2 = rel(&mut c, b, "KNOWS", a, &[]).await;
    c.delete_relationship(pb::DeleteRelationshipRequest { id: r2 })
        .await
        .unwrap();
    assert_code(
        c.delete_relationship(pb::DeleteRelationshipRequest { id: r2 })
            .await,
        Code::NotFound,
    );
    assert!(c.get_node(pb::GetNodeRequest { id: b }).await.is_ok());

    // DeleteNode detaches: a's KNOWS and its self-loop (counted once) go with it.
    rel(&mut c, a, "SELF", a, &[]).await;
    let deleted = c
        .delete_node(pb::DeleteNodeRequest { id: a })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(deleted.deleted_relationship_count, 2);
    assert_code(
        c.get_relationship(pb::GetRelationshipRequest { id: r.id })
            .await,
        Code::NotFound,
    );
    let schema = c
        .get_schema(pb::GetSchemaRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!((schema.node_count, schema.relationship_count), (1, 0));
    service.stop().await;
}

#[tokio::test]
async fn neighbors_in_the_demo_organisation() {
    let tmp = tempfile::tempdir().unwrap();
    let service = Service::start(tmp.path(), &["--seed-demo"]).await;
    let mut c = service.client.clone();

    let reports = c
        .list_neighbors(neighbors_request(
            "Grace Hopper",
            pb::Direction::Outgoing,
            &["MANAGES"],
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        names(&reports),
        vec![
            ("Alan Turing".into(), 1),
            ("Barbara Liskov".into(), 1),
            ("Edsger Dijkstra".into(), 1)
        ]
    );
    let first = &reports.neighbors[0];
    let via = first.relationship.as_ref().unwrap();
    assert_eq!(
        (via.r#type.as_str(), via.start_node_id),
        ("MANAGES", demo_id("Grace Hopper"))
    );
    assert!(reports.next_page_token.is_empty() && !reports.limit_reached);

    let everyone_below = pb::ListNeighborsRequest {
        max_depth: 3,
        ..neighbors_request("Grace Hopper", pb::Direction::Outgoing, &["MANAGES"])
    };
    let all = c
        .list_neighbors(everyone_below.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.neighbors.len(), 6);
    let only_deep = pb::ListNeighborsRequest {
        min_depth: 2,
        ..everyone_below.clone()
    };
    let deep = c.list_neighbors(only_deep).await.unwrap().into_inner();
    assert_eq!(
        names(&deep),
        vec![
            ("Ken Thompson".into(), 2),
            ("Margaret Hamilton".into(), 2),
            ("Linus Torvalds".into(), 2)
        ]
    );

    // Paging: pages of 4 then 2, the same list as one page.
    let mut paged = Vec::new();
    let mut request = pb::ListNeighborsRequest {
        page_size: 4,
        ..everyone_below.clone()
    };
    let mut pages = 0;
    loop {
        let page = c
            .list_neighbors(request.clone())
            .await
            .unwrap()
            .into_inner();
        pages += 1;
        paged.extend(names(&page));
        if page.next_page_token.is_empty() {
            break;
        }
        request.page_token = page.next_page_token;
    }
    assert_eq!((pages, paged), (2, names(&all)));

    // A token only fits the request it came from.
    let first_page = c
        .list_neighbors(pb::ListNeighborsRequest {
            page_size: 4,
            ..everyone_below.clone()
        })
        .await
        .unwrap()
        .into_inner();
    let other = pb::ListNeighborsRequest {
        page_size: 4,
        max_depth: 2,
        page_token: first_page.next_page_token,
        ..everyone_below.clone()
    };
    assert_code(c.list_neighbors(other).await, Code::InvalidArgument);
    let forged = pb::ListNeighborsRequest {
        page_token: "forged".into(),
        ..everyone_below.clone()
    };
    assert_code(c.list_neighbors(forged).await, Code::InvalidArgument);

    // A limit stops the listing; the last page says so.
    let limited = c
        .list_neighbors(pb::ListNeighborsRequest {
            limit: 4,
            ..everyone_below.clone()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(limited.neighbors.len(), 4);
    assert!(limited.limit_reached && limited.next_page_token.is_empty());

    // Incoming: who manages Ken, and above.
    let managers = c
        .list_neighbors(pb::ListNeighborsRequest {
            max_depth: 10,
            ..neighbors_request("Ken Thompson", pb::Direction::Incoming, &["MANAGES"])
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        names(&managers),
        vec![
            ("Alan Turing".into(), 1),
            ("Grace Hopper".into(), 2),
            ("Ada Lovelace".into(), 3)
        ]
    );

    // Both directions and every type: Platform's members, leader and services.
    let platform = c
        .list_neighbors(neighbors_request(
            "Platform",
            pb::Direction::Unspecified,
            &[],
        ))
        .await
        .unwrap()
        .into_inner();
    let mut found: Vec<String> = names(&platform).into_iter().map(|(n, _)| n).collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            "Alan Turing",
            "Ken Thompson",
            "Margaret Hamilton",
            "auth-service",
            "gateway"
        ]
    );

    for bad in [
        pb::ListNeighborsRequest {
            min_depth: 3,
            max_depth: 2,
            ..neighbors_request("Ada Lovelace", pb::Direction::Both, &[])
        },
        pb::ListNeighborsRequest {
            max_depth: 11,
            ..neighbors_request("Ada Lovelace", pb::Direction::Both, &[])
        },
        pb::ListNeighborsRequest {
            min_depth: -1,
            ..neighbors_request("Ada Lovelace", pb::Direction::Both, &[])
        },
        pb::ListNeighborsRequest {
            limit: -1,
            ..neighbors_request("Ada Lovelace", pb::Direction::Both, &[])
        },
        pb::ListNeighborsRequest {
            page_size: -1,
            ..neighbors_request("Ada Lovelace", pb::Direction::Both, &[])
        },
        pb::ListNeighborsRequest {
            direction: 9,
            ..neighbors_request("Ada Lovelace", pb::Direction::Both, &[])
        },
        pb::ListNeighborsRequest {
            relationship_types: vec![String::new()],
            ..neighbors_request("Ada Lovelace", pb::Direction::Both, &[])
        },
        pb::ListNeighborsRequest::default(),
    ] {
        assert_code(c.list_neighbors(bad).await, Code::InvalidArgument);
    }
    assert_code(
        c.list_neighbors(pb::ListNeighborsRequest {
            node_id: 999,
            ..Default::default()
        })
        .await,
        Code::NotFound,
    );
    service.stop().await;
}

#[tokio::test]
async fn shortest_paths_by_hops_and_by_weight() {
    let tmp = tempfile::tempdir().unwrap();
    let service = Service::start(tmp.path(), &["--seed-demo"]).await;
    let mut c = service.client.clone();

    // Ken → Alan → Grace → Barbara → Linus, against and along MANAGES.
    let found = c
        .find_shortest_path(pb::FindShortestPathRequest {
            source_node_id: demo_id("Ken Thompson"),
            target_node_id: demo_id("Linus Torvalds"),
            relationship_types: vec!["MANAGES".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let path = found.path.unwrap();
    let walk: Vec<String> = path.nodes.iter().map(name_of).collect();
    assert_eq!(
        walk,
        vec![
            "Ken Thompson",
            "Alan Turing",
            "Grace Hopper",
            "Barbara Liskov",
            "Linus Torvalds"
        ]
    );
    assert_eq!((found.hop_count, found.total_weight), (4, 4.0));
    assert_eq!(path.relationships.len(), 4);

    // Outgoing only: Linus cannot reach Ken.
    assert_code(
        c.find_shortest_path(pb::FindShortestPathRequest {
            source_node_id: demo_id("Linus Torvalds"),
            target_node_id: demo_id("Ken Thompson"),
            direction: pb::Direction::Outgoing as i32,
            ..Default::default()
        })
        .await,
        Code::NotFound,
    );
    // Within too few hops there is no path.
    assert_code(
        c.find_shortest_path(pb::FindShortestPathRequest {
            source_node_id: demo_id("Ken Thompson"),
            target_node_id: demo_id("Linus Torvalds"),
            relationship_types: vec!["MANAGES".into()],
            max_depth: 3,
            ..Default::default()
        })
        .await,
        Code::NotFound,
    );
    // Source = target is a zero-length path.
    let zero = c
        .find_shortest_path(pb::FindShortestPathRequest {
            source_node_id: 1,
            target_node_id: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((zero.hop_count, zero.path.unwrap().nodes.len()), (0, 1));

    // Weighted: a direct expensive hop loses to two cheap ones, unless hops are capped.
    let a = node(&mut c, &["W"], &[]).await;
    let b = node(&mut c, &["W"], &[]).await;
    let m = node(&mut c, &["W"], &[]).await;
    rel(&mut c, a, "ROAD", b, &[("km", float(10.0))]).await;
    rel(&mut c, a, "ROAD", m, &[("km", int(3))]).await;
    rel(&mut c, m, "ROAD", b, &[("km", float(2.5))]).await;
    let weighted = |max_depth: i32| pb::FindShortestPathRequest {
        source_node_id: a,
        target_node_id: b,
        direction: pb::Direction::Outgoing as i32,
        weight_property: Some("km".into()),
        max_depth,
        ..Default::default()
    };
    let cheap = c
        .find_shortest_path(weighted(0))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((cheap.hop_count, cheap.total_weight), (2, 5.5));
    let capped = c
        .find_shortest_path(weighted(1))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((capped.hop_count, capped.total_weight), (1, 10.0));

    // Relationships without the property: skipped, or weighed by default_weight.
    let x = node(&mut c, &["W"], &[]).await;
    rel(&mut c, a, "ROAD", x, &[]).await;
    rel(&mut c, x, "ROAD", b, &[]).await;
    let defaulted = c
        .find_shortest_path(pb::FindShortestPathRequest {
            default_weight: Some(1.0),
            ..weighted(0)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((defaulted.hop_count, defaulted.total_weight), (2, 2.0));

    // A negative weight met on the way is FAILED_PRECONDITION.
    rel(&mut c, a, "ROAD", b, &[("km", int(-1))]).await;
    assert_code(
        c.find_shortest_path(weighted(0)).await,
        Code::FailedPrecondition,
    );

    for bad in [
        pb::FindShortestPathRequest {
            source_node_id: 0,
            ..weighted(0)
        },
        pb::FindShortestPathRequest {
            target_node_id: 0,
            ..weighted(0)
        },
        pb::FindShortestPathRequest { ..weighted(101) },
        pb::FindShortestPathRequest { ..weighted(-1) },
        pb::FindShortestPathRequest {
            weight_property: Some(String::new()),
            ..weighted(0)
        },
        pb::FindShortestPathRequest {
            default_weight: Some(-2.0),
            ..weighted(0)
        },
        pb::FindShortestPathRequest {
            default_weight: Some(f64::INFINITY),
            ..weighted(0)
        },
    ] {
        assert_code(c.find_shortest_path(bad).await, Code::InvalidArgument);
    }
    assert_code(
        c.find_shortest_path(pb::FindShortestPathRequest {
            source_node_id: 999,
            target_node_id: 1,
            ..Default::default()
        })
        .await,
        Code::NotFound,
    );
    service.stop().await;
}

#[tokio::test]
async fn schema_of_the_demo_and_of_an_empty_graph() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = Service::start(&tmp.path().join("empty"), &[]).await;
    let schema = empty
        .client
        .clone()
        .get_schema(pb::GetSchemaRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(schema, pb::GetSchemaResponse::default());
    empty.stop().await;

    let service = Service::start(&tmp.path().join("demo"), &["--seed-demo"]).await;
    let schema = service
        .client
        .clone()
        .get_schema(pb::GetSchemaRequest {})
        .await
        .unwrap()
        .into_inner();
    let labels: Vec<(&str, i64)> = schema
        .labels
        .iter()
        .map(|l| (l.label.as_str(), l.node_count))
        .collect();
    assert_eq!(labels, vec![("Person", 8), ("Service", 6), ("Team", 3)]);
    let types: Vec<(&str, i64)> = schema
        .relationship_types
        .iter()
        .map(|t| (t.r#type.as_str(), t.relationship_count))
        .collect();
    assert_eq!(
        types,
        vec![("LEADS", 3), ("MANAGES", 7), ("MEMBER_OF", 6), ("OWNS", 6)]
    );
    let keys: Vec<(&str, i64, i64)> = schema
        .property_keys
        .iter()
        .map(|k| (k.key.as_str(), k.node_count, k.relationship_count))
        .collect();
    assert_eq!(keys, vec![("name", 17, 0), ("title", 8, 0)]);
    assert_eq!((schema.node_count, schema.relationship_count), (17, 22));
    service.stop().await;

    // Seeding again does not double the organisation; restarts keep it.
    let again = Service::start(&tmp.path().join("demo"), &["--seed-demo"]).await;
    let schema = again
        .client
        .clone()
        .get_schema(pb::GetSchemaRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!((schema.node_count, schema.relationship_count), (17, 22));
    again.stop().await;
}
