//! The channel against real servers on loopback sockets: sharing, reconnecting, failing.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::server::health_reporter;

use super::*;

/// A health server on `listener`; counts the connections it accepts, stops when `stop` fires.
async fn serve(listener: TcpListener, accepted: Arc<AtomicUsize>, stop: oneshot::Receiver<()>) {
    let (_reporter, health) = health_reporter();
    let incoming = TcpListenerStream::new(listener).map(move |socket| {
        accepted.fetch_add(1, Ordering::SeqCst);
        socket
    });
    tonic::transport::Server::builder()
        .add_service(health)
        .serve_with_incoming_shutdown(incoming, async {
            let _ = stop.await;
        })
        .await
        .unwrap();
}

struct Running {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

async fn start(listener: TcpListener) -> Running {
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(serve(listener, Arc::clone(&accepted), stopped));
    Running {
        addr,
        accepted,
        stop: Some(stop),
        task,
    }
}

impl Running {
    async fn shut_down(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap();
    }
}

async fn check(channel: &Http2Channel) -> Result<(), tonic::Status> {
    let mut client = HealthClient::new(channel.clone());
    client
        .check(HealthCheckRequest::default())
        .await
        .map(|_| ())
}

#[tokio::test]
async fn clones_share_one_connection() {
    let server = start(TcpListener::bind("127.0.0.1:0").await.unwrap()).await;
    let channel = Http2Channel::lazy(&server.addr.to_string(), &ClientArgs::default()).unwrap();
    assert_eq!(
        server.accepted.load(Ordering::SeqCst),
        0,
        "lazy: no connection before a call"
    );
    let calls = (0..16).map(|_| {
        let channel = channel.clone();
        tokio::spawn(async move { check(&channel).await })
    });
    for call in calls {
        call.await.unwrap().unwrap();
    }
    check(&channel).await.unwrap();
    assert_eq!(server.accepted.load(Ordering::SeqCst), 1);
    server.shut_down().await;
}

#[tokio::test]
async fn nothing_listening_is_unavailable_and_a_late_server_is_reached() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let channel = Http2Channel::lazy(&format!("http://{addr}"), &ClientArgs::default()).unwrap();
    let refused = check(&channel).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    assert!(
        refused
            .message()
            .contains(&format!("cannot connect to http://{addr}")),
        "{refused:?}"
    );
    assert!(
        refused.message().contains("Connection refused"),
        "{refused:?}"
    );

    assert!(transport_failure(&refused));
    assert!(!transport_failure(&tonic::Status::unavailable(
        "the graph is down"
    )));

    let server = start(TcpListener::bind(addr).await.unwrap()).await;
    check(&channel).await.unwrap();
    assert_eq!(server.accepted.load(Ordering::SeqCst), 1);
    server.shut_down().await;
}

#[tokio::test]
async fn a_closed_connection_is_replaced() {
    let first = start(TcpListener::bind("127.0.0.1:0").await.unwrap()).await;
    let addr = first.addr;
    let channel = Http2Channel::lazy(&addr.to_string(), &ClientArgs::default()).unwrap();
    check(&channel).await.unwrap();
    first.shut_down().await;

    let second = start(TcpListener::bind(addr).await.unwrap()).await;
    // The old connection's end reaches the client task asynchronously: a call may still meet
    // it once, but not for long.
    let mut answered = false;
    for _ in 0..50 {
        if check(&channel).await.is_ok() {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(answered, "no answer from the restarted server");
    assert_eq!(second.accepted.load(Ordering::SeqCst), 1);
    second.shut_down().await;
}

#[tokio::test]
async fn the_requests_own_deadline_stops_the_wait() {
    // Accepts connections and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let channel = Http2Channel::lazy(&addr.to_string(), &ClientArgs::default()).unwrap();
    let mut client = HealthClient::new(channel.clone());
    let mut request = tonic::Request::new(HealthCheckRequest::default());
    request.set_timeout(Duration::from_millis(100));
    let started = std::time::Instant::now();
    let status = client.check(request).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    // A caller that enforces the deadline itself gets no second timer: without its own stop
    // the call is still waiting when the test gives up on it.
    let mut request = tonic::Request::new(HealthCheckRequest::default());
    request.set_timeout(Duration::from_millis(100));
    request.extensions_mut().insert(DeadlineEnforced);
    let waited = tokio::time::timeout(Duration::from_millis(400), client.check(request)).await;
    assert!(
        waited.is_err(),
        "the channel stopped a call its caller enforces: {waited:?}"
    );
    held.abort();
}

#[test]
fn requests_get_the_channels_scheme_and_authority() {
    let channel = Http2Channel::lazy("router.chatmesh.svc:50052", &ClientArgs::default()).unwrap();
    let mut request = http::Request::new(Body::empty());
    *request.uri_mut() = Uri::from_static("/chatmesh.router.v1.RouterService/Route");
    channel.shared.set_origin(&mut request);
    assert_eq!(
        request.uri().to_string(),
        "http://router.chatmesh.svc:50052/chatmesh.router.v1.RouterService/Route"
    );
    assert!(Http2Channel::lazy("not a uri", &ClientArgs::default()).is_err());
}
