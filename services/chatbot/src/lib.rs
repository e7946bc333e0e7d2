//! The chatmesh chatbot: the front door that turns a user's message into a cited answer.
//!
//! The library is what `chatmesh-chatbot` and `chatmesh up` run: [`serve`] binds the configured
//! address, [`serve_on`] serves on a listener the caller bound (tests, `chatmesh up`).
//!
//! Code map, in request order: `api/` (the edges: the gRPC `ChatService` in `mod.rs`, the JSON
//! API, its OpenAPI document and the web page in `http.rs` and `http_body.rs`; `convert.rs` the
//! only builder of `chatmesh.chat.v1` messages, `status.rs` the one error mapping) → `chat.rs`
//! (validation, one turn: load the last entity, run the workflow, record the turn; the edges ask
//! `api/free_query.rs` first whether a Cypher hint is allowed) →
//! `turn_workflow/` (the workflow every turn runs: the typed `Turn` state, its updates and
//! nodes) on `workflow_engine/` (a small LangGraph-like engine: build, validate, run); the nodes
//! use `understand.rs` (normalise, prefix hints, entities, references), `router_client.rs` (the
//! router service's client) and `respond.rs` (cited answers, fallback replies). `store/` keeps
//! sessions behind the async `SessionStore` trait, in the words of `conversation.rs`: in this
//! process's memory by default, or in PostgreSQL (`--session-url`) shared by every replica;
//! `lifecycle.rs` keeps health in step with that database and sweeps expired sessions.
//! `error.rs` is the domain error.

mod api;
mod chat;
mod conversation;
mod error;
mod lifecycle;
mod respond;
mod router_client;
mod store;
mod turn_workflow;
mod understand;
mod workflow_engine;

use std::sync::Arc;
use std::time::Duration;

use chatmesh_proto::chat::chat_service_server::{ChatServiceServer, SERVICE_NAME};
use chatmesh_runtime::auth::{Secret, ServiceTokenArgs};
use chatmesh_runtime::channel::ClientArgs;
use chatmesh_runtime::config::{ConfigError, parse_duration};
use chatmesh_runtime::{
    CancellationToken, EdgeArgs, GrpcServer, ServeError, ServerArgs, ServiceConfig, ServiceInfo,
};
use tokio::net::TcpListener;

/// Who this service is and where it listens by default.
pub const INFO: ServiceInfo = ServiceInfo {
    name: "chatbot",
    fqn: SERVICE_NAME,
    default_port: 50051,
    file_descriptor_set: chatmesh_proto::FILE_DESCRIPTOR_SET,
};

/// Settings of the chatbot service (`chatmesh-chatbot --help` lists them with their env vars).
#[derive(Debug, Clone, clap::Parser)]
#[command(
    version,
    about = "The chatmesh chatbot: the front door that turns a user's message into a cited answer."
)]
pub struct Config {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Bearer tokens and rate limits on the public API (ChatService, `POST /v1/chat`).
    #[command(flatten)]
    pub edge: EdgeArgs,
    /// Address of the router service.
    #[arg(
        long,
        env = "CHATMESH_ROUTER_ADDR",
        value_name = "ADDR",
        default_value = "http://127.0.0.1:50052"
    )]
    pub router_addr: String,
    #[command(flatten)]
    pub client: ClientArgs,
    /// The chatbot's own token for the router's peer tokens table (without mTLS).
    #[command(flatten)]
    pub service_token: ServiceTokenArgs,
    /// Users allowed free-form Cypher hints (`hints.cypher`): a static token's `token-<n>`, a
    /// JWT's `sub`, comma-separated; `*` allows every caller (with authentication off: anyone).
    /// Off by default: a hint from anyone else is PERMISSION_DENIED (HTTP 403).
    #[arg(
        long,
        env = "CHATMESH_CYPHER_HINT_PRINCIPALS",
        value_name = "NAMES",
        value_delimiter = ','
    )]
    pub cypher_hint_principals: Vec<String>,
    /// Longest time a router call may take (less when the caller's deadline is nearer).
    #[arg(long, env = "CHATMESH_ROUTE_TIMEOUT", value_name = "DURATION",
          default_value = "5s", value_parser = chatmesh_runtime::config::parse_duration)]
    pub route_timeout: Duration,
    /// Answer from documents only when the best one's score reaches this; below it the answer
    /// is "I don't know" (fallback). Scores are the vector collection's: cosine similarity for
    /// cosine collections. Calibrated on the paraphrase and off-topic sets
    /// (docs/benchmarks.md); a very low value (e.g. -1) turns it off.
    #[arg(
        long,
        env = "CHATMESH_MIN_RELEVANCE",
        value_name = "SCORE",
        default_value_t = 0.225,
        allow_negative_numbers = true
    )]
    pub min_relevance: f32,
    /// How long an unused session is kept.
    #[arg(long, env = "CHATMESH_SESSION_TTL", value_name = "DURATION",
          default_value = "30m", value_parser = parse_duration)]
    pub session_ttl: Duration,
    /// Most sessions kept in memory; the least recently used go first.
    #[arg(long, env = "CHATMESH_MAX_SESSIONS", value_name = "N", default_value_t = 100_000,
          value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub max_sessions: u64,
    /// Keep sessions in PostgreSQL (`postgres://USER:PASS@HOST/DB`), shared by every chatbot
    /// replica; unset, they live in this process's memory. Prefer the environment variable: a
    /// flag's value shows in the process list.
    #[arg(
        long,
        env = "CHATMESH_SESSION_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub session_url: Option<Secret>,
    /// PostgreSQL sessions: the most connections to the database.
    #[arg(long, env = "CHATMESH_SESSION_DB_MAX_CONNECTIONS", value_name = "N",
          default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub session_db_max_connections: u32,
    /// PostgreSQL sessions: the longest a call waits for a connection, and for its statement's
    /// answer, before it answers UNAVAILABLE.
    #[arg(long, env = "CHATMESH_SESSION_DB_TIMEOUT", value_name = "DURATION",
          default_value = "2s", value_parser = parse_duration)]
    pub session_db_timeout: Duration,
    /// PostgreSQL sessions: how often the database is probed; a lost database makes health
    /// NOT_SERVING until a probe reaches it again.
    #[arg(long, env = "CHATMESH_SESSION_DB_PROBE_INTERVAL", value_name = "DURATION",
          default_value = "1s", value_parser = parse_duration)]
    pub session_db_probe_interval: Duration,
    /// How often sessions unused for longer than --session-ttl are deleted.
    #[arg(long, env = "CHATMESH_SESSION_SWEEP_INTERVAL", value_name = "DURATION",
          default_value = "1m", value_parser = parse_duration)]
    pub session_sweep_interval: Duration,
}

impl Config {
    /// How the session store is set up.
    fn store_settings(&self) -> store::Settings {
        store::Settings {
            ttl: self.session_ttl,
            max_sessions: usize::try_from(self.max_sessions).unwrap_or(usize::MAX),
            url: self.session_url.clone(),
            max_connections: self.session_db_max_connections,
            timeout: self.session_db_timeout,
        }
    }
}

impl ServiceConfig for Config {
    fn server(&self) -> &ServerArgs {
        &self.server
    }

    fn validate(&mut self) -> Result<(), ConfigError> {
        self.edge.validate()?;
        if let Some(url) = &self.session_url {
            store::check_url(url.expose()).map_err(|reason| ConfigError {
                setting: "--session-url (CHATMESH_SESSION_URL)".into(),
                value: store::redacted(url.expose()),
                reason,
            })?;
        }
        for (setting, value) in [
            (
                "--session-db-probe-interval (CHATMESH_SESSION_DB_PROBE_INTERVAL)",
                self.session_db_probe_interval,
            ),
            (
                "--session-sweep-interval (CHATMESH_SESSION_SWEEP_INTERVAL)",
                self.session_sweep_interval,
            ),
            (
                "--session-db-timeout (CHATMESH_SESSION_DB_TIMEOUT)",
                self.session_db_timeout,
            ),
        ] {
            if value.is_zero() {
                return Err(ConfigError {
                    setting: setting.into(),
                    value: "0s".into(),
                    reason: "must be more than zero".into(),
                });
            }
        }
        self.service_token.bearer()?;
        chatmesh_runtime::channel::check_addr(
            &self.router_addr,
            "--router-addr (CHATMESH_ROUTER_ADDR)",
            &self.client,
        )
    }
}

/// Runs the service on its configured address until `shutdown` is cancelled.
pub async fn serve(config: Config, shutdown: CancellationToken) -> Result<(), ServeError> {
    let listener = chatmesh_runtime::bind(config.server.listen_addr(&INFO)).await?;
    serve_on(config, listener, shutdown).await
}

/// Runs the service on `listener` until `shutdown` is cancelled.
pub async fn serve_on(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    // Router calls use the service's own mTLS identity when it has one, and the router must
    // prove it is the router (its certificate names it) whatever address it has.
    let mut client = config.client.clone();
    if client.tls.is_none() {
        client.with_tls(&config.server.tls)?;
    }
    if let Some(tls) = &client.tls {
        client.tls = Some(tls.expecting("router").map_err(ServeError::Startup)?);
    }
    if !client.token.is_set() {
        client.with_token(&config.service_token)?;
    }
    let channel = chatmesh_runtime::channel::connect_traced(&config.router_addr, &client)
        .map_err(|e| ServeError::Startup(e.to_string()))?;
    let store =
        store::open(&config.store_settings()).map_err(|e| ServeError::Startup(e.to_string()))?;
    let chatbot = Arc::new(chat::Chatbot::new(
        Arc::new(router_client::GrpcRouterClient::new(channel)),
        config.route_timeout,
        config.min_relevance,
        Arc::clone(&store.sessions),
    ));
    let free_query = Arc::new(api::free_query::FreeQuery::new(
        &config.cypher_hint_principals,
    ));
    let api = ChatServiceServer::new(api::ChatApi::new(
        Arc::clone(&chatbot),
        Arc::clone(&free_query),
    ))
    .max_decoding_message_size(config.server.max_message_bytes as usize);
    let server = GrpcServer::new(&INFO, &config.server)
        .await?
        .add_service(api)
        .add_http(api::http::routes(chatbot, free_query))
        .edge(
            [format!("/{SERVICE_NAME}/"), api::http::CHAT_PATH.into()],
            &config.edge,
        )?;
    let health = server.health();
    let plan = lifecycle::Plan {
        probe_interval: config.session_db_probe_interval,
        sweep_interval: config.session_sweep_interval,
    };
    chatmesh_runtime::loading::serve_beside(server, listener, shutdown, |stop| {
        lifecycle::run(store.sessions, store.database, health, plan, stop)
    })
    .await
}
