//! The chatmesh chatbot: the front door that turns a user's message into a cited answer.
//!
//! The library is what `chatmesh-chatbot` and `chatmesh up` run: [`serve`] binds the configured
//! address, [`serve_on`] serves on a listener the caller bound (tests, `chatmesh up`).

mod api;

use chatmesh_proto::chat::chat_service_server::{ChatServiceServer, SERVICE_NAME};
use chatmesh_runtime::channel::ClientArgs;
use chatmesh_runtime::config::ConfigError;
use chatmesh_runtime::{
    CancellationToken, GrpcServer, ServeError, ServerArgs, ServiceConfig, ServiceInfo,
};
use tokio::net::TcpListener;

/// Who this service is and where it listens by default.
pub const INFO: ServiceInfo = ServiceInfo {
    name: "chatbot",
    fqn: SERVICE_NAME,
    default_port: 50051,
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
}

impl ServiceConfig for Config {
    fn server(&self) -> &ServerArgs {
        &self.server
    }

    fn validate(&mut self) -> Result<(), ConfigError> {
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
    let api = ChatServiceServer::new(api::ChatServiceApi)
        .max_decoding_message_size(config.server.max_message_bytes as usize);
    let server = GrpcServer::new(&INFO, &config.server)
        .await?
        .add_service(api);
    server.health().set_serving().await;
    server.serve(listener, shutdown).await
}
