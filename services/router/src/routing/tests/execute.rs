//! Plans executed against fake backends: each kind of call reaches its backend and comes back
//! typed; a backend's error comes back unchanged.

use chatmesh_proto::graph::Direction;
use chatmesh_proto::router::{RouteHints, Target, route_response};

use super::classifier;
use crate::backends::CallContext;
use crate::backends::fake::Fake;
use crate::routing::execute;

async fn route(
    fake: &Fake,
    query: &str,
    hints: Option<RouteHints>,
) -> Result<chatmesh_proto::router::RouteResponse, tonic::Status> {
    let plan = classifier().decide(query, hints.as_ref(), "").unwrap();
    execute(&fake.backends(), &CallContext::default(), plan).await
}

#[tokio::test]
async fn plans_run_against_the_backends() {
    let fake = Fake::default();
    let response = route(&fake, "status of order 100001", None).await.unwrap();
    assert_eq!(response.target, Target::Relational as i32);
    match response.result {
        Some(route_response::Result::RelationalOrder(r)) => {
            assert_eq!(r.order.unwrap().id, 100_001)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(response.attempts, 1);

    let response = route(&fake, "who manages Grace Hopper?", None)
        .await
        .unwrap();
    match response.result {
        Some(route_response::Result::GraphNeighbors(r)) => assert!(!r.neighbors.is_empty()),
        other => panic!("{other:?}"),
    }
    let calls = fake.calls();
    let neighbors = calls
        .iter()
        .find(|(m, _)| *m == "graph.list_neighbors")
        .unwrap();
    assert!(neighbors.1.contains("Grace Hopper"), "{neighbors:?}");
    assert!(
        !calls.iter().any(|(m, _)| *m == "graph.query"),
        "one call finds the person and walks: {calls:?}"
    );
    assert!(
        neighbors
            .1
            .contains(&format!("direction: {:?}", Direction::Incoming)),
        "{neighbors:?}"
    );

    let response = route(&fake, "how do I reset my password", None)
        .await
        .unwrap();
    match response.result {
        Some(route_response::Result::VectorSearch(r)) => {
            assert_eq!(
                r.hits[0].text.as_deref(),
                Some("how do I reset my password")
            )
        }
        other => panic!("{other:?}"),
    }
    let response = route(&fake, "orders of customer bob", None).await.unwrap();
    match response.result {
        Some(route_response::Result::RelationalOrders(r)) => {
            assert!(r.orders.iter().all(|o| o.customer == "bob"))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn backend_errors_come_back_unchanged() {
    let fake = Fake::default();
    let err = route(&fake, "status of order 5", None).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);
    assert!(err.message().contains("order 5"), "{err:?}");
    let err = route(&fake, "who manages Nobody Known", None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);
    assert!(err.message().contains("Nobody Known"), "{err:?}");
}
