//! The chatmesh vector service: similarity search over embedded documents, on hnsw_rs.
//!
//! The library is what `chatmesh-vector` and `chatmesh up` run: [`serve`] binds the configured
//! address, [`serve_on`] serves on a listener the caller bound (tests, `chatmesh up`).

mod api;

use chatmesh_proto::vector::vector_service_server::{SERVICE_NAME, VectorServiceServer};
use chatmesh_runtime::DataDirArgs;
use chatmesh_runtime::config::ConfigError;
use chatmesh_runtime::{
    CancellationToken, GrpcServer, ServeError, ServerArgs, ServiceConfig, ServiceInfo,
};
use tokio::net::TcpListener;

/// Who this service is and where it listens by default.
pub const INFO: ServiceInfo = ServiceInfo {
    name: "vector",
    fqn: SERVICE_NAME,
    default_port: 50054,
};

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

/// Runs the service on `listener` until `shutdown` is cancelled.
pub async fn serve_on(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let api = VectorServiceServer::new(api::VectorServiceApi)
        .max_decoding_message_size(config.server.max_message_bytes as usize);
    let server = GrpcServer::new(&INFO, &config.server)
        .await?
        .add_service(api);
    server.health().set_serving().await;
    server.serve(listener, shutdown).await
}
