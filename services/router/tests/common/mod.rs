//! Shared pieces of the router's socket tests: the real backend binaries as child processes,
//! the router itself in-process on a loopback port, and a small in-test graph service whose
//! behaviour the test controls (slow answers, call counts).

#![allow(dead_code)] // each test file uses a different subset

use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chatmesh_proto::graph::graph_service_server::{GraphService, GraphServiceServer};
use chatmesh_proto::graph::{ExecuteQueryRequest, ExecuteQueryResponse, Row, Value, value};
use chatmesh_proto::router::router_service_client::RouterServiceClient;
use chatmesh_runtime::{CancellationToken, GrpcServer, ServerArgs, ServiceInfo};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};
use tonic_health::pb::health_check_response::ServingStatus;

/// How long a test waits for something that should happen promptly (a process start).
pub(crate) const PATIENCE: Duration = Duration::from_secs(60);

/// A free loopback port (bound then released, so a process can take it).
pub(crate) fn free_port(ip: &str) -> u16 {
    StdListener::bind(format!("{ip}:0"))
        .expect("bind an ephemeral port")
        .local_addr()
        .unwrap()
        .port()
}

/// A workspace binary, next to this test executable's directory (cargo builds every workspace
/// binary before running tests).
pub(crate) fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile> directory");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the workspace binaries first (`cargo build --workspace`)",
        path.display()
    );
    path
}

/// One real backend service as a child process, killed when dropped.
pub(crate) struct BackendProcess {
    pub name: &'static str,
    pub addr: String,
    child: Option<Child>,
    args: Vec<String>,
}

impl BackendProcess {
    /// Starts `chatmesh-<name>` with demo data in `data` on `127.0.0.1:port` and waits until it
    /// reports SERVING.
    pub(crate) async fn start(name: &'static str, port: u16, data: &Path) -> Self {
        let dir = data.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let mut args = vec![
            "--listen".to_owned(),
            format!("127.0.0.1:{port}"),
            "--log".to_owned(),
            "warn".to_owned(),
            "--seed-demo".to_owned(),
        ];
        if name == "relational" {
            args.push("--database-url".into());
            args.push(format!("sqlite://{}", dir.join("db.sqlite").display()));
        } else {
            args.push("--data-dir".into());
            args.push(dir.display().to_string());
        }
        let mut process = Self {
            name,
            addr: format!("http://127.0.0.1:{port}"),
            child: None,
            args,
        };
        process.restart().await;
        process
    }

    /// Starts the process again with the same settings (same port, same data).
    pub(crate) async fn restart(&mut self) {
        let child = Command::new(binary(&format!("chatmesh-{}", self.name)))
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start chatmesh-{}: {e}", self.name));
        self.child = Some(child);
        wait_serving(&self.addr).await;
    }

    /// Kills the process (SIGKILL: no drain, connections just drop).
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for BackendProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits until `addr` answers its health check with SERVING.
pub(crate) async fn wait_serving(addr: &str) {
    let start = tokio::time::Instant::now();
    loop {
        if let Ok(ServingStatus::Serving) =
            chatmesh_runtime::probe::check(addr, "", Duration::from_secs(1)).await
        {
            return;
        }
        assert!(start.elapsed() < PATIENCE, "{addr} did not become SERVING");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The router, in-process on a loopback port.
pub(crate) struct Router {
    pub addr: SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl Router {
    /// Starts the router with these command-line arguments (after the program name).
    pub(crate) async fn start(args: &[&str]) -> Self {
        let binary = chatmesh_router::INFO.binary();
        let all = std::iter::once(binary.as_str()).chain(args.iter().copied());
        let config: chatmesh_router::Config =
            chatmesh_runtime::cli::parse_config(&chatmesh_router::INFO, all)
                .expect("valid router config");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let task = tokio::spawn(async move {
            chatmesh_router::serve_on(config, listener, token)
                .await
                .expect("router serves");
        });
        wait_serving(&format!("http://{addr}")).await;
        Self {
            addr,
            shutdown,
            task,
        }
    }

    /// A client of the router.
    pub(crate) async fn client(&self) -> RouterServiceClient<Channel> {
        RouterServiceClient::connect(format!("http://{}", self.addr))
            .await
            .expect("connect to the router")
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        self.shutdown.cancel();
        self.task.abort();
    }
}

/// What the in-test graph service does with ExecuteQuery.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Behaviour {
    /// Answers at once with one row holding the replica's number.
    Answer(i64),
    /// Sleeps this long before answering.
    Slow(Duration),
}

/// Counts of what the in-test graph service saw.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    pub calls: AtomicUsize,
    pub cancelled: AtomicUsize,
    pub finished: AtomicUsize,
}

struct TestGraph {
    behaviour: Behaviour,
    seen: Arc<Seen>,
}

/// Counts a call as cancelled when dropped before it finished.
struct CancelProbe {
    seen: Arc<Seen>,
    done: bool,
}

impl Drop for CancelProbe {
    fn drop(&mut self) {
        if !self.done {
            self.seen.cancelled.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[tonic::async_trait]
impl GraphService for TestGraph {
    async fn execute_query(
        &self,
        _request: Request<ExecuteQueryRequest>,
    ) -> Result<Response<ExecuteQueryResponse>, Status> {
        self.seen.calls.fetch_add(1, Ordering::SeqCst);
        let mut probe = CancelProbe {
            seen: Arc::clone(&self.seen),
            done: false,
        };
        let replica = match self.behaviour {
            Behaviour::Answer(n) => n,
            Behaviour::Slow(pause) => {
                tokio::time::sleep(pause).await;
                0
            }
        };
        probe.done = true;
        self.seen.finished.fetch_add(1, Ordering::SeqCst);
        Ok(Response::new(ExecuteQueryResponse {
            columns: vec!["replica".into()],
            rows: vec![Row {
                values: vec![Value {
                    kind: Some(value::Kind::IntValue(replica)),
                }],
            }],
            ..Default::default()
        }))
    }
}

const TEST_GRAPH: ServiceInfo = ServiceInfo {
    name: "graph",
    fqn: chatmesh_proto::graph::graph_service_server::SERVICE_NAME,
    default_port: 0,
    file_descriptor_set: chatmesh_proto::FILE_DESCRIPTOR_SET,
};

/// An in-test graph service (with health SERVING) on `addr`.
pub(crate) struct TestBackend {
    pub addr: String,
    pub seen: Arc<Seen>,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl TestBackend {
    /// Serves on `addr` (an IP and port; port 0 picks one).
    pub(crate) async fn start(addr: &str, behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind(addr).await.expect("bind test backend");
        let local = listener.local_addr().unwrap();
        let seen = Arc::new(Seen::default());
        let service = GraphServiceServer::new(TestGraph {
            behaviour,
            seen: Arc::clone(&seen),
        });
        let shutdown = CancellationToken::new();
        let server = GrpcServer::new(&TEST_GRAPH, &ServerArgs::for_tests())
            .await
            .unwrap()
            .add_service(service);
        server.health().set_serving().await;
        let token = shutdown.clone();
        let task = tokio::spawn(async move {
            server
                .serve(listener, token)
                .await
                .expect("test backend serves");
        });
        Self {
            addr: format!("http://{local}"),
            seen,
            shutdown,
            task,
        }
    }

    /// Shuts down the way a real service does (NOT_SERVING, then drain) and waits for the end.
    pub(crate) async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.task.await;
    }
}

/// Calls Route with a raw HTTP/2 client that sends `grpc-timeout` but does not enforce it
/// itself (tonic's channel would cancel locally and report CANCELLED), so the test sees what the
/// router answers at the deadline. Returns the grpc-status code and message.
pub(crate) async fn raw_route(
    addr: SocketAddr,
    request: &chatmesh_proto::router::RouteRequest,
    timeout: &str,
) -> (i32, String) {
    use http_body_util::BodyExt;
    use prost::Message;
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    let message = request.encode_to_vec();
    let mut frame = vec![0u8];
    frame.extend((message.len() as u32).to_be_bytes());
    frame.extend(message);
    let http_request = http::Request::post(format!(
        "http://{addr}/chatmesh.router.v1.RouterService/Route"
    ))
    .header("content-type", "application/grpc")
    .header("te", "trailers")
    .header("grpc-timeout", timeout)
    .body(http_body_util::Full::new(bytes::Bytes::from(frame)))
    .unwrap();
    let response = sender.send_request(http_request).await.unwrap();
    let (parts, body) = response.into_parts();
    let headers = match parts.headers.get("grpc-status") {
        Some(_) => parts.headers,
        None => body
            .collect()
            .await
            .unwrap()
            .trailers()
            .cloned()
            .expect("trailers with grpc-status"),
    };
    let code = headers["grpc-status"].to_str().unwrap().parse().unwrap();
    let message = headers
        .get("grpc-message")
        .map(|m| m.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (code, message)
}
