//! The chatmesh vector service: similarity search over embedded documents.
//!
//! The library is what `chatmesh-vector` and `chatmesh up` run: [`serve`] binds the configured
//! address, [`serve_on`] serves on a listener the caller bound (tests, `chatmesh up`). The code
//! follows the request: `api` (gRPC edge: handlers, `convert` the only protobuf-aware module,
//! `status` the one error mapping) → `vectors` (texts embedded with the collection's embedder
//! from `embed`) → `store` (the `VectorStore` trait and its engines; `embedded`: collections in
//! memory with hnsw_rs indexes, durable through a write-ahead log and snapshots; `postgres`:
//! tables with pgvector HNSW indexes, `--database-url`), all speaking the domain types of
//! `model`; `lifecycle` keeps health in step with the PostgreSQL engine's database. `wire` translates payloads and objects to protobuf for the API
//! and the embedded engine's log; `seed` is the demo data.

mod api;
mod embed;
mod error;
mod lifecycle;
mod memo;
mod metrics;
mod model;
mod seed;
mod store;
mod vectors;
mod wire;

pub use embed::EmbedderSetting;

#[doc(hidden)]
pub mod internals;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chatmesh_proto::vector::vector_service_server::{SERVICE_NAME, VectorServiceServer};
use chatmesh_runtime::auth::{ADMIN, CallerRules, Secret};
use chatmesh_runtime::config::{ConfigError, parse_duration};
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
    /// Most bytes each of the two caches for repeated searches may hold: query texts' vectors
    /// (both engines) and, on the embedded engine, searches' hits (kept while the collection is
    /// unchanged); 0 keeps nothing.
    #[arg(long, env = "CHATMESH_VECTOR_SEARCH_CACHE_BYTES", default_value_t = store::SEARCH_CACHE_BYTES)]
    pub search_cache_bytes: u64,
    /// Text embedder: `auto` (the static model when its files are in models/wordllama-l2-256 or
    /// /usr/share/chatmesh/models/wordllama-l2-256, else hashing-v1), `hashing-v1`, or
    /// `static:DIR` (a model directory with tokenizer.json and model.safetensors).
    #[arg(long, env = "CHATMESH_VECTOR_EMBEDDER", default_value = "auto")]
    pub embedder: EmbedderSetting,
    /// Write-ahead log size, in bytes, that triggers a snapshot.
    #[arg(long, env = "CHATMESH_VECTOR_SNAPSHOT_AFTER_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub snapshot_after_bytes: u64,
    /// Keep collections in PostgreSQL with the pgvector extension (`postgres://USER:PASS@HOST/DB`),
    /// shared by every vector replica; unset, the embedded engine keeps them in --data-dir.
    /// Prefer the environment variable: a flag's value shows in the process list.
    #[arg(
        long,
        env = "CHATMESH_VECTOR_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<Secret>,
    /// PostgreSQL engine: the most connections to the database.
    #[arg(long, env = "CHATMESH_VECTOR_DB_MAX_CONNECTIONS", value_name = "N",
          default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub database_max_connections: u32,
    /// PostgreSQL engine: the longest a call waits for a connection, and for its statements'
    /// answer, before it answers UNAVAILABLE.
    #[arg(long, env = "CHATMESH_VECTOR_DB_TIMEOUT", value_name = "DURATION",
          default_value = "5s", value_parser = parse_duration)]
    pub database_timeout: Duration,
    /// PostgreSQL engine: how often the database is probed; a lost database makes health
    /// NOT_SERVING until a probe reaches it again.
    #[arg(long, env = "CHATMESH_VECTOR_DB_PROBE_INTERVAL", value_name = "DURATION",
          default_value = "1s", value_parser = parse_duration)]
    pub database_probe_interval: Duration,
}

/// `url` without its user and password, for messages.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}…{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

impl ServiceConfig for Config {
    fn server(&self) -> &ServerArgs {
        &self.server
    }

    fn validate(&mut self) -> Result<(), ConfigError> {
        if let Some(url) = &self.database_url {
            store::check_url(url.expose()).map_err(|reason| ConfigError {
                setting: "--database-url (CHATMESH_VECTOR_DATABASE_URL)".into(),
                value: redacted(url.expose()),
                reason,
            })?;
            for (setting, value) in [
                (
                    "--database-timeout (CHATMESH_VECTOR_DB_TIMEOUT)",
                    self.database_timeout,
                ),
                (
                    "--database-probe-interval (CHATMESH_VECTOR_DB_PROBE_INTERVAL)",
                    self.database_probe_interval,
                ),
            ] {
                if value.is_zero() {
                    return Err(ConfigError {
                        setting: setting.into(),
                        value: "0s".into(),
                        reason: "must be longer than zero".into(),
                    });
                }
            }
            return Ok(());
        }
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
    let searches = Arc::new(store::Searches::new(config.search_cache_bytes));
    let queries = Arc::new(vectors::QueryVectors::new(config.search_cache_bytes));
    // Only the embedded engine keeps searches; both keep query vectors.
    let kept_searches = config.database_url.is_none().then(|| Arc::clone(&searches));
    let server = GrpcServer::new(&INFO, &config.server)
        .await?
        .add_service(api)
        .add_metrics(Arc::new(metrics::CacheMetrics::new(
            kept_searches,
            Arc::clone(&queries),
        )))
        .callers(CALLERS)?;
    let health = server.health();
    let seed_demo = config.seed_demo;
    let embedder = config.embedder.clone();
    let stop = shutdown.child_token();
    // The PostgreSQL engine, when configured: the loader waits for it, the lifecycle keeps
    // health in step with it afterwards.
    let database = match &config.database_url {
        Some(url) => Some(Arc::new(
            store::PgStore::new(&store::PgSettings {
                url: url.clone(),
                max_connections: config.database_max_connections,
                timeout: config.database_timeout,
            })
            .map_err(|e| ServeError::Startup(e.to_string()))?,
        )),
        None => None,
    };
    let settings = store::Settings::Embedded {
        dir: config.data.path(&INFO),
        snapshot_after_bytes: config.snapshot_after_bytes,
        full_scan_floats: config.full_scan_floats,
        searches: Arc::clone(&searches),
    };
    let interval = config.database_probe_interval;
    let opening = database.clone();
    let stopped = stop.clone();
    // Runs on the blocking pool: opening the embedded engine reads its files, the PostgreSQL
    // engine is waited for, and the demo data goes through the async domain.
    let open = move || {
        let handle = tokio::runtime::Handle::current();
        let mut reached = true;
        let store: Arc<dyn store::VectorStore> = match opening {
            Some(database) => {
                // Stopped before the database was reached: a clean shutdown, with a store that
                // answers UNAVAILABLE for the moments the server still drains.
                reached =
                    handle.block_on(lifecycle::connect_at_start(&database, interval, &stopped))?;
                database
            }
            None => {
                store::open(settings).map_err(|e| format!("cannot open the vector store: {e}"))?
            }
        };
        let embedders = embed::Embedders::load(&embedder)?;
        let vectors = Vectors::new(store, embedders, queries);
        if seed_demo && reached {
            handle
                .block_on(seed::demo(&vectors))
                .map_err(|e| format!("cannot load the demo data: {e}"))?;
        }
        Ok(Arc::new(vectors))
    };
    let loaded = ready.clone();
    let supervising = async {
        if let Some(database) = database {
            let loaded = move || loaded.get().is_some();
            lifecycle::supervise(database, loaded, health, interval, stop.clone()).await;
        }
    };
    let serving = async {
        let served = chatmesh_runtime::loading::serve_loading(
            server,
            listener,
            stop.clone(),
            ready,
            open,
            |vectors| {
                tokio::runtime::Handle::current()
                    .block_on(vectors.store().flush())
                    .map_err(|e| e.to_string())
            },
        )
        .await;
        stop.cancel();
        served
    };
    let (served, ()) = tokio::join!(serving, supervising);
    served
}
