//! Health beside the gRPC server when collections live in PostgreSQL (`--database-url`): the
//! database is a hard dependency, kept in step with health by the shared loop of
//! `chatmesh_runtime::dependency`. The loader waits for it at start ([`connect_at_start`]:
//! NOT_SERVING and calls UNAVAILABLE meanwhile, retrying every `--database-probe-interval`; a
//! database that answers but cannot be used, such as one without pgvector, stops the service);
//! once the loader has finished, [`supervise`] probes it and turns readiness off while it is
//! lost. Liveness (`""`) stays SERVING throughout: the process is healthy, only waiting.
//!
//! The embedded engine needs none of this (`chatmesh_runtime::loading` reports SERVING once it
//! has loaded).

use std::sync::Arc;
use std::time::Duration;

use chatmesh_runtime::dependency::{self, Dependency, Unreached, pause};
use chatmesh_runtime::{CancellationToken, Health};

use crate::error::VectorError;
use crate::store::PgStore;

/// Connects, retrying every `interval` while the database is unreachable. `Ok(false)` when
/// `stop` came first.
pub(crate) async fn connect_at_start(
    database: &PgStore,
    interval: Duration,
    stop: &CancellationToken,
) -> Result<bool, String> {
    dependency::connect_at_start(database, interval, stop).await
}

/// Keeps readiness in step with the database once `loaded` is true, until `stop`.
pub(crate) async fn supervise(
    database: Arc<PgStore>,
    loaded: impl Fn() -> bool,
    health: Health,
    interval: Duration,
    stop: CancellationToken,
) {
    while !loaded() {
        if !pause(Duration::from_millis(20), &stop).await {
            return;
        }
    }
    dependency::supervise(database.as_ref(), &health, interval, &stop).await;
}

#[tonic::async_trait]
impl Dependency for PgStore {
    fn name(&self) -> &'static str {
        "vector database"
    }

    fn location(&self) -> String {
        "postgres".to_owned()
    }

    async fn connect(&self) -> Result<(), Unreached> {
        PgStore::connect(self).await.map_err(|e| match e {
            VectorError::Unavailable(reason) => Unreached::Unreachable(reason),
            other => Unreached::Unusable(other.to_string()),
        })
    }

    fn is_connected(&self) -> bool {
        PgStore::is_connected(self)
    }

    async fn probe(&self) {
        let _ = PgStore::probe(self).await;
    }

    async fn trouble(&self) {
        PgStore::trouble(self).await;
    }
}
