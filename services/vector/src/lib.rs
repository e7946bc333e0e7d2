//! The chatmesh vector service: similarity search over embedded documents.
//!
//! The library is what `chatmesh-vector` and `chatmesh up` run: [`serve`] binds the configured
//! address, [`serve_on`] serves on a listener the caller bound (tests, `chatmesh up`). The code
//! follows the request: `api` (gRPC edge: handlers, `convert` the only protobuf-aware module,
//! `status` the one error mapping) → `vectors` (texts embedded with the collection's embedder
//! from `embed`) → `store` (the `VectorStore` trait and its engines; `embedded`: collections in
//! memory with hnsw_rs indexes, durable through a write-ahead log and snapshots), all speaking
//! the domain types of `model`. `wire` translates payloads and objects to protobuf for the API
//! and the embedded engine's log; `seed` is the demo data.


mod api;
mod embed;
mod error;
mod model;
mod seed;
mod store;
mod vectors;
mod wire;

pub use embed::EmbedderSetting;

#[doc(hidden)]
pub mod internals;

use std::sync::{Arc, OnceLock};

use chatmesh_proto::vector::vector_service_server::{SERVICE_NAME, VectorServiceServer};
use chatmesh_runtime::auth::{ADMIN, CallerRules};
use chatmesh_runtime::config::ConfigError;
use chatmesh_runtime::{
    CancellationToken, DataDirArgs, GrpcServer, ServeError, ServerArgs, ServiceConfig, ServiceInfo,
};
use tokio::net::TcpListener;

use crate::api::{Limits, VectorApi};
use crate::vectors::Vectors;

/// Who this service is and where it listens by default.
pub const INFO: ServiceInfo = ServiceInfo {
    name: "vector",
    fqn: SERVICE_NAME,
    default_port: 50054,
    file_descriptor_set: chatmesh_proto::FILE_DESCRIPTOR_SET,
};

/// Who may call the vector service when callers are checked (`--allow-callers`,
/// `--allow-writers` replace the lists): the router reads (searches, embeds, looks up), the
/// operators' `admin` identity also changes collections and objects.
const CALLERS: CallerRules = CallerRules::new(SERVICE_NAME)
    .callers(&["router", ADMIN])
    .writers(&[ADMIN])
    .writes(&[
        "CreateCollection",
        "DeleteCollection",
        "UpsertObjects",
        "StreamUpsertObjects",
        "DeleteObjects",
        "CompactCollection",
        "ReembedCollection",
    ]);

/// Settings of the vector service (`chatmesh-vector --help` lists them with their env vars).
#[derive(Debug, Clone, clap::Parser)]
#[command(
    version,
    about = "The chatmesh vector service: similarity search over embedded documents, on hnsw_rs."
)]
pub struct Config {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub data: DataDirArgs,
    /// Create and fill the demo `docs` collection if it does not exist.
    #[arg(long, env = "CHATMESH_SEED_DEMO")]
    pub seed_demo: bool,
    /// Largest k a search may ask for (at most 1000).
    #[arg(long, env = "CHATMESH_VECTOR_MAX_K", default_value_t = 1000,
          value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub max_k: u16,
    /// Most objects or ids in one write (at most 1000).
    #[arg(long, env = "CHATMESH_VECTOR_MAX_BATCH", default_value_t = 1000,
          value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub max_batch: u16,
    /// Searches over at most this many vector components (candidates × dimension) scan exactly
    /// instead of walking the HNSW graph; 0 always uses the graph.
    #[arg(long, env = "CHATMESH_VECTOR_FULL_SCAN_FLOATS", default_value_t = store::FULL_SCAN_FLOATS)]
    pub full_scan_floats: usize,
    /// Text embedder: `auto` (the static model when its files are in models/wordllama-l2-256 or
    /// /usr/share/chatmesh/models/wordllama-l2-256, else hashing-v1), `hashing-v1`, or
    /// `static:DIR` (a model directory with tokenizer.json and model.safetensors).
    #[arg(long, env = "CHATMESH_VECTOR_EMBEDDER", default_value = "auto")]
    pub embedder: EmbedderSetting,
    /// Write-ahead log size, in bytes, that triggers a snapshot.
    #[arg(long, env = "CHATMESH_VECTOR_SNAPSHOT_AFTER_BYTES", default_value_t = 64 * 1024 * 1024)]
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
    let limits = Limits {
        max_k: config.max_k.into(),
        max_batch: config.max_batch.into(),
    };
    let api = VectorServiceServer::new(VectorApi::new(ready.clone(), limits))
        .max_decoding_message_size(config.server.max_message_bytes as usize);
    let server = GrpcServer::new(&INFO, &config.server)
        .await?
        .add_service(api)
        .callers(CALLERS)?;
    let settings = store::Settings::Embedded {
        dir: config.data.path(&INFO),
        snapshot_after_bytes: config.snapshot_after_bytes,
        full_scan_floats: config.full_scan_floats,
    };
    let seed_demo = config.seed_demo;
    let embedder = config.embedder.clone();
    // Runs on the blocking pool: opening the embedded engine reads its files, and the demo data
    // goes through the async domain, which this thread may wait for.
    let open = move || {
        let store =
            store::open(settings).map_err(|e| format!("cannot open the vector store: {e}"))?;
        let embedders = embed::Embedders::load(&embedder)?;
        let vectors = Vectors::new(store, embedders);
        if seed_demo {
            tokio::runtime::Handle::current()
                .block_on(seed::demo(&vectors))
                .map_err(|e| format!("cannot load the demo data: {e}"))?;
        }
        Ok(Arc::new(vectors))
    };
    chatmesh_runtime::loading::serve_loading(server, listener, shutdown, ready, open, |vectors| {
        tokio::runtime::Handle::current()
            .block_on(vectors.store().flush())
            .map_err(|e| e.to_string())
    })
    .await
}
