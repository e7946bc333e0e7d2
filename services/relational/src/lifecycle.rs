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
    if !connect_at_start(store.as_ref(), plan.probe_interval, &stop).await? {
        return Ok(());
    }
    if plan.seed_demo {
        seed(store.as_ref()).await?;
    }
    if stop.is_cancelled() {
        return Ok(());
    }
    health.set_serving().await;
    tracing::info!(engine = store.engine(), "database ready; SERVING");
    supervise(store, health, plan.probe_interval, stop).await;
    Ok(())
}

/// Connects, retrying every `interval` while the database is unreachable. `Ok(false)` when `stop`
/// came first; an error for any other reason the database cannot be opened.
async fn connect_at_start(
    store: &dyn RelationalStore,
    interval: Duration,
    stop: &CancellationToken,
) -> Result<bool, String> {
    let mut reported = false;
    loop {
        match store.connect().await {
            Ok(()) => return Ok(true),
            Err(Error::Unavailable(reason)) => {
                if !reported {
                    tracing::warn!(engine = store.engine(), %reason,
                        "database unreachable at start; NOT_SERVING, retrying");
                    reported = true;
                }
                if !pause(interval, stop).await {
                    return Ok(false);
                }
            }
            Err(e) => return Err(format!("cannot open the database: {e}")),
        }
    }
}

async fn seed(store: &dyn RelationalStore) -> Result<(), String> {
    let added = crate::seed::seed_demo(store)
        .await
        .map_err(|e| format!("cannot seed the demo orders: {e}"))?;
    tracing::info!(added, "demo orders seeded");
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
        let go_on = if store.is_connected() {
            if !serving && !stop.is_cancelled() {
                health.set_ready(true).await;
                tracing::info!(engine = store.engine(), "database back; SERVING");
                serving = true;
            }
            watch(store.as_ref(), interval, &stop).await
        } else {
            if serving {
                report_lost(&health, store.engine()).await;
                serving = false;
            }
            reconnect(store.as_ref(), interval, &stop).await
        };
        if !go_on {
            return;
        }
    }
}

/// Waits for the next probe (or for a call to report trouble), then probes a connected
/// database. False when `stop` came first.
async fn watch(store: &dyn RelationalStore, interval: Duration, stop: &CancellationToken) -> bool {
    tokio::select! {
        () = stop.cancelled() => return false,
        () = tokio::time::sleep(interval) => {}
        () = store.trouble() => {}
    }
    if store.is_connected() {
        let _ = store.probe().await;
    }
    true
}

/// One reconnection attempt, and a pause after a failed one. False when `stop` came first.
async fn reconnect(
    store: &dyn RelationalStore,
    interval: Duration,
    stop: &CancellationToken,
) -> bool {
    match store.connect().await {
        Ok(()) => true,
        Err(e) => {
            tracing::debug!(error = %e, "reconnect failed");
            pause(interval, stop).await
        }
    }
}

async fn report_lost(health: &Health, engine: &str) {
    // Readiness only: liveness ("") stays SERVING so an orchestrator takes the pod out of
    // rotation instead of restarting a process that is only waiting.
    health.set_ready(false).await;
    tracing::warn!(engine, "database lost; NOT_SERVING until it is back");
}

/// Sleeps for `interval`; false when `stop` is cancelled first.
async fn pause(interval: Duration, stop: &CancellationToken) -> bool {
    tokio::select! {
        () = stop.cancelled() => false,
        () = tokio::time::sleep(interval) => true,
    }
}
