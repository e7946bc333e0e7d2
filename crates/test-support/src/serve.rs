//! A service in this process, the way the binaries, `chatmesh up` and the tests all run it: its
//! `serve_on` on a fresh loopback port, with its configuration parsed from flags by the same
//! function its binary uses.

use std::net::SocketAddr;

use chatmesh_runtime::{CancellationToken, ServeError, ServiceInfo};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A service running in this process.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Cancelling this shuts the service down.
    pub shutdown: CancellationToken,
    /// The serving task; ends when the service has stopped.
    pub task: JoinHandle<Result<(), ServeError>>,
}

impl Running {
    /// `http://addr`, for clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Shuts down and waits for the serving task's outcome.
    pub async fn stop(self) -> Result<(), ServeError> {
        self.shutdown.cancel();
        self.task.await.expect("serving task panicked")
    }
}

/// A loopback listener on a free port.
pub async fn loopback_listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback")
}

/// Starts `serve_on(config, listener, token)` on a fresh loopback port.
pub async fn start<C, F, Fut>(config: C, serve_on: F) -> Running
where
    F: FnOnce(C, TcpListener, CancellationToken) -> Fut,
    Fut: std::future::Future<Output = Result<(), ServeError>> + Send + 'static,
{
    let listener = loopback_listener().await;
    let addr = listener.local_addr().expect("local addr");
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(serve_on(config, listener, shutdown.clone()));
    Running {
        addr,
        shutdown,
        task,
    }
}

/// Serves an assembled server on a fresh loopback port, as the runtime's own tests do.
pub async fn server(server: chatmesh_runtime::GrpcServer) -> Running {
    start(server, |server, listener, token| {
        server.serve(listener, token)
    })
    .await
}

/// Parses a service's config the way its binary does, from `args` after the program name.
pub fn config<C: chatmesh_runtime::ServiceConfig>(info: &ServiceInfo, args: &[&str]) -> C {
    let binary = info.binary();
    let all = std::iter::once(binary.as_str()).chain(args.iter().copied());
    chatmesh_runtime::cli::parse_config(info, all).expect("valid test config")
}
