//! The chatbot's life beside the gRPC server: make the session store usable, report SERVING,
//! then keep health in step with it and sweep expired sessions.
//!
//! Sessions in memory are always there: SERVING at once. Sessions in PostgreSQL are a hard
//! dependency (a turn without its session would answer a follow-up wrongly): the shared loop of
//! `chatmesh_runtime::dependency` waits for the database at start (NOT_SERVING meanwhile,
//! retrying every `--session-db-probe-interval`), then probes it and turns readiness off while
//! it is lost, so the orchestrator sends turns to other replicas. No restart.
//!
//! Every `--session-sweep-interval`, expired sessions are deleted (in memory too, so abandoned
//! sessions free their memory before the size bound pushes them out).

use std::sync::Arc;
use std::time::Duration;

use chatmesh_runtime::dependency::{self, Dependency, pause};
use chatmesh_runtime::{CancellationToken, Health};

use crate::store::SessionStore;

/// What the lifecycle needs to know.
pub(crate) struct Plan {
    /// Time between probes, and between reconnection attempts.
    pub(crate) probe_interval: Duration,
    /// Time between sweeps.
    pub(crate) sweep_interval: Duration,
}

/// Runs until `stop` is cancelled. Fails only when the database cannot be used at start for a
/// reason other than being unreachable.
pub(crate) async fn run(
    sessions: Arc<dyn SessionStore>,
    database: Option<Arc<dyn Dependency>>,
    health: Health,
    plan: Plan,
    stop: CancellationToken,
) -> Result<(), String> {
    let sweeping = sweep(sessions, plan.sweep_interval, stop.clone());
    let Some(database) = database else {
        health.set_serving().await;
        sweeping.await;
        return Ok(());
    };
    let living = async {
        let lived = dependency::run(
            database.as_ref(),
            &health,
            plan.probe_interval,
            &stop,
            || async { Ok(()) },
        )
        .await;
        if lived.is_err() {
            // Ends the sweeping too: the service does not start.
            stop.cancel();
        }
        lived
    };
    let (lived, ()) = tokio::join!(living, sweeping);
    lived
}

/// Deletes expired sessions every `interval` until `stop` is cancelled.
async fn sweep(sessions: Arc<dyn SessionStore>, interval: Duration, stop: CancellationToken) {
    while pause(interval, &stop).await {
        match sessions.sweep().await {
            Ok(0) => {}
            Ok(gone) => tracing::debug!(gone, "expired sessions deleted"),
            Err(error) => tracing::debug!(%error, "session sweep failed; next time"),
        }
    }
}
