//! The chatmesh graph service: a property graph with a Cypher subset, on petgraph.
//!
//! The library is what `chatmesh-graph` and `chatmesh up` run: [`serve`] binds the configured
//! address, [`serve_on`] serves on a listener the caller bound (tests, `chatmesh up`). The code
//! follows the request, top to bottom, each layer using only those below it:
//!
//! - `api/`: the gRPC edge. `mod.rs` the handlers, `convert/` the only code that knows the
//!   protobuf messages (requests → validated domain values, answers → messages), `status.rs`
//!   the one error mapping, `neighbors.rs` ListNeighbors paging (page tokens).
//! - `store/`: the async `GraphStore` trait the handlers call, speaking domain types only, and
//!   `open`, which opens the embedded engine. Two engines: `store/embedded/` (the default) is the
//!   in-memory engine and Cypher made durable by a write-ahead log and snapshots (`records.rs`
//!   the on-disk format, `snapshot.rs`, `graph_store.rs` inline fast paths or the blocking
//!   pool); `store/bolt/` is a Bolt server (Neo4j, Memgraph, ArcadeDB) through neo4rs,
//!   selected with `--graph-url`.
//! - `lifecycle.rs`: the Bolt engine's life beside the server: connect, seed, SERVING, then
//!   probe the engine every second and keep health in step with it.
//! - `seed.rs`: the demo organisation, written through an engine transaction (embedded) or
//!   through the store (Bolt).
//! - `cypher/`: the Cypher subset: lexer, parser (by clause, expression, pattern), ast, scope
//!   checks, run-time values, matcher, evaluator, executor, projection.
//! - `engine/`: the in-memory graph: petgraph state with our stable ids, transactions with
//!   undo, traversals, schema counts, the deadline budget.
//! - `model/`: the vocabulary: property values and limits, entities, walks, Cypher requests and
//!   results. `error.rs`: the domain error.

mod api;
mod cypher;
mod engine;
mod error;
mod lifecycle;
mod model;
mod seed;
mod store;

/// Internals for the crate's benchmarks (`benches/`), fuzz targets (the root `fuzz/`), example
/// (`examples/bulk_load.rs`) and the tests that drive the engine directly (`tests/model.rs`,
/// `tests/tck`, `tests/parser_robustness.rs`). Not an API: anything here may change at any time.
#[doc(hidden)]
pub mod internals {
    pub use crate::api::{node_to_pb, parameter_from_pb, relationship_to_pb, row_to_pb, status};
    pub use crate::cypher::{Graph, Output, Statement, execute, parse};
    pub use crate::engine::{Budget, EdgeData, GraphState, Txn};
    pub use crate::error::{GraphError, Result};
    pub use crate::model::{
        AccessMode, CypherQuery, Direction, FoundPath, Neighbor, NeighborQuery, Neighbors, Node,
        Path, PathQuery, Properties, QueryResult, QueryValue, Relationship, Row, Schema, Value,
        Weight, WriteStats,
    };
    pub use crate::store::embedded::{
        EmbeddedGraph, STATEMENT_OVERHEAD, STATEMENT_TREE_PER_BYTE, StoreOptions,
    };
}

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use chatmesh_proto::graph::graph_service_server::{GraphServiceServer, SERVICE_NAME};
use chatmesh_runtime::DataDirArgs;
use chatmesh_runtime::auth::{ADMIN, CallerRules};
use chatmesh_runtime::config::ConfigError;
use chatmesh_runtime::{
    CancellationToken, GrpcServer, ServeError, ServerArgs, ServiceConfig, ServiceInfo,
};
use tokio::net::TcpListener;

use crate::store::Settings;

/// Who this service is and where it listens by default.
pub const INFO: ServiceInfo = ServiceInfo {
    name: "graph",
    fqn: SERVICE_NAME,
    default_port: 50053,
    file_descriptor_set: chatmesh_proto::FILE_DESCRIPTOR_SET,
};

/// Who may call the graph when callers are checked (`--allow-callers`, `--allow-writers`
/// replace the lists): the router reads, the operators' `admin` identity reads and writes.
/// ExecuteQuery and StreamQuery write only in ACCESS_MODE_WRITE, which their handlers check.
const CALLERS: CallerRules = CallerRules::new(SERVICE_NAME)
    .callers(&["router", ADMIN])
    .writers(&[ADMIN])
    .writes(&[
        "CreateNode",
        "UpdateNode",
        "DeleteNode",
        "CreateRelationship",
        "DeleteRelationship",
    ]);

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
    /// Keep the graph on a Bolt server (Neo4j, Memgraph, ArcadeDB): `bolt://HOST:PORT` or
    /// `neo4j://HOST:PORT` (`+s` / `+ssc` for TLS). Unset: the embedded engine in --data-dir,
    /// which is then neither required nor created.
    #[arg(long, env = "CHATMESH_GRAPH_URL", value_name = "URL")]
    pub graph_url: Option<String>,
    /// The Bolt server's user.
    #[arg(
        long,
        env = "CHATMESH_GRAPH_USER",
        value_name = "USER",
        default_value = "neo4j"
    )]
    pub graph_user: String,
    /// A file holding the Bolt server's password (its first line). The password can also come
    /// from CHATMESH_GRAPH_PASSWORD; it is never a flag's value.
    #[arg(long, env = "CHATMESH_GRAPH_PASSWORD_FILE", value_name = "PATH")]
    pub graph_password_file: Option<PathBuf>,
    /// The database on the Bolt server [default: the server's default database].
    #[arg(long, env = "CHATMESH_GRAPH_DATABASE", value_name = "NAME")]
    pub graph_database: Option<String>,
    /// Memory one Cypher query may hold (its rows and collected lists, estimated): past it the
    /// query ends with RESOURCE_EXHAUSTED. Bytes, or with KiB, MiB or GiB.
    #[arg(long, env = "CHATMESH_GRAPH_QUERY_MEMORY", value_name = "SIZE",
          default_value = "64MiB", value_parser = parse_memory)]
    pub query_memory: u64,
    /// Memory the Cypher queries running at once may hold together: past it a query ends with
    /// RESOURCE_EXHAUSTED. At least --query-memory.
    #[arg(long, env = "CHATMESH_GRAPH_TOTAL_QUERY_MEMORY", value_name = "SIZE",
          default_value = "256MiB", value_parser = parse_memory)]
    pub total_query_memory: u64,
}

/// A memory size: bytes, or a whole number of KiB, MiB or GiB; at least 1 MiB.
fn parse_memory(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, ""),
    };
    let scale: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        other => return Err(format!("unknown unit {other:?}; use KiB, MiB or GiB")),
    };
    let bytes = digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("{text:?} is not a size such as 64MiB"))?;
    if bytes < 1 << 20 {
        return Err("must be at least 1MiB".into());
    }
    Ok(bytes)
}

/// The Bolt URL schemes neo4rs speaks.
const BOLT_SCHEMES: [&str; 6] = [
    "bolt",
    "bolt+s",
    "bolt+ssc",
    "neo4j",
    "neo4j+s",
    "neo4j+ssc",
];

impl Config {
    /// How to reach the Bolt server, when `--graph-url` is set: the password from
    /// `--graph-password-file`, else CHATMESH_GRAPH_PASSWORD, else empty.
    fn bolt_settings(&self) -> Result<Option<store::bolt::BoltSettings>, ConfigError> {
        let Some(url) = &self.graph_url else {
            return Ok(None);
        };
        let password = match &self.graph_password_file {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| ConfigError {
                    setting: "--graph-password-file (CHATMESH_GRAPH_PASSWORD_FILE)".into(),
                    value: path.display().to_string(),
                    reason: e.to_string(),
                })?
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned(),
            None => std::env::var("CHATMESH_GRAPH_PASSWORD").unwrap_or_default(),
        };
        Ok(Some(store::bolt::BoltSettings {
            url: url.clone(),
            user: self.graph_user.clone(),
            password,
            database: self.graph_database.clone(),
        }))
    }
}

impl ServiceConfig for Config {
    fn server(&self) -> &ServerArgs {
        &self.server
    }

    fn validate(&mut self) -> Result<(), ConfigError> {
        if self.total_query_memory < self.query_memory {
            return Err(ConfigError {
                setting: "--total-query-memory (CHATMESH_GRAPH_TOTAL_QUERY_MEMORY)".into(),
                value: self.total_query_memory.to_string(),
                reason: format!(
                    "must be at least --query-memory ({} bytes)",
                    self.query_memory
                ),
            });
        }
        if let Some(url) = &self.graph_url {
            let scheme = url.split_once("://").map(|(s, _)| s);
            if !scheme.is_some_and(|s| BOLT_SCHEMES.contains(&s)) {
                return Err(ConfigError {
                    setting: "--graph-url (CHATMESH_GRAPH_URL)".into(),
                    value: url.clone(),
                    reason: format!("the scheme must be one of {}", BOLT_SCHEMES.join(", ")),
                });
            }
            self.bolt_settings()?;
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
    let api = GraphServiceServer::new(api::GraphApi::new(ready.clone()))
        .max_decoding_message_size(config.server.max_message_bytes as usize);
    let server = GrpcServer::new(&INFO, &config.server)
        .await?
        .add_service(api)
        .callers(CALLERS)?;
    if let Some(bolt) = config
        .bolt_settings()
        .map_err(|e| ServeError::Startup(e.to_string()))?
    {
        let plan = lifecycle::Plan {
            settings: bolt,
            seed_demo: config.seed_demo,
        };
        return lifecycle::serve(server, listener, shutdown, ready, plan).await;
    }
    let settings = Settings {
        dir: config.data.path(&INFO),
        snapshot_after_bytes: config.snapshot_after_bytes,
        query_memory: config.query_memory,
        total_query_memory: config.total_query_memory,
        seed_demo: config.seed_demo,
    };
    chatmesh_runtime::loading::serve_loading(
        server,
        listener,
        shutdown,
        ready,
        move || store::open(settings),
        // Runs on the blocking pool, so it may wait for the async flush.
        |store| {
            tokio::runtime::Handle::current()
                .block_on(store.flush())
                .map_err(|e| e.to_string())
        },
    )
    .await
}
