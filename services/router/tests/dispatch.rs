//! The router over real sockets: routing to the real backend processes with demo data, and the
//! resilience contract: a killed backend fails fast with UNAVAILABLE while the others keep
//! answering, a restarted one gets traffic again without restarting the router, a slow one
//! gives DEADLINE_EXCEEDED at the caller's deadline and sees the cancellation, and load is
//! spread over replicas, with no failed call when one goes away.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use chatmesh_proto::graph::value;
use chatmesh_proto::router::router_service_client::RouterServiceClient;
use chatmesh_proto::router::{
    CircuitState, Decision, HealthStatus, ListBackendsRequest, RouteHints, RouteRequest,
    RouteResponse, Target, route_response,
};
use common::{BackendProcess, Behaviour, Router, TestBackend, free_port};
use tonic::transport::Channel;
use tonic::{Code, Status};

async fn route(
    client: &mut RouterServiceClient<Channel>,
    query: &str,
    hints: Option<RouteHints>,
    timeout: Duration,
) -> Result<RouteResponse, Status> {
    let mut request = tonic::Request::new(RouteRequest {
        query: query.into(),
        hints,
        session_id: "test".into(),
    });
    request.set_timeout(timeout);
    client.route(request).await.map(tonic::Response::into_inner)
}

const CALL: Duration = Duration::from_secs(10);

fn string_of(v: &chatmesh_proto::graph::Value) -> Option<&str> {
    match &v.kind {
        Some(value::Kind::StringValue(s)) => Some(s),
        _ => None,
    }
}

/// The three real backends with demo data, and a router in front of them.
async fn real_mesh(data: &std::path::Path) -> ([BackendProcess; 3], Router) {
    let graph = BackendProcess::start("graph", free_port("127.0.0.1"), data).await;
    let vector = BackendProcess::start("vector", free_port("127.0.0.1"), data).await;
    let relational = BackendProcess::start("relational", free_port("127.0.0.1"), data).await;
    let router = Router::start(&[
        "--graph-addr",
        &graph.addr,
        "--vector-addr",
        &vector.addr,
        "--relational-addr",
        &relational.addr,
        "--log",
        "warn",
    ])
    .await;
    ([graph, vector, relational], router)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_questions_to_the_real_backends() {
    let data = tempfile::tempdir().unwrap();
    let (_backends, router) = real_mesh(data.path()).await;
    let mut client = router.client().await;

    questions(&mut client).await;
    hints_and_refusals(&mut client).await;
    list_backends(&mut client).await;
}

/// Questions in plain words reach each backend.
async fn questions(client: &mut RouterServiceClient<Channel>) {
    let r = route(client, "who manages Grace Hopper?", None, CALL)
        .await
        .unwrap();
    assert_eq!(r.target, Target::Graph as i32);
    let explanation = r.explanation.clone().unwrap();
    assert_eq!(explanation.decision, Decision::Rule as i32);
    assert_eq!(explanation.rule, "manager_of_person");
    let Some(route_response::Result::GraphNeighbors(n)) = r.result else {
        panic!("{r:?}")
    };
    let names: Vec<&str> = n
        .neighbors
        .iter()
        .filter_map(|nb| nb.node.as_ref()?.properties.get("name").and_then(string_of))
        .collect();
    assert_eq!(names, ["Ada Lovelace"]);
    assert!(
        r.backend_address.starts_with("http://127.0.0.1:"),
        "{}",
        r.backend_address
    );
    assert!(r.attempts >= 1);

    let r = route(client, "status of order 100001", None, CALL)
        .await
        .unwrap();
    let Some(route_response::Result::RelationalOrder(o)) = r.result else {
        panic!("{r:?}")
    };
    assert_eq!(o.order.unwrap().id, 100_001);
    server_timing(client).await;

    let err = route(client, "status of order 42", None, CALL)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");

    let r = route(client, "How do I reset my password?", None, CALL)
        .await
        .unwrap();
    let Some(route_response::Result::VectorSearch(s)) = r.result else {
        panic!("{r:?}")
    };
    assert!(!s.hits.is_empty());
}

/// A routed answer says in `server-timing` which backend answered and how long it took, within
/// the time the whole call took; a failed route says nothing of the kind.
async fn server_timing(client: &mut RouterServiceClient<Channel>) {
    let request = |query: &str| RouteRequest {
        query: query.into(),
        hints: None,
        session_id: "test".into(),
    };
    let started = std::time::Instant::now();
    let response = client
        .route(request("status of order 100001"))
        .await
        .unwrap();
    let whole = started.elapsed().as_secs_f64() * 1e3;
    let timing = response
        .metadata()
        .get("server-timing")
        .expect("server-timing");
    let timing = timing.to_str().unwrap();
    let ms: f64 = timing
        .strip_prefix("relational;dur=")
        .unwrap_or_else(|| panic!("{timing}"))
        .parse()
        .unwrap();
    assert!(ms > 0.0 && ms <= whole, "{timing} of {whole} ms");

    let err = client
        .route(request("status of order 42"))
        .await
        .unwrap_err();
    assert!(err.metadata().get("server-timing").is_none(), "{err:?}");
}

/// A query through hints, a write the graph refuses, an empty query.
async fn hints_and_refusals(client: &mut RouterServiceClient<Channel>) {
    let r = route(
        client,
        "",
        Some(RouteHints {
            target: Some(Target::Graph as i32),
            cypher: Some("MATCH (p:Person) RETURN count(p)".into()),
            ..Default::default()
        }),
        CALL,
    )
    .await
    .unwrap();
    let Some(route_response::Result::GraphQuery(q)) = r.result else {
        panic!("{r:?}")
    };
    assert_eq!(q.rows.len(), 1);

    // The router only reads: a write through hints is refused by the graph (read mode).
    let err = route(
        client,
        "",
        Some(RouteHints {
            cypher: Some("CREATE (n:Person {name: 'Eve'})".into()),
            ..Default::default()
        }),
        CALL,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");

    let err = route(client, "", None, CALL).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().starts_with("query"), "{err:?}");
}

/// Every backend address is listed with its health and breaker state, a page at a time.
async fn list_backends(client: &mut RouterServiceClient<Channel>) {
    let backends = client
        .list_backends(ListBackendsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .backends;
    let targets: Vec<i32> = backends.iter().map(|b| b.target).collect();
    assert_eq!(
        targets,
        [
            Target::Graph as i32,
            Target::Vector as i32,
            Target::Relational as i32
        ]
    );
    for backend in &backends {
        assert_eq!(backend.addresses.len(), 1);
        let address = &backend.addresses[0];
        assert_eq!(address.health, HealthStatus::Serving as i32, "{backend:?}");
        assert_eq!(address.circuit_state, CircuitState::Closed as i32);
        assert!(address.last_check_time.is_some());
    }
    let err = client
        .list_backends(ListBackendsRequest {
            page_size: -1,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let page = client
        .list_backends(ListBackendsRequest {
            page_size: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.backends.len(), 2);
    let rest = client
        .list_backends(ListBackendsRequest {
            page_size: 2,
            page_token: page.next_page_token,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.backends.len(), 1);
    assert!(rest.next_page_token.is_empty());
}

/// Polls `check` every 20 ms until it is true or `limit` has passed; returns whether it became
/// true.
async fn eventually(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let start = tokio::time::Instant::now();
    loop {
        if check().await {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_backend_fails_fast_and_recovers_after_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let ([_graph, _vector, mut relational], router) = real_mesh(data.path()).await;
    let mut client = router.client().await;
    let order = "status of order 100002";
    route(&mut client, order, None, CALL).await.unwrap();

    relational.kill();
    // Every call to the dead backend is UNAVAILABLE naming it (never a hang until the
    // deadline), whether or not the health watch has noticed yet.
    for _ in 0..5 {
        let err = route(&mut client, order, None, CALL).await.unwrap_err();
        assert_eq!(err.code(), Code::Unavailable, "{err:?}");
        assert!(err.message().contains("relational backend"), "{err:?}");
        assert_eq!(err.metadata().get("chatmesh-target").unwrap(), "relational");
    }
    // Once the watch has noticed, the router does not even try the address.
    let noticed = eventually(Duration::from_secs(5), async || {
        let backends = client
            .list_backends(ListBackendsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .backends;
        backends[2].addresses[0].health == HealthStatus::NotServing as i32
    })
    .await;
    assert!(
        noticed,
        "the health watch marks the killed backend NOT_SERVING"
    );
    let err = route(&mut client, order, None, CALL).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
    assert!(err.message().contains("NOT_SERVING"), "{err:?}");
    // The other backends keep answering.
    route(&mut client, "who manages Alan Turing", None, CALL)
        .await
        .unwrap();
    route(&mut client, "how do I export data", None, CALL)
        .await
        .unwrap();

    // Restarted on the same address: traffic flows again within 2 s of it being SERVING,
    // through the same router.
    relational.restart().await;
    let recovered = eventually(Duration::from_secs(2), async || {
        route(&mut client, order, None, CALL).await.is_ok()
    })
    .await;
    assert!(
        recovered,
        "traffic to the restarted backend recovers within 2 s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_backend_meets_the_callers_deadline_and_sees_the_cancellation() {
    let slow = TestBackend::start("127.0.0.1:0", Behaviour::Slow(Duration::from_secs(30))).await;
    let router = Router::start(&["--graph-addr", &slow.addr, "--log", "warn"]).await;
    let hints = RouteHints {
        cypher: Some("RETURN 1".into()),
        ..Default::default()
    };
    let request = RouteRequest {
        query: String::new(),
        hints: Some(hints),
        session_id: "slow".into(),
    };
    let started = tokio::time::Instant::now();
    let (code, message) = common::raw_route(router.addr, &request, "300m").await;
    assert_eq!(Code::from_i32(code), Code::DeadlineExceeded, "{message}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the caller did not wait for the slow backend"
    );
    assert_eq!(slow.seen.calls.load(Ordering::SeqCst), 1);
    let cancelled = eventually(Duration::from_secs(5), async || {
        slow.seen.cancelled.load(Ordering::SeqCst) == 1
    })
    .await;
    assert!(cancelled, "the backend's handler was cancelled");
    assert_eq!(slow.seen.finished.load(Ordering::SeqCst), 0);
}

fn replica_of(r: &RouteResponse) -> i64 {
    let Some(route_response::Result::GraphQuery(q)) = &r.result else {
        panic!("{r:?}")
    };
    match q.rows[0].values[0].kind {
        Some(value::Kind::IntValue(n)) => n,
        ref other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_is_spread_over_replicas_and_a_removed_one_fails_no_call() {
    let port = free_port("127.0.0.1");
    let one = TestBackend::start(&format!("127.0.0.1:{port}"), Behaviour::Answer(1)).await;
    let two = TestBackend::start(&format!("127.0.0.2:{port}"), Behaviour::Answer(2)).await;
    let addrs = format!("{},{}", one.addr, two.addr);
    let router = Router::start(&["--graph-addr", &addrs, "--log", "warn"]).await;
    let client = router.client().await;
    let hints = RouteHints {
        cypher: Some("RETURN 1".into()),
        ..Default::default()
    };

    // Concurrent callers, so that the power of two choices sees load.
    let burst = |n: usize| {
        let client = client.clone();
        let hints = hints.clone();
        async move {
            let calls = (0..n).map(|_| {
                let mut client = client.clone();
                let hints = hints.clone();
                async move { route(&mut client, "", Some(hints), CALL).await }
            });
            futures::future::join_all(calls).await
        }
    };
    let results = burst(200).await;
    let mut per_replica = [0usize; 3];
    for result in &results {
        per_replica[replica_of(result.as_ref().unwrap()) as usize] += 1;
    }
    assert!(per_replica[1] > 0 && per_replica[2] > 0, "{per_replica:?}");
    assert_eq!(
        one.seen.calls.load(Ordering::SeqCst) + two.seen.calls.load(Ordering::SeqCst),
        200
    );

    // Remove replica two while calls are in flight: none fails.
    let during = tokio::spawn(burst(300));
    tokio::time::sleep(Duration::from_millis(5)).await;
    two.stop().await;
    for result in during.await.unwrap() {
        result.expect("no call fails while a replica goes away");
    }
    let after = burst(100).await;
    for result in &after {
        assert_eq!(replica_of(result.as_ref().expect("no failed call")), 1);
    }
}
