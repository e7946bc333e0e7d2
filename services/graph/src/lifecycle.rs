//! The Bolt engine's life beside the gRPC server (the embedded engine's is
//! `chatmesh_runtime::loading`): reach the engine at start (health NOT_SERVING meanwhile,
//! retrying every second while it is unreachable; bad credentials or an unknown database stop
//! the service with a start-up error), seed the demo organisation when asked and the graph is
//! empty, report SERVING, then probe the engine (`RETURN 1`) every second, and at once when a
//! call found it gone. While it is lost, readiness is NOT_SERVING and calls answer UNAVAILABLE
//! without waiting; when a probe reaches it again, SERVING. No restart is needed. Liveness
//! (the server's `""` status) stays SERVING, so an orchestrator takes the pod out of rotation
//! rather than restarting a process that is only waiting.

use std::sync::Arc;
use std::time::Duration;

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
    if !connect_at_start(&store, &plan.settings.url, &stop).await? {
        return Ok(());
    }
    if plan.seed_demo {
        seed_demo(store.as_ref()).await?;
    }
    let _ = ready.set(store.clone() as Arc<dyn GraphStore>);
    if stop.is_cancelled() {
        return Ok(());
    }
    health.set_serving().await;
    tracing::info!(url = %plan.settings.url, "graph engine reached; SERVING");
    supervise(&store, &health, &stop).await;
    Ok(())
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

/// Probes until the engine answers. `Ok(false)` when `stop` came first; an error when the
/// engine refuses this service (credentials, rights, database).
async fn connect_at_start(
    store: &BoltGraph,
    url: &str,
    stop: &CancellationToken,
) -> Result<bool, String> {
    let mut reported = false;
    loop {
        match store.probe().await {
            Ok(()) => return Ok(true),
            Err(Failure::Refused(reason)) => {
                return Err(format!(
                    "the graph engine at {url} refuses the service: {reason}"
                ));
            }
            Err(other) => {
                if !reported {
                    let reason = other.into_error().to_string();
                    tracing::warn!(url, %reason, "graph engine unreachable at start; NOT_SERVING, retrying");
                    reported = true;
                }
            }
        }
        tokio::select! {
            () = stop.cancelled() => return Ok(false),
            () = tokio::time::sleep(PROBE_INTERVAL) => {}
        }
    }
}

/// Keeps readiness in step with the engine until `stop` is cancelled.
async fn supervise(store: &BoltGraph, health: &Health, stop: &CancellationToken) {
    let mut serving = true;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(PROBE_INTERVAL) => {}
            () = store.trouble() => {}
        }
        let reached = store.probe().await.is_ok();
        if reached != serving && !stop.is_cancelled() {
            health.set_ready(reached).await;
            log_readiness(reached);
            serving = reached;
        }
    }
}

fn log_readiness(reached: bool) {
    if reached {
        tracing::info!("graph engine back; SERVING");
    } else {
        tracing::warn!("graph engine lost; NOT_SERVING until it is back");
    }
}
