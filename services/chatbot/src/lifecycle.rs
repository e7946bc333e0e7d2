//! The chatbot's life beside the gRPC server: make the session store usable, report SERVING,
//! then keep health in step with it and sweep expired sessions.
//!
//! Sessions in memory are always there: SERVING at once. Sessions in PostgreSQL are a hard
//! dependency (a turn without its session would answer a follow-up wrongly), so:
//! - at start, health stays NOT_SERVING until the database is reached and migrated, retrying
//!   every `--session-db-probe-interval` while it is unreachable; a database that answers but
//!   cannot be used (credentials, a migration that does not apply) stops the service;
//! - then the database is probed every interval, and soon after a call met trouble (at most
//!   four probes per interval). A failed probe marks it lost: readiness turns NOT_SERVING (so
//!   the orchestrator sends turns to other replicas), calls answer UNAVAILABLE without waiting,
//!   and the lifecycle reconnects until it is back, then reports SERVING. No restart. Liveness
//!   (`""`) stays SERVING throughout: the process is healthy, only waiting.
//!
//! Every `--session-sweep-interval`, expired sessions are deleted (in memory too, so abandoned
//! sessions free their memory before the size bound pushes them out).

use std::sync::Arc;
use std::time::Duration;

use chatmesh_runtime::{CancellationToken, Health};
use tokio::time::Instant;

use crate::store::{Database, SessionStore, StoreError};

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
    database: Option<Arc<dyn Database>>,
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
    if !connect_at_start(database.as_ref(), plan.probe_interval, &stop).await? {
        return Ok(());
    }
    health.set_serving().await;
    tracing::info!(
        engine = database.engine(),
        "session database ready; SERVING"
    );
    tokio::join!(
        supervise(database, health, plan.probe_interval, stop),
        sweeping
    );
    Ok(())
}

/// Connects, retrying every `interval` while the database is unreachable. `Ok(false)` when
/// `stop` came first.
async fn connect_at_start(
    database: &dyn Database,
    interval: Duration,
    stop: &CancellationToken,
) -> Result<bool, String> {
    let mut reported = false;
    loop {
        match database.connect().await {
            Ok(()) => return Ok(true),
            Err(StoreError::Unavailable(reason)) => {
                if !reported {
                    tracing::warn!(engine = database.engine(), %reason,
                        "session database unreachable at start; NOT_SERVING, retrying");
                    reported = true;
                }
                if !pause(interval, stop).await {
                    return Ok(false);
                }
            }
            Err(e) => return Err(format!("cannot open the session database: {e}")),
        }
    }
}

/// Keeps readiness in step with the database until `stop` is cancelled.
async fn supervise(
    database: Arc<dyn Database>,
    health: Health,
    interval: Duration,
    stop: CancellationToken,
) {
    let mut serving = true;
    let mut last_probe = Instant::now();
    loop {
        let connected = database.is_connected();
        if connected != serving && !stop.is_cancelled() {
            health.set_ready(connected).await;
            log_readiness(database.engine(), connected);
            serving = connected;
        }
        let go_on = if connected {
            watch(database.as_ref(), interval, &mut last_probe, &stop).await
        } else {
            reconnect(database.as_ref(), interval, &stop).await
        };
        if !go_on {
            return;
        }
    }
}

fn log_readiness(engine: &str, connected: bool) {
    if connected {
        tracing::info!(engine, "session database back; SERVING");
    } else {
        tracing::warn!(
            engine,
            "session database lost; NOT_SERVING until it is back"
        );
    }
}

/// Waits for the next probe, or for a call to report trouble (but no sooner than a quarter
/// interval after the last probe), then probes. False when `stop` came first.
async fn watch(
    database: &dyn Database,
    interval: Duration,
    last_probe: &mut Instant,
    stop: &CancellationToken,
) -> bool {
    let woken = async {
        database.trouble().await;
        tokio::time::sleep_until(*last_probe + interval / 4).await;
    };
    tokio::select! {
        () = stop.cancelled() => return false,
        () = tokio::time::sleep(interval) => {}
        () = woken => {}
    }
    let _ = database.probe().await;
    *last_probe = Instant::now();
    true
}

/// One reconnection attempt, and a pause after a failed one. False when `stop` came first.
async fn reconnect(database: &dyn Database, interval: Duration, stop: &CancellationToken) -> bool {
    match database.connect().await {
        Ok(()) => true,
        Err(e) => {
            tracing::debug!(error = %e, "session database reconnect failed");
            pause(interval, stop).await
        }
    }
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

/// Sleeps for `interval`; false when `stop` is cancelled first.
async fn pause(interval: Duration, stop: &CancellationToken) -> bool {
    tokio::select! {
        () = stop.cancelled() => false,
        () = tokio::time::sleep(interval) => true,
    }
}
