//! The chatmesh graph service: a property graph with a Cypher subset, on petgraph.
//!
//! The library is what `chatmesh-graph` and `chatmesh up` run: [`serve`] binds the configured
//! address, [`serve_on`] serves on a listener the caller bound (tests, `chatmesh up`). The code
//! follows the request: [`api`] (gRPC edge) → [`store`] (the `GraphStore` trait and its
//! durable embedded implementation on petgraph), with [`value`] (property values and names)
//! and [`seed`] (the demo organisation) beside them.

pub mod api;
pub mod cypher;
pub mod error;
pub mod seed;
pub mod store;
pub mod value;

use std::sync::{Arc, OnceLock};

use chatmesh_proto::graph::graph_service_server::{GraphServiceServer, SERVICE_NAME};
use chatmesh_runtime::DataDirArgs;
use chatmesh_runtime::config::ConfigError;
use chatmesh_runtime::{
    CancellationToken, GrpcServer, ServeError, ServerArgs, ServiceConfig, ServiceInfo,
};
use tokio::net::TcpListener;

use crate::store::{EmbeddedGraph, StoreOptions};

/// Who this service is and where it listens by default.
pub const INFO: ServiceInfo = ServiceInfo {
    name: "graph",
    fqn: SERVICE_NAME,
    default_port: 50053,
    file_descriptor_set: chatmesh_proto::FILE_DESCRIPTOR_SET,
};

/// Settings of the graph service (`chatmesh-graph --help` lists them with their env vars).
#[derive(Debug, Clone, clap::Parser)]
#[command(
    version,
    about = "The chatmesh graph service: a property graph with a Cypher subset, on petgraph."
)]
pub struct Config {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub data: DataDirArgs,
    /// Load the demo organisation (people, teams, services) if the graph is empty.
    #[arg(long, env = "CHATMESH_SEED_DEMO")]
    pub seed_demo: bool,
    /// Write-ahead log size, in bytes, that triggers a snapshot.
    #[arg(long, env = "CHATMESH_GRAPH_SNAPSHOT_AFTER_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub snapshot_after_bytes: u64,
}

impl ServiceConfig for Config {
    fn server(&self) -> &ServerArgs {
        &self.server
    }

    fn validate(&mut self) -> Result<(), ConfigError> {
        let dir = self.data.path(&INFO);
        chatmesh_runtime::config::ensure_writable_dir(&dir, "--data-dir (CHATMESH_DATA_DIR)")?;
        self.data.data_dir = Some(dir);
        Ok(())
    }
}

/// Runs the service on its configured address until `shutdown` is cancelled.
pub async fn serve(config: Config, shutdown: CancellationToken) -> Result<(), ServeError> {
    let listener = chatmesh_runtime::bind(config.server.listen_addr(&INFO)).await?;
    serve_on(config, listener, shutdown).await
}

/// Runs the service on `listener` until `shutdown` is cancelled. Health stays NOT_SERVING
/// (and calls answer UNAVAILABLE) until the store has loaded its snapshot and replayed its log.
pub async fn serve_on(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let ready: api::ReadyStore = Arc::new(OnceLock::new());
    let api = GraphServiceServer::new(api::GraphApi::new(ready.clone()))
        .max_decoding_message_size(config.server.max_message_bytes as usize);
    let server = GrpcServer::new(&INFO, &config.server)
        .await?
        .add_service(api);
    let dir = config.data.path(&INFO);
    let options = StoreOptions {
        snapshot_after_bytes: config.snapshot_after_bytes,
    };
    let seed_demo = config.seed_demo;
    let open = move || {
        let store = EmbeddedGraph::open(&dir, options)
            .map_err(|e| format!("cannot open the graph store: {e}"))?;
        if seed_demo {
            seed::demo(&store).map_err(|e| format!("cannot load the demo data: {e}"))?;
        }
        Ok(Arc::new(store) as _)
    };
    chatmesh_runtime::loading::serve_loading(server, listener, shutdown, ready, open, |store| {
        store.flush().map_err(|e| e.to_string())
    })
    .await
}
