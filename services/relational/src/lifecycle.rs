//! The service's life beside the gRPC server: connect and migrate at start (health NOT_SERVING
//! meanwhile), seed the demo rows when asked, report SERVING, then supervise the database.
//!
//! The supervisor probes the database every `--db-probe-interval` (and at once when a call found
//! it gone). While it is lost, health is NOT_SERVING and calls answer UNAVAILABLE without waiting;
//! the supervisor reconnects (and re-runs the idempotent migrations) until it is back, then
//! reports SERVING again. No restart is needed.

use std::sync::Arc;
use std::time::Duration;

use chatmesh_runtime::{CancellationToken, Health};

use crate::error::Error;
use crate::store::RelationalStore;

/// What the lifecycle needs to know.
pub(crate) struct Plan {
    /// Insert the demo rows after the first connect.
    pub seed_demo: bool,
    /// Time between probes, and between reconnection attempts.
    pub probe_interval: Duration,
}

/// Runs until `stop` is cancelled. Fails only when the database cannot be used at start for a
/// reason other than being unreachable (bad credentials, a migration that does not apply).
pub(crate) async fn run(
    store: Arc<dyn RelationalStore>,
    health: Health,
    plan: Plan,
    stop: CancellationToken,
) -> Result<(), String> {
    let mut reported = false;
    loop {
        match store.connect().await {
            Ok(()) => break,
            Err(Error::Unavailable(reason)) => {
                if !reported {
                    tracing::warn!(engine = store.engine(), %reason,
                        "database unreachable at start; NOT_SERVING, retrying");
                    reported = true;
                }
                tokio::select! {
                    () = stop.cancelled() => return Ok(()),
                    () = tokio::time::sleep(plan.probe_interval) => {}
                }
            }
            Err(e) => return Err(format!("cannot open the database: {e}")),
        }
    }
    if plan.seed_demo {
        let added = crate::seed::seed_demo(store.as_ref())
            .await
            .map_err(|e| format!("cannot seed the demo orders: {e}"))?;
        tracing::info!(added, "demo orders seeded");
    }
    if stop.is_cancelled() {
        return Ok(());
    }
    health.set_serving().await;
    tracing::info!(engine = store.engine(), "database ready; SERVING");
    supervise(store, health, plan.probe_interval, stop).await;
    Ok(())
}

/// Keeps health in step with the database until `stop` is cancelled.
async fn supervise(
    store: Arc<dyn RelationalStore>,
    health: Health,
    interval: Duration,
    stop: CancellationToken,
) {
    let mut serving = true;
    loop {
        if store.is_connected() {
            if !serving && !stop.is_cancelled() {
                health.set_ready(true).await;
                tracing::info!(engine = store.engine(), "database back; SERVING");
                serving = true;
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(interval) => {}
                () = store.trouble() => {}
            }
            if store.is_connected() {
                let _ = store.probe().await;
            }
        } else {
            if serving {
                // Readiness only: liveness ("") stays SERVING so an orchestrator takes the pod
                // out of rotation instead of restarting a process that is only waiting.
                health.set_ready(false).await;
                tracing::warn!(
                    engine = store.engine(),
                    "database lost; NOT_SERVING until it is back"
                );
                serving = false;
            }
            if let Err(e) = store.connect().await {
                tracing::debug!(error = %e, "reconnect failed");
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(interval) => {}
                }
            }
        }
    }
}
