//! The service's life beside the gRPC server: connect and migrate at start (health NOT_SERVING
//! meanwhile), seed the demo rows when asked, report SERVING, then supervise the database with
//! the shared loop of `chatmesh_runtime::dependency`.
//!
//! The database is probed every `--db-probe-interval` (and soon after a call found it gone).
//! While it is lost, readiness is NOT_SERVING and calls answer UNAVAILABLE without waiting; the
//! loop reconnects (re-running the idempotent migrations) until it is back, then reports SERVING
//! again. No restart is needed.

use std::sync::Arc;
use std::time::Duration;

use chatmesh_runtime::dependency::{self, Dependency, Unreached};
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
/// reason other than being unreachable (bad credentials, a migration that does not apply), or
/// the demo rows cannot be inserted.
pub(crate) async fn run(
    store: Arc<dyn RelationalStore>,
    health: Health,
    plan: Plan,
    stop: CancellationToken,
) -> Result<(), String> {
    let engine = Database(store.clone());
    let seed_demo = plan.seed_demo;
    dependency::run(
        &engine,
        &health,
        plan.probe_interval,
        &stop,
        move || async move {
            if seed_demo {
                seed(store.as_ref()).await?;
            }
            Ok(())
        },
    )
    .await
}

async fn seed(store: &dyn RelationalStore) -> Result<(), String> {
    let added = crate::seed::seed_demo(store)
        .await
        .map_err(|e| format!("cannot seed the demo orders: {e}"))?;
    tracing::info!(added, "demo orders seeded");
    Ok(())
}

/// The database as the shared lifecycle sees it.
struct Database(Arc<dyn RelationalStore>);

#[tonic::async_trait]
impl Dependency for Database {
    fn name(&self) -> &'static str {
        "database"
    }

    fn location(&self) -> String {
        self.0.engine().to_owned()
    }

    async fn connect(&self) -> Result<(), Unreached> {
        self.0.connect().await.map_err(|e| match e {
            Error::Unavailable(reason) => Unreached::Unreachable(reason),
            other => Unreached::Unusable(other.to_string()),
        })
    }

    fn is_connected(&self) -> bool {
        self.0.is_connected()
    }

    async fn probe(&self) {
        let _ = self.0.probe().await;
    }

    async fn trouble(&self) {
        self.0.trouble().await;
    }
}
