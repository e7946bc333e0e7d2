//! The chatmesh router: classifies requests, dispatches them to the data services, and serves
//! them as MCP tools.
//!
//! The library is what `chatmesh-router` and `chatmesh up` run: [`serve`] binds the configured
//! address, [`serve_on`] serves on a listener the caller bound (tests, `chatmesh up`).
//! [`mcp_stdio`] is what `chatmesh mcp` runs: the same tools over stdio, from a router reached
//! over gRPC.
//!
//! Code map, in request order: `api/` (the gRPC edge: handlers, `convert.rs` for requests and
//! pages, `status.rs` the one error mapping) → `routing/` (the rules file, `Classifier::decide`,
//! pure; `execute` runs a plan) and `tools/` (the MCP tools: each tool's arguments are one
//! struct that gives its schema and its typing) → `backends/` (one trait per data service; the
//! gRPC implementations) → `pool/` (addresses, health, retries, breakers per backend). `mcp/`
//! serves the tools over MCP (streamable HTTP at `/mcp`, stdio). `free_query.rs` says who may
//! send free-form Cypher. `settings.rs` holds the setting groups of [`Config`].
//!
//! Readiness: the router reports SERVING as soon as its own server is up, whatever the state of
//! its backends. Each query needs only one backend, so a router taken out of rotation because
//! one backend is down would fail the queries the others could answer; instead, calls to a down
//! backend fail fast with UNAVAILABLE naming it, and `ListBackends` reports every address's
//! health and breaker state.

mod api;
mod backends;
mod free_query;
mod mcp;
mod pool;
mod routing;
mod settings;
mod tools;

use std::path::PathBuf;
use std::sync::Arc;

use chatmesh_proto::router::router_service_server::{RouterServiceServer, SERVICE_NAME};
use chatmesh_runtime::auth::{ADMIN, CallerRules, ServiceTokenArgs};
use chatmesh_runtime::channel::ClientArgs;
use chatmesh_runtime::config::ConfigError;
use chatmesh_runtime::{
    CancellationToken, EdgeArgs, GrpcServer, ServeError, ServerArgs, ServiceConfig, ServiceInfo,
};
use tokio::net::TcpListener;

use backends::Backends;
use pool::Pool;
use routing::{Classifier, Rules};
pub use settings::{McpArgs, ResilienceArgs};

/// Who this service is and where it listens by default.
pub const INFO: ServiceInfo = ServiceInfo {
    name: "router",
    fqn: SERVICE_NAME,
    default_port: 50052,
    file_descriptor_set: chatmesh_proto::FILE_DESCRIPTOR_SET,
};

/// Who may call the router's gRPC API when callers are checked (`--allow-callers` replaces the
/// list): the chatbot and the operators' `admin` identity. Nothing in it writes. `/mcp` is the
/// public edge instead, for users (bearer tokens).
const CALLERS: CallerRules = CallerRules::new(SERVICE_NAME).callers(&["chatbot", ADMIN]);

/// Settings of the router service (`chatmesh-router --help` lists them with their env vars).
#[derive(Debug, Clone, clap::Parser)]
#[command(
    version,
    about = "The chatmesh router: classifies requests, dispatches them to the data services, and serves them as MCP tools."
)]
pub struct Config {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Address(es) of the graph service: comma-separated `HOST:PORT` or `http://HOST:PORT`; a
    /// DNS name (e.g. a Kubernetes headless service) stands for every address it resolves to.
    #[arg(
        long,
        env = "CHATMESH_GRAPH_ADDR",
        value_name = "ADDRS",
        default_value = "http://127.0.0.1:50053"
    )]
    pub graph_addr: String,
    /// Address(es) of the vector service (same forms as --graph-addr).
    #[arg(
        long,
        env = "CHATMESH_VECTOR_ADDR",
        value_name = "ADDRS",
        default_value = "http://127.0.0.1:50054"
    )]
    pub vector_addr: String,
    /// Address(es) of the relational service (same forms as --graph-addr).
    #[arg(
        long,
        env = "CHATMESH_RELATIONAL_ADDR",
        value_name = "ADDRS",
        default_value = "http://127.0.0.1:50055"
    )]
    pub relational_addr: String,
    /// Routing rules file (TOML); the built-in rules when unset.
    #[arg(long, env = "CHATMESH_ROUTER_RULES", value_name = "PATH")]
    pub rules: Option<PathBuf>,
    /// Vector collection searched when neither hints nor rules name one [default: the rules'
    /// `defaults.collection`, "docs" in the built-in rules].
    #[arg(long, env = "CHATMESH_ROUTER_DEFAULT_COLLECTION", value_name = "NAME")]
    pub default_collection: Option<String>,
    #[command(flatten)]
    pub resilience: ResilienceArgs,
    #[command(flatten)]
    pub client: ClientArgs,
    /// The router's own token for the backends' peer tokens tables (without mTLS).
    #[command(flatten)]
    pub service_token: ServiceTokenArgs,
    #[command(flatten)]
    pub mcp: McpArgs,
    /// Bearer tokens and rate limits on the MCP endpoint (`/mcp`); the gRPC API is internal.
    #[command(flatten)]
    pub edge: EdgeArgs,
    /// The rules, loaded and validated by `validate` (the built-in ones when `rules` is unset).
    #[arg(skip)]
    pub(crate) loaded_rules: Option<Rules>,
}

impl ServiceConfig for Config {
    fn server(&self) -> &ServerArgs {
        &self.server
    }

    fn validate(&mut self) -> Result<(), ConfigError> {
        self.edge.validate()?;
        self.service_token.bearer()?;
        settings::check_backend_addrs(
            &self.graph_addr,
            "--graph-addr (CHATMESH_GRAPH_ADDR)",
            &self.client,
        )?;
        settings::check_backend_addrs(
            &self.vector_addr,
            "--vector-addr (CHATMESH_VECTOR_ADDR)",
            &self.client,
        )?;
        settings::check_backend_addrs(
            &self.relational_addr,
            "--relational-addr (CHATMESH_RELATIONAL_ADDR)",
            &self.client,
        )?;
        if let Some(collection) = &self.default_collection
            && collection.trim().is_empty()
        {
            return Err(ConfigError {
                setting: "--default-collection (CHATMESH_ROUTER_DEFAULT_COLLECTION)".into(),
                value: collection.clone(),
                reason: "must not be empty".into(),
            });
        }
        let ratio = self.resilience.retry_budget_ratio;
        if !(0.0..=10.0).contains(&ratio) {
            return Err(ConfigError {
                setting: "--retry-budget-ratio (CHATMESH_RETRY_BUDGET_RATIO)".into(),
                value: ratio.to_string(),
                reason: "must be between 0 and 10".into(),
            });
        }
        self.loaded_rules = Some(settings::load_rules(self.rules.as_deref())?);
        Ok(())
    }
}

/// Runs the service on its configured address until `shutdown` is cancelled.
pub async fn serve(config: Config, shutdown: CancellationToken) -> Result<(), ServeError> {
    let listener = chatmesh_runtime::bind(config.server.listen_addr(&INFO)).await?;
    serve_on(config, listener, shutdown).await
}

/// Starts the three backend pools (address resolution, health watches) and returns them with
/// the backend traits over them. The pools stop when `stop` is cancelled.
async fn connect_backends(
    config: &Config,
    stop: &CancellationToken,
) -> Result<(Backends, Vec<Arc<Pool>>), ServeError> {
    use backends::grpc::{GrpcGraph, GrpcRelational, GrpcVector};
    use chatmesh_proto::graph::graph_service_server::SERVICE_NAME as GRAPH;
    use chatmesh_proto::relational::relational_service_server::SERVICE_NAME as RELATIONAL;
    use chatmesh_proto::router::Target;
    use chatmesh_proto::vector::vector_service_server::SERVICE_NAME as VECTOR;
    // Backend calls use the service's own mTLS identity and token when it has them.
    let mut client = config.client.clone();
    if client.tls.is_none() {
        client.with_tls(&config.server.tls)?;
    }
    if !client.token.is_set() {
        client.with_token(&config.service_token)?;
    }
    let settings = config.resilience.pool_settings(&client);
    let start = |target, fqn, spec: &str| {
        let settings = settings.clone();
        let stop = stop.child_token();
        let spec = spec.to_owned();
        async move {
            Pool::start(target, fqn, &spec, settings, stop)
                .await
                .map_err(ServeError::Startup)
        }
    };
    let graph = start(Target::Graph, GRAPH, &config.graph_addr).await?;
    let vector = start(Target::Vector, VECTOR, &config.vector_addr).await?;
    let relational = start(Target::Relational, RELATIONAL, &config.relational_addr).await?;
    let backends = Backends {
        graph: Arc::new(GrpcGraph(Arc::clone(&graph))),
        vector: Arc::new(GrpcVector(Arc::clone(&vector))),
        relational: Arc::new(GrpcRelational(Arc::clone(&relational))),
    };
    Ok((backends, vec![graph, vector, relational]))
}

/// Runs the service on `listener` until `shutdown` is cancelled.
pub async fn serve_on(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let rules = match config.loaded_rules.clone() {
        Some(rules) => rules,
        None => settings::load_rules(config.rules.as_deref())
            .map_err(|e| ServeError::Startup(e.to_string()))?,
    };
    let classifier = Classifier::new(rules, config.default_collection.clone());
    let pools_stop = CancellationToken::new();
    let _stop_pools = pools_stop.clone().drop_guard();
    let (backends, pools) = connect_backends(&config, &pools_stop).await?;
    let backend_metrics = Arc::new(pool::metrics::BackendMetrics::new(pools.clone()));
    let registry = tools::ToolRegistry::new(backends.clone())
        .with_router(std::sync::Arc::new(classifier.clone()));
    let api = RouterServiceServer::new(api::RouterApi::new(
        classifier,
        backends,
        pools,
        registry.clone(),
    ))
    .max_decoding_message_size(config.server.max_message_bytes as usize);
    let server = GrpcServer::new(&INFO, &config.server)
        .await?
        .add_service(api)
        .add_http(mcp::http::router(registry, &config.mcp, shutdown.clone()))
        .add_metrics(backend_metrics)
        .edge([mcp::http::PATH], &config.edge)?
        .callers(CALLERS)?;
    server.health().set_serving().await;
    server.serve(listener, shutdown).await
}

/// What `chatmesh mcp` runs: an MCP server on this process's stdin and stdout offering the tools
/// of a router reached over gRPC (`ListTools`, `CallTool`), so the tools, their schemas and their
/// checks are exactly the router's.
pub mod mcp_stdio {
    pub use crate::mcp::source::RemoteTools;
    pub use crate::mcp::stdio::StdioError;

    /// Serves the tools of `tools` on stdin/stdout until the client closes stdin or `shutdown`
    /// is cancelled.
    pub async fn serve(
        tools: RemoteTools,
        shutdown: chatmesh_runtime::CancellationToken,
    ) -> Result<(), StdioError> {
        crate::mcp::stdio::serve(tools, shutdown).await
    }
}

/// Not API: what the router's own integration tests, fuzz targets (the root `fuzz/`) and example
/// (`examples/router_overhead.rs`) reach inside for. It may change with any commit.
#[doc(hidden)]
pub mod internals {
    pub use crate::backends::{
        Backends, CallContext, CallReport, GraphBackend, RelationalBackend, VectorBackend,
    };
    pub use crate::mcp::http::router as mcp_router;
    pub use crate::mcp::server::McpServer;
    pub use crate::mcp::source::{SourceError, ToolSource};
    pub use crate::routing::{BackendCall, Classifier, Plan, RouteError, Rules, RulesError};
    pub use crate::tools::{ToolError, ToolRegistry};
}
