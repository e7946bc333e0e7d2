//! Serving a service whose store loads at start (graph, vector): the port is open at once with
//! health NOT_SERVING and calls answering UNAVAILABLE, the store opens on a blocking thread
//! (snapshot, log replay, demo data), and only then does health say SERVING. A store that fails
//! to open stops the server with a start-up error. After shutdown the store is flushed (a final
//! snapshot makes the next start a load rather than a replay). [`serve_beside`] is the same
//! idea for a store on an external engine: a companion task keeps the engine and health in step.

use std::sync::{Arc, OnceLock};

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::{GrpcServer, ServeError};

/// Where the API finds the store once it has loaded.
pub type Ready<S> = Arc<OnceLock<Arc<S>>>;

/// Serves `server` on `listener` while `open` loads the store into `ready`; see the module docs.
pub async fn serve_loading<S>(
    server: GrpcServer,
    listener: TcpListener,
    shutdown: CancellationToken,
    ready: Ready<S>,
    open: impl FnOnce() -> Result<Arc<S>, String> + Send + 'static,
    flush: impl FnOnce(&S) -> Result<(), String> + Send + 'static,
) -> Result<(), ServeError>
where
    S: ?Sized + Send + Sync + 'static,
{
    let health = server.health();
    let load = async {
        let result = match tokio::task::spawn_blocking(open).await {
            Ok(Ok(store)) => {
                let _ = ready.set(store);
                health.set_serving().await;
                Ok(())
            }
            Ok(Err(e)) => Err(e),
            Err(e) => Err(format!("the store loader failed: {e}")),
        };
        if result.is_err() {
            shutdown.cancel();
        }
        result
    };
    let (served, loaded) = tokio::join!(server.serve(listener, shutdown.clone()), load);
    served?;
    loaded.map_err(ServeError::Startup)?;
    if let Some(store) = ready.get().cloned() {
        let flushed = tokio::task::spawn_blocking(move || flush(&store))
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
        if let Err(e) = flushed {
            tracing::warn!(error = %e, "flush at shutdown failed; the log keeps every write");
        }
    }
    Ok(())
}

/// Serves `server` on `listener` while `companion` keeps the service's engine in step (connect
/// at start, probe, reconnect, keep health right: the PostgreSQL and Bolt engines' lifecycles),
/// until `shutdown` is cancelled. Either ending ends the other: a server that stops stops the
/// companion (through the token it is given), and a companion that fails stops the server and
/// is reported as a start-up error.
pub async fn serve_beside<F, Fut>(
    server: GrpcServer,
    listener: TcpListener,
    shutdown: CancellationToken,
    companion: F,
) -> Result<(), ServeError>
where
    F: FnOnce(CancellationToken) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let stop = shutdown.child_token();
    let serving = async {
        let served = server.serve(listener, stop.clone()).await;
        stop.cancel();
        served
    };
    let living = async {
        let lived = companion(stop.clone()).await;
        if lived.is_err() {
            stop.cancel();
        }
        lived
    };
    let (served, lived) = tokio::join!(serving, living);
    lived.map_err(ServeError::Startup)?;
    served
}
