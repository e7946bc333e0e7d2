//! The chatmesh relational service: the orders table on SQLite (embedded) or PostgreSQL.
//!
//! The library is what `chatmesh-relational` and `chatmesh up` run: [`serve`] binds the configured
//! address, [`serve_on`] serves on a listener the caller bound (tests, `chatmesh up`).

mod api;
mod database_url;

use chatmesh_proto::relational::relational_service_server::{
    RelationalServiceServer, SERVICE_NAME,
};
use chatmesh_runtime::config::ConfigError;
use chatmesh_runtime::{
    CancellationToken, GrpcServer, ServeError, ServerArgs, ServiceConfig, ServiceInfo,
};

use tokio::net::TcpListener;

/// Who this service is and where it listens by default.
pub const INFO: ServiceInfo = ServiceInfo {
    name: "relational",
    fqn: SERVICE_NAME,
    default_port: 50055,
};

/// Settings of the relational service (`chatmesh-relational --help` lists them with their env vars).
#[derive(Debug, Clone, clap::Parser)]
#[command(
    version,
    about = "The chatmesh relational service: the orders table on SQLite (embedded) or PostgreSQL."
)]
pub struct Config {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Database URL: `sqlite://PATH` (embedded, the default) or `postgres://USER:PASS@HOST/DB`.
    #[arg(
        long,
        env = "CHATMESH_DATABASE_URL",
        value_name = "URL",
        default_value = "sqlite://data/relational/chatmesh.db"
    )]
    pub database_url: String,
}

impl ServiceConfig for Config {
    fn server(&self) -> &ServerArgs {
        &self.server
    }

    fn validate(&mut self) -> Result<(), ConfigError> {
        database_url::validate(&self.database_url)
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
    let api = RelationalServiceServer::new(api::RelationalServiceApi)
        .max_decoding_message_size(config.server.max_message_bytes as usize);
    let server = GrpcServer::new(&INFO, &config.server)
        .await?
        .add_service(api);
    server.health().set_serving().await;
    server.serve(listener, shutdown).await
}
