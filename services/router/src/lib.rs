//! The chatmesh router: classifies requests, dispatches them to the data services, and serves them as MCP tools.
//!
//! The library is what `chatmesh-router` and `chatmesh up` run: [`serve`] binds the configured
//! address, [`serve_on`] serves on a listener the caller bound (tests, `chatmesh up`).
//!
//! Readiness: the router reports SERVING as soon as its own server is up, whatever the state of
//! its backends. Each query needs only one backend, so a router taken out of rotation because
//! one backend is down would fail the queries the others could answer; instead, calls to a down
//! backend fail fast with UNAVAILABLE naming it, and `ListBackends` reports every address's
//! health and breaker state.

mod api;
pub mod backends;
mod error;
pub mod mcp;
pub mod pool;
pub mod routing;
pub mod tools;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chatmesh_proto::router::Target;
use chatmesh_proto::router::router_service_server::{RouterServiceServer, SERVICE_NAME};
use chatmesh_runtime::channel::ClientArgs;
use chatmesh_runtime::config::{ConfigError, parse_duration};
use chatmesh_runtime::{
    CancellationToken, EdgeArgs, GrpcServer, ServeError, ServerArgs, ServiceConfig, ServiceInfo,
};
use tokio::net::TcpListener;

use backends::Backends;
use backends::grpc::{GrpcGraph, GrpcRelational, GrpcVector};
use pool::breaker::BreakerSettings;
use pool::retry::RetrySettings;
use pool::{Pool, PoolSettings};
use routing::{Classifier, Rules};

/// Who this service is and where it listens by default.
pub const INFO: ServiceInfo = ServiceInfo {
    name: "router",
    fqn: SERVICE_NAME,
    default_port: 50052,
    file_descriptor_set: chatmesh_proto::FILE_DESCRIPTOR_SET,
};

const RULES_SETTING: &str = "--rules (CHATMESH_ROUTER_RULES)";

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
    #[command(flatten)]
    pub mcp: mcp::McpArgs,
    /// Bearer tokens and rate limits on the MCP endpoint (`/mcp`); the gRPC API is internal.
    #[command(flatten)]
    pub edge: EdgeArgs,
    /// The rules, loaded and validated by `validate` (the built-in ones when `rules` is unset).
    #[arg(skip)]
    pub loaded_rules: Option<Rules>,
}

/// How the router calls its backends.
#[derive(Debug, Clone, clap::Args)]
pub struct ResilienceArgs {
    /// Longest a backend call may take (a caller's shorter deadline wins).
    #[arg(long, env = "CHATMESH_BACKEND_TIMEOUT", value_name = "DURATION",
          default_value = "5s", value_parser = parse_duration)]
    pub backend_timeout: Duration,
    /// Attempts per backend call, the first included; reads failing with UNAVAILABLE are
    /// retried on another address.
    #[arg(long, env = "CHATMESH_BACKEND_MAX_ATTEMPTS", value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(1..=10))]
    pub backend_max_attempts: u32,
    /// Retries allowed per backend call on average (the retry budget).
    #[arg(
        long,
        env = "CHATMESH_RETRY_BUDGET_RATIO",
        value_name = "RATIO",
        default_value_t = 0.2
    )]
    pub retry_budget_ratio: f64,
    /// Consecutive failures of an address that open its circuit breaker.
    #[arg(long, env = "CHATMESH_BREAKER_FAILURES", value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub breaker_failures: u32,
    /// How long an open breaker fails calls fast before a probe call.
    #[arg(long, env = "CHATMESH_BREAKER_OPEN_FOR", value_name = "DURATION",
          default_value = "2s", value_parser = parse_duration)]
    pub breaker_open_for: Duration,
    /// Wait between attempts to (re)open a backend's health watch.
    #[arg(long, env = "CHATMESH_HEALTH_RETRY_INTERVAL", value_name = "DURATION",
          default_value = "250ms", value_parser = parse_duration)]
    pub health_retry_interval: Duration,
    /// How often backend DNS names are resolved again.
    #[arg(long, env = "CHATMESH_RESOLVE_INTERVAL", value_name = "DURATION",
          default_value = "5s", value_parser = parse_duration)]
    pub resolve_interval: Duration,
}

impl Default for ResilienceArgs {
    fn default() -> Self {
        Self {
            backend_timeout: Duration::from_secs(5),
            backend_max_attempts: 3,
            retry_budget_ratio: 0.2,
            breaker_failures: 5,
            breaker_open_for: Duration::from_secs(2),
            health_retry_interval: Duration::from_millis(250),
            resolve_interval: Duration::from_secs(5),
        }
    }
}

impl ResilienceArgs {
    fn pool_settings(&self, client: &ClientArgs) -> PoolSettings {
        PoolSettings {
            timeout: self.backend_timeout,
            retry: RetrySettings {
                max_attempts: self.backend_max_attempts,
                base_backoff: Duration::from_millis(10),
                max_backoff: Duration::from_millis(200),
                budget_ratio: self.retry_budget_ratio,
                budget_reserve: 10.0,
            },
            breaker: BreakerSettings {
                failure_threshold: self.breaker_failures,
                open_for: self.breaker_open_for,
            },
            resolve_interval: self.resolve_interval,
            health_retry: self.health_retry_interval,
            client: client.clone(),
        }
    }
}

fn check_backend_addrs(spec: &str, setting: &str, client: &ClientArgs) -> Result<(), ConfigError> {
    let entries = pool::resolve::parse_spec(spec).map_err(|reason| ConfigError {
        setting: setting.to_owned(),
        value: spec.to_owned(),
        reason,
    })?;
    for entry in entries {
        chatmesh_runtime::channel::check_addr(&entry.address(), setting, client)?;
    }
    Ok(())
}

/// Reads and validates a rules file, or the built-in rules when `path` is `None`.
pub fn load_rules(path: Option<&std::path::Path>) -> Result<Rules, ConfigError> {
    let Some(path) = path else {
        return Ok(Rules::built_in());
    };
    let fail = |reason: String| ConfigError {
        setting: RULES_SETTING.to_owned(),
        value: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
    Rules::parse(&text).map_err(|e| fail(e.to_string()))
}

impl ServiceConfig for Config {
    fn server(&self) -> &ServerArgs {
        &self.server
    }

    fn validate(&mut self) -> Result<(), ConfigError> {
        self.edge.validate()?;
        check_backend_addrs(
            &self.graph_addr,
            "--graph-addr (CHATMESH_GRAPH_ADDR)",
            &self.client,
        )?;
        check_backend_addrs(
            &self.vector_addr,
            "--vector-addr (CHATMESH_VECTOR_ADDR)",
            &self.client,
        )?;
        check_backend_addrs(
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
        self.loaded_rules = Some(load_rules(self.rules.as_deref())?);
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
pub async fn connect_backends(
    config: &Config,
    stop: &CancellationToken,
) -> Result<(Backends, Vec<Arc<Pool>>), ServeError> {
    use chatmesh_proto::graph::graph_service_server::SERVICE_NAME as GRAPH;
    use chatmesh_proto::relational::relational_service_server::SERVICE_NAME as RELATIONAL;
    use chatmesh_proto::vector::vector_service_server::SERVICE_NAME as VECTOR;
    // Backend calls use the service's own mTLS identity when it has one.
    let mut client = config.client.clone();
    if client.tls.is_none() {
        client.with_tls(&config.server.tls)?;
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
        None => {
            load_rules(config.rules.as_deref()).map_err(|e| ServeError::Startup(e.to_string()))?
        }
    };
    let classifier = Classifier::new(rules, config.default_collection.clone());
    let pools_stop = CancellationToken::new();
    let _stop_pools = pools_stop.clone().drop_guard();
    let (backends, pools) = connect_backends(&config, &pools_stop).await?;
    let registry = tools::ToolRegistry::new(backends.clone())
        .with_router(std::sync::Arc::new(classifier.clone()));
    let api = RouterServiceServer::new(api::RouterServiceApi::new(
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
        .edge([mcp::http::PATH], &config.edge)?;
    server.health().set_serving().await;
    server.serve(listener, shutdown).await
}
