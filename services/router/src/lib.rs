//! The chatmesh router: classifies requests, dispatches them to the data services, and serves them as MCP tools.
//!
//! The library is what `chatmesh-router` and `chatmesh up` run: [`serve`] binds the configured
//! address, [`serve_on`] serves on a listener the caller bound (tests, `chatmesh up`).

mod api;

use chatmesh_proto::router::router_service_server::{RouterServiceServer, SERVICE_NAME};
use chatmesh_runtime::channel::ClientArgs;
use chatmesh_runtime::config::ConfigError;
use chatmesh_runtime::{
    CancellationToken, GrpcServer, ServeError, ServerArgs, ServiceConfig, ServiceInfo,
};
use tokio::net::TcpListener;

/// Who this service is and where it listens by default.
pub const INFO: ServiceInfo = ServiceInfo {
    name: "router",
    fqn: SERVICE_NAME,
    default_port: 50052,
};

/// Settings of the router service (`chatmesh-router --help` lists them with their env vars).
#[derive(Debug, Clone, clap::Parser)]
#[command(
    version,
    about = "The chatmesh router: classifies requests, dispatches them to the data services, and serves them as MCP tools."
)]
pub struct Config {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Address of the graph service.
    #[arg(
        long,
        env = "CHATMESH_GRAPH_ADDR",
        value_name = "ADDR",
        default_value = "http://127.0.0.1:50053"
    )]
    pub graph_addr: String,
    /// Address of the vector service.
    #[arg(
        long,
        env = "CHATMESH_VECTOR_ADDR",
        value_name = "ADDR",
        default_value = "http://127.0.0.1:50054"
    )]
    pub vector_addr: String,
    /// Address of the relational service.
    #[arg(
        long,
        env = "CHATMESH_RELATIONAL_ADDR",
        value_name = "ADDR",
        default_value = "http://127.0.0.1:50055"
    )]
    pub relational_addr: String,
    #[command(flatten)]
    pub client: ClientArgs,
}

impl ServiceConfig for Config {
    fn server(&self) -> &ServerArgs {
        &self.server
    }

    fn validate(&mut self) -> Result<(), ConfigError> {
        chatmesh_runtime::channel::check_addr(
            &self.graph_addr,
            "--graph-addr (CHATMESH_GRAPH_ADDR)",
            &self.client,
        )?;
        chatmesh_runtime::channel::check_addr(
            &self.vector_addr,
            "--vector-addr (CHATMESH_VECTOR_ADDR)",
            &self.client,
        )?;
        chatmesh_runtime::channel::check_addr(
            &self.relational_addr,
            "--relational-addr (CHATMESH_RELATIONAL_ADDR)",
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
    let api = RouterServiceServer::new(api::RouterServiceApi)
        .max_decoding_message_size(config.server.max_message_bytes as usize);
    let server = GrpcServer::new(&INFO, &config.server)
        .await?
        .add_service(api);
    server.health().set_serving().await;
    server.serve(listener, shutdown).await
}
