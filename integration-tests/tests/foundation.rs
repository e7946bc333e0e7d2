//! The foundation every service stands on, over real sockets: health, reflection (v1 and
//! v1alpha), deadlines, message limits, and the shutdown sequence.

use std::sync::atomic::Ordering;
use std::time::Duration;

use chatmesh_integration_tests::testing::SleepRequest;
use chatmesh_integration_tests::testing::sleep_service_client::SleepServiceClient;
use chatmesh_integration_tests::testing::sleep_service_server::SleepServiceServer;
use chatmesh_integration_tests::{Sleeper, start_all};
use chatmesh_runtime::{GrpcServer, ServerArgs, ServiceInfo};
use chatmesh_test_support::grpc::{
    channel, health, raw_unary, reflection_services_v1, reflection_services_v1alpha, wait_serving,
};
use chatmesh_test_support::serve::{Running, start};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const SLEEPER: ServiceInfo = ServiceInfo {
    name: "sleeper",
    fqn: "chatmesh.testing.v1.SleepService",
    default_port: 0,
    file_descriptor_set: &[],
};

/// Starts the test-only sleep service through the shared runtime, SERVING once `ready`.
async fn start_sleeper(
    args: ServerArgs,
    ready: bool,
) -> (Running, Sleeper, chatmesh_runtime::Health) {
    let sleeper = Sleeper::default();
    let server = GrpcServer::new(&SLEEPER, &args)
        .await
        .expect("server")
        .add_service(SleepServiceServer::new(sleeper.clone()));
    let health = server.health();
    if ready {
        health.set_serving().await;
    }
    let running = start(server, |server, listener, token| {
        server.serve(listener, token)
    })
    .await;
    (running, sleeper, health)
}

#[tokio::test]
async fn all_five_services_serve_health_and_reflection() {
    let data = tempfile::tempdir().unwrap();
    let services = start_all(data.path()).await;
    let expected = [
        "chatmesh.chat.v1.ChatService",
        "chatmesh.router.v1.RouterService",
        "chatmesh.graph.v1.GraphService",
        "chatmesh.vector.v1.VectorService",
        "chatmesh.relational.v1.RelationalService",
    ];
    assert_eq!(
        services.iter().map(|(i, _)| i.fqn).collect::<Vec<_>>(),
        expected
    );
    for (info, running) in &services {
        wait_serving(running.addr, info.fqn, Duration::from_secs(10)).await;
        assert_eq!(
            health(running.addr, "").await.unwrap(),
            ServingStatus::Serving
        );
        let unknown = health(running.addr, "chatmesh.nope.v1.Nope")
            .await
            .unwrap_err();
        assert_eq!(unknown.code(), Code::NotFound, "{}", info.name);

        for listed in [
            reflection_services_v1(running.addr).await.unwrap(),
            reflection_services_v1alpha(running.addr).await.unwrap(),
        ] {
            assert!(
                listed.iter().any(|s| s == info.fqn),
                "{}: {listed:?}",
                info.name
            );
            assert!(
                listed.iter().any(|s| s == "grpc.health.v1.Health"),
                "{listed:?}"
            );
            let others = expected.iter().filter(|fqn| **fqn != info.fqn);
            for other in others {
                assert!(
                    !listed.iter().any(|s| s == other),
                    "{} lists {other}",
                    info.name
                );
            }
        }
    }
    for (info, running) in services {
        running
            .stop()
            .await
            .unwrap_or_else(|e| panic!("{} stopped with {e}", info.name));
    }
}

#[tokio::test]
async fn health_is_not_serving_until_the_service_says_it_is_ready() {
    let (running, _, health_handle) = start_sleeper(ServerArgs::for_tests(), false).await;
    assert_eq!(
        health(running.addr, "").await.unwrap(),
        ServingStatus::NotServing
    );
    assert_eq!(
        health(running.addr, SLEEPER.fqn).await.unwrap(),
        ServingStatus::NotServing
    );
    health_handle.set_serving().await;
    assert_eq!(
        health(running.addr, "").await.unwrap(),
        ServingStatus::Serving
    );
    assert_eq!(
        health(running.addr, SLEEPER.fqn).await.unwrap(),
        ServingStatus::Serving
    );
    // A dependency lost: readiness (the service name) drops, liveness ("") stays.
    health_handle.set_ready(false).await;
    assert_eq!(
        health(running.addr, "").await.unwrap(),
        ServingStatus::Serving
    );
    assert_eq!(
        health(running.addr, SLEEPER.fqn).await.unwrap(),
        ServingStatus::NotServing
    );
    health_handle.set_ready(true).await;
    assert_eq!(
        health(running.addr, SLEEPER.fqn).await.unwrap(),
        ServingStatus::Serving
    );
    running.stop().await.unwrap();
}

#[tokio::test]
async fn shutdown_turns_not_serving_first_and_drains_in_flight_requests() {
    let args = ServerArgs {
        drain_delay: Duration::from_millis(400),
        shutdown_grace: Duration::from_secs(30),
        ..ServerArgs::for_tests()
    };
    let (running, sleeper, _) = start_sleeper(args, true).await;
    let addr = running.addr;

    // A watcher, as Kubernetes or the router would keep.
    let mut watch = HealthClient::new(channel(addr).await)
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let first = watch.message().await.unwrap().unwrap();
    assert_eq!(first.status(), ServingStatus::Serving);

    // A request that is still running when the listener closes.
    let mut client = SleepServiceClient::new(channel(addr).await);
    let in_flight = tokio::spawn(async move {
        client
            .sleep(SleepRequest {
                millis: 1_000,
                padding: vec![],
            })
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    running.shutdown.cancel();

    // The watcher hears NOT_SERVING, and a new connection still gets in during the drain delay.
    let update = watch.message().await.unwrap().unwrap();
    assert_eq!(update.status(), ServingStatus::NotServing);
    assert_eq!(health(addr, "").await.unwrap(), ServingStatus::NotServing);

    // The in-flight request completes normally.
    let answer = in_flight
        .await
        .unwrap()
        .expect("in-flight request completes");
    assert_eq!(answer.into_inner().slept_millis, 1_000);
    assert_eq!(sleeper.finished.load(Ordering::SeqCst), 1);

    // The watch stream was closed by the server rather than holding the shutdown open for the
    // 30 s grace period, and the server stopped cleanly.
    let end = watch.message().await;
    assert!(
        matches!(&end, Err(s) if s.code() == Code::Unavailable) || matches!(end, Ok(None)),
        "{end:?}"
    );
    tokio::time::timeout(Duration::from_secs(10), running.task)
        .await
        .expect("stopped well before the grace period")
        .unwrap()
        .unwrap();

    // The listener is gone.
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "listener still open"
    );
}

#[tokio::test]
async fn grpc_timeout_is_deadline_exceeded_and_cancels_the_handler() {
    let (running, sleeper, _) = start_sleeper(ServerArgs::for_tests(), true).await;
    // A bare HTTP/2 client, so that only the server acts on the deadline.
    let outcome = raw_unary(
        running.addr,
        "/chatmesh.testing.v1.SleepService/Sleep",
        &SleepRequest {
            millis: 5_000,
            padding: vec![],
        },
        &[("grpc-timeout", "200m")],
    )
    .await;
    assert_eq!(outcome.code, Code::DeadlineExceeded, "{outcome:?}");
    assert!(outcome.message.contains("200 ms"), "{outcome:?}");

    // The handler was dropped (cancelled), not left running to the end.
    for _ in 0..100 {
        if sleeper.cancelled.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(sleeper.cancelled.load(Ordering::SeqCst), 1);
    assert_eq!(sleeper.finished.load(Ordering::SeqCst), 0);

    // A request within its deadline is unaffected.
    let mut client = SleepServiceClient::new(channel(running.addr).await);
    let mut request = tonic::Request::new(SleepRequest {
        millis: 10,
        padding: vec![],
    });
    request.set_timeout(Duration::from_secs(5));
    client.sleep(request).await.expect("within the deadline");
    running.stop().await.unwrap();
}

#[tokio::test]
async fn oversized_messages_are_resource_exhausted_and_the_server_keeps_serving() {
    let args = ServerArgs {
        max_message_bytes: 64 * 1024,
        ..ServerArgs::for_tests()
    };
    let (running, sleeper, _) = start_sleeper(args, true).await;
    let mut client = SleepServiceClient::new(channel(running.addr).await);
    let big = SleepRequest {
        millis: 0,
        padding: vec![1; 100 * 1024],
    };
    let err = client.sleep(big).await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert!(
        err.message().contains("exceeds the limit of 65536 bytes"),
        "{}",
        err.message()
    );
    assert_eq!(
        sleeper.finished.load(Ordering::SeqCst),
        0,
        "the handler never ran"
    );

    let fits = SleepRequest {
        millis: 0,
        padding: vec![1; 60 * 1024],
    };
    client
        .sleep(fits)
        .await
        .expect("a message under the limit is served");
    running.stop().await.unwrap();
}
