//! The Bolt engine's life beside the gRPC server (the embedded engine's is
//! `chatmesh_runtime::loading`), through the shared loop of `chatmesh_runtime::dependency`:
//! reach the engine at start (health NOT_SERVING meanwhile, retrying every second while it is
//! unreachable; bad credentials or an unknown database stop the service with a start-up error),
//! seed the demo organisation when asked and the graph is empty, report SERVING, then probe the
//! engine (`RETURN 1`) every second, and soon after a call found it gone. While it is lost,
//! readiness is NOT_SERVING and calls answer UNAVAILABLE without waiting; when a probe reaches
//! it again, SERVING. No restart is needed. Liveness (the server's `""` status) stays SERVING,
//! so an orchestrator takes the pod out of rotation rather than restarting a process that is
//! only waiting.

use std::sync::Arc;
use std::time::Duration;

use chatmesh_runtime::dependency::{self, Dependency, Unreached};
use chatmesh_runtime::{CancellationToken, GrpcServer, Health, ServeError};
use tokio::net::TcpListener;

use crate::api::ReadyStore;
use crate::store::GraphStore;
use crate::store::bolt::{BoltGraph, BoltSettings, Failure};

/// Time between probes, and between connection attempts at start.
const PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// What the lifecycle needs to know.
pub(crate) struct Plan {
    /// How to reach the engine.
    pub(crate) settings: BoltSettings,
    /// Load the demo organisation into an empty graph.
    pub(crate) seed_demo: bool,
}

/// Serves `server` on `listener` with the Bolt engine until `shutdown` is cancelled.
pub(crate) async fn serve(
    server: GrpcServer,
    listener: TcpListener,
    shutdown: CancellationToken,
    ready: ReadyStore,
    plan: Plan,
) -> Result<(), ServeError> {
    let health = server.health();
    chatmesh_runtime::loading::serve_beside(server, listener, shutdown, |stop| {
        run(health, ready, plan, stop)
    })
    .await
}

async fn run(
    health: Health,
    ready: ReadyStore,
    plan: Plan,
    stop: CancellationToken,
) -> Result<(), String> {
    let store = Arc::new(BoltGraph::new(&plan.settings).await?);
    let engine = Engine {
        store: store.clone(),
        url: plan.settings.url.clone(),
    };
    let seed = plan.seed_demo;
    dependency::run(
        &engine,
        &health,
        PROBE_INTERVAL,
        &stop,
        move || async move {
            if seed {
                seed_demo(store.as_ref()).await?;
            }
            let _ = ready.set(store as Arc<dyn GraphStore>);
            Ok(())
        },
    )
    .await
}

/// Loads the demo organisation into an empty graph on the engine.
async fn seed_demo(store: &BoltGraph) -> Result<(), String> {
    let loaded = crate::seed::demo_through(store)
        .await
        .map_err(|e| format!("cannot load the demo data: {e}"))?;
    if loaded {
        tracing::info!("demo organisation loaded");
    }
    Ok(())
}

/// The Bolt engine as the shared lifecycle sees it: connecting is a probe that succeeds.
struct Engine {
    store: Arc<BoltGraph>,
    url: String,
}

#[tonic::async_trait]
impl Dependency for Engine {
    fn name(&self) -> &'static str {
        "graph engine"
    }

    fn location(&self) -> String {
        self.url.clone()
    }

    async fn connect(&self) -> Result<(), Unreached> {
        self.store.probe().await.map_err(|failure| match failure {
            Failure::Refused(reason) => Unreached::Unusable(reason),
            other => Unreached::Unreachable(other.into_error().to_string()),
        })
    }

    fn is_connected(&self) -> bool {
        self.store.is_connected()
    }

    async fn probe(&self) {
        let _ = self.store.probe().await;
    }

    async fn trouble(&self) {
        self.store.trouble().await;
    }
}
