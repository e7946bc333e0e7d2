//! The walks over gRPC, against the service running in this process: ListNeighbors with
//! paging, FindShortestPath by hops and by weight, and GetSchema, on the demo organisation
//! (`grpc_api.rs` has the nodes and relationships).

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
async fn neighbors_in_the_demo_organisation() {
    let tmp = tempfile::tempdir().unwrap();
    let service = Service::start(tmp.path(), &["--seed-demo"]).await;
    let mut c = service.client.clone();

    direct_reports(&mut c).await;
    let everyone_below = pb::ListNeighborsRequest {
        max_depth: 3,
        ..neighbors_request("Grace Hopper", pb::Direction::Outgoing, &["MANAGES"])
    };
    let all = depth_window(&mut c, &everyone_below).await;
    paging(&mut c, &everyone_below, &all).await;
    page_tokens_fit_their_request(&mut c, &everyone_below).await;
    limit_stops_the_listing(&mut c, &everyone_below).await;
    incoming_managers(&mut c).await;
    both_directions_every_type(&mut c).await;
    invalid_neighbor_requests(&mut c).await;
    service.stop().await;
}

/// Grace's direct reports along MANAGES: names, depth 1, the relationship walked, one page.
async fn direct_reports(c: &mut Client) {
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
}

/// max_depth 3 reaches all six below Grace, min_depth 2 only the second level; returns all.
async fn depth_window(
    c: &mut Client,
    everyone_below: &pb::ListNeighborsRequest,
) -> pb::ListNeighborsResponse {
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
    all
}

/// Paging: pages of 4 then 2, the same list as one page.
async fn paging(
    c: &mut Client,
    everyone_below: &pb::ListNeighborsRequest,
    all: &pb::ListNeighborsResponse,
) {
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
    assert_eq!((pages, paged), (2, names(all)));
}

/// A token only fits the request it came from; a forged one is INVALID_ARGUMENT.
async fn page_tokens_fit_their_request(c: &mut Client, everyone_below: &pb::ListNeighborsRequest) {
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
}

/// A limit stops the listing; the last page says so.
async fn limit_stops_the_listing(c: &mut Client, everyone_below: &pb::ListNeighborsRequest) {
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
}

/// Incoming: who manages Ken, and above.
async fn incoming_managers(c: &mut Client) {
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
}

/// Both directions and every type: Platform's members, leader and services.
async fn both_directions_every_type(c: &mut Client) {
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
}

/// Bad depths, limit, page size, direction or type: INVALID_ARGUMENT; node 999: NOT_FOUND.
async fn invalid_neighbor_requests(c: &mut Client) {
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
}

#[tokio::test]
async fn shortest_paths_by_hops_and_by_weight() {
    let tmp = tempfile::tempdir().unwrap();
    let service = Service::start(tmp.path(), &["--seed-demo"]).await;
    let mut c = service.client.clone();

    path_by_hops(&mut c).await;
    no_path(&mut c).await;
    zero_length_path(&mut c).await;
    let (a, b) = cheapest_by_weight(&mut c).await;
    missing_weights(&mut c, a, b).await;
    negative_weight(&mut c, a, b).await;
    invalid_path_requests(&mut c, a, b).await;
    service.stop().await;
}

/// Ken → Alan → Grace → Barbara → Linus, against and along MANAGES: 4 hops, weight 4.
async fn path_by_hops(c: &mut Client) {
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
}

/// NOT_FOUND when outgoing only (Linus cannot reach Ken) and within too few hops.
async fn no_path(c: &mut Client) {
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
}

/// Source = target is a zero-length path.
async fn zero_length_path(c: &mut Client) {
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
}

/// The weighted request from `a` to `b` along outgoing relationships, weighed by `km`.
fn weighted(a: u64, b: u64, max_depth: i32) -> pb::FindShortestPathRequest {
    pb::FindShortestPathRequest {
        source_node_id: a,
        target_node_id: b,
        direction: pb::Direction::Outgoing as i32,
        weight_property: Some("km".into()),
        max_depth,
        ..Default::default()
    }
}

/// By weight, two cheap hops beat one dear hop unless hops are capped; returns the ends (a, b).
async fn cheapest_by_weight(c: &mut Client) -> (u64, u64) {
    let a = node(c, &["W"], &[]).await;
    let b = node(c, &["W"], &[]).await;
    let m = node(c, &["W"], &[]).await;
    rel(c, a, "ROAD", b, &[("km", float(10.0))]).await;
    rel(c, a, "ROAD", m, &[("km", int(3))]).await;
    rel(c, m, "ROAD", b, &[("km", float(2.5))]).await;
    let cheap = c
        .find_shortest_path(weighted(a, b, 0))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((cheap.hop_count, cheap.total_weight), (2, 5.5));
    let capped = c
        .find_shortest_path(weighted(a, b, 1))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((capped.hop_count, capped.total_weight), (1, 10.0));
    (a, b)
}

/// Relationships without the property: skipped, or weighed by default_weight.
async fn missing_weights(c: &mut Client, a: u64, b: u64) {
    let x = node(c, &["W"], &[]).await;
    rel(c, a, "ROAD", x, &[]).await;
    rel(c, x, "ROAD", b, &[]).await;
    let defaulted = c
        .find_shortest_path(pb::FindShortestPathRequest {
            default_weight: Some(1.0),
            ..weighted(a, b, 0)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((defaulted.hop_count, defaulted.total_weight), (2, 2.0));
}

/// A negative weight met on the way is FAILED_PRECONDITION.
async fn negative_weight(c: &mut Client, a: u64, b: u64) {
    rel(c, a, "ROAD", b, &[("km", int(-1))]).await;
    assert_code(
        c.find_shortest_path(weighted(a, b, 0)).await,
        Code::FailedPrecondition,
    );
}

/// Bad ids, depths, weight property or default weight: INVALID_ARGUMENT; node 999: NOT_FOUND.
async fn invalid_path_requests(c: &mut Client, a: u64, b: u64) {
    for bad in [
        pb::FindShortestPathRequest {
            source_node_id: 0,
            ..weighted(a, b, 0)
        },
        pb::FindShortestPathRequest {
            target_node_id: 0,
            ..weighted(a, b, 0)
        },
        pb::FindShortestPathRequest {
            ..weighted(a, b, 101)
        },
        pb::FindShortestPathRequest {
            ..weighted(a, b, -1)
        },
        pb::FindShortestPathRequest {
            weight_property: Some(String::new()),
            ..weighted(a, b, 0)
        },
        pb::FindShortestPathRequest {
            default_weight: Some(-2.0),
            ..weighted(a, b, 0)
        },
        pb::FindShortestPathRequest {
            default_weight: Some(f64::INFINITY),
            ..weighted(a, b, 0)
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
