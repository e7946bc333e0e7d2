//! Health beside the gRPC server when collections live in PostgreSQL (`--database-url`), as in
//! the chatbot's session lifecycle: the database is a hard dependency, so
//! - at start, health stays NOT_SERVING (and calls UNAVAILABLE) until the database is reached
//!   and its schema set up, retrying every `--database-probe-interval`; a database that answers
//!   but cannot be used (credentials, a missing pgvector) stops the service;
//! - then the database is probed every interval, and soon after a call met trouble. A failed
//!   probe turns readiness NOT_SERVING and calls answer UNAVAILABLE at once; reconnects follow
//!   every interval until it is back, then readiness is SERVING again. Liveness (`""`) stays
//!   SERVING throughout: the process is healthy, only waiting.
//!
//! The embedded engine needs none of this (`chatmesh_runtime::loading` reports SERVING once it
//! has loaded).

use std::sync::Arc;
use std::time::Duration;

use chatmesh_runtime::{CancellationToken, Health};
use tokio::time::Instant;

use crate::error::VectorError;
use crate::store::PgStore;

/// Connects, retrying every `interval` while the database is unreachable. `Ok(false)` when
/// `stop` came first.
pub(crate) async fn connect_at_start(
    database: &PgStore,
    interval: Duration,
    stop: &CancellationToken,
) -> Result<bool, String> {
    let mut reported = false;
    loop {
        match database.connect().await {
            Ok(()) => return Ok(true),
            Err(VectorError::Unavailable(reason)) => {
                if !reported {
                    tracing::warn!(%reason, "vector database unreachable at start; NOT_SERVING, retrying");
                    reported = true;
                }
                if !pause(interval, stop).await {
                    return Ok(false);
                }
            }
            Err(e) => return Err(format!("cannot open the vector database: {e}")),
        }
    }
}

/// Keeps readiness in step with the database once `loaded` is true, until `stop`.
pub(crate) async fn supervise(
    database: Arc<PgStore>,
    loaded: impl Fn() -> bool,
    health: Health,
    interval: Duration,
    stop: CancellationToken,
) {
    if !wait_loaded(loaded, &stop).await {
        return;
    }
    let mut serving = true;
    let mut last_probe = Instant::now();
    loop {
        let connected = database.is_connected();
        if connected != serving && !stop.is_cancelled() {
            health.set_ready(connected).await;
            log_readiness(connected);
            serving = connected;
        }
        let go_on = if connected {
            watch(&database, interval, &mut last_probe, &stop).await
        } else {
            reconnect(&database, interval, &stop).await
        };
        if !go_on {
            return;
        }
    }
}

/// Waits until the loader has set the store up (it reported SERVING). False when `stop` came
/// first.
async fn wait_loaded(loaded: impl Fn() -> bool, stop: &CancellationToken) -> bool {
    while !loaded() {
        if !pause(Duration::from_millis(20), stop).await {
            return false;
        }
    }
    true
}

fn log_readiness(connected: bool) {
    if connected {
        tracing::info!("vector database back; SERVING");
    } else {
        tracing::warn!("vector database lost; NOT_SERVING until it is back");
    }
}

/// One reconnection attempt, and a pause after a failed one. False when `stop` came first.
async fn reconnect(database: &PgStore, interval: Duration, stop: &CancellationToken) -> bool {
    match database.connect().await {
        Ok(()) => true,
        Err(e) => {
            tracing::debug!(error = %e, "vector database reconnect failed");
            pause(interval, stop).await
        }
    }
}

/// Waits for the next probe, or for a call to report trouble (but no sooner than a quarter
/// interval after the last probe), then probes. False when `stop` came first.
async fn watch(
    database: &PgStore,
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

/// Sleeps for `interval`; false when `stop` is cancelled first.
async fn pause(interval: Duration, stop: &CancellationToken) -> bool {
    tokio::select! {
        () = stop.cancelled() => false,
        () = tokio::time::sleep(interval) => true,
    }
}
