//! The chatmesh relational service: the orders table on SQLite (embedded) or PostgreSQL.
//!
//! The library is what `chatmesh-relational` and `chatmesh up` run: [`serve`] binds the configured
//! address, [`serve_on`] serves on a listener the caller bound (tests, `chatmesh up`).
//! `chatmesh-relational migrate` applies the migrations and exits.
//!
//! Inside, in request order: `api` (the gRPC edge: `api/mod.rs` the handlers, `api/convert.rs`
//! requests to validated domain values and back, the only module that knows the protobuf
//! messages, `api/status.rs` the one error mapping) → the domain (`order`: rows and their rules,
//! `query`: filter, sort, groups, `page_token`: the opaque keyset cursor, `error`) → `store`
//! (the `RelationalStore` trait and its one sqlx + sea-query implementation) →
//! `migrations/{sqlite,postgres}/`. Beside them: `lifecycle` keeps health in step with the
//! database, `seed` holds the demo orders, `database_url` checks `--database-url`.
//!
//! The API is [`INFO`], [`Config`], [`serve`] and [`serve_on`]; [`internals`] is not API.

mod api;
mod database_url;
mod error;
mod lifecycle;
mod order;
mod page_token;
mod query;
mod seed;
mod store;

/// Not API: the domain pieces the fuzz targets (`fuzz/`) and this crate's
/// tests drive directly. Nothing else may use them; they change without notice.
#[doc(hidden)]
pub mod internals {
    /// Requests to validated domain values.
    pub mod convert {
        pub use crate::api::convert::{filter, group_by, list_query, new_order, size, update};
    }
    /// The domain error.
    pub mod error {
        pub use crate::error::{Error, Result};
    }
    /// Orders and their rules.
    pub mod order {
        pub use crate::order::{Patch, Status, check_text};
    }
    /// The keyset cursor of ListOrders.
    pub mod page_token {
        pub use crate::page_token::{decode, encode};
    }
    /// Filters and sorts.
    pub mod query {
        pub use crate::query::{CursorValue, Filter, ListQuery, Sort, SortKey};
    }
    /// The demo orders.
    pub mod seed {
        pub use crate::seed::{DEMO_CUSTOMERS, FIRST_DEMO_ID};
    }
}

use std::time::Duration;

use chatmesh_proto::relational::relational_service_server::{
    RelationalServiceServer, SERVICE_NAME,
};
use chatmesh_runtime::auth::{ADMIN, CallerRules};
use chatmesh_runtime::config::{ConfigError, parse_duration};
use chatmesh_runtime::{
    CancellationToken, GrpcServer, ServeError, ServerArgs, ServiceConfig, ServiceInfo,
};

use tokio::net::TcpListener;

/// Who this service is and where it listens by default.
pub const INFO: ServiceInfo = ServiceInfo {
    name: "relational",
    fqn: SERVICE_NAME,
    default_port: 50055,
    file_descriptor_set: chatmesh_proto::FILE_DESCRIPTOR_SET,
};

/// Who may call the relational service when callers are checked (`--allow-callers`,
/// `--allow-writers` replace the lists): the router reads orders, the operators' `admin`
/// identity also creates, updates and deletes them.
const CALLERS: CallerRules = CallerRules::new(SERVICE_NAME)
    .callers(&["router", ADMIN])
    .writers(&[ADMIN])
    .writes(&["CreateOrder", "UpdateOrder", "DeleteOrder"]);

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
        default_value = "sqlite://data/relational/chatmesh.db",
        global = true
    )]
    pub database_url: String,
    /// Insert the demo orders (customers of the graph demo) if they are missing.
    #[arg(long, env = "CHATMESH_SEED_DEMO")]
    pub seed_demo: bool,
    /// PostgreSQL: the most connections. SQLite: the most reader connections (there is always
    /// one writer), and as many more for reads of one order by id on the calling thread. One is
    /// opened at start, the others when calls first overlap.
    #[arg(long, env = "CHATMESH_DB_MAX_CONNECTIONS", value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=1000), global = true)]
    pub db_max_connections: u32,
    /// How long a call waits for a free database connection before it answers UNAVAILABLE.
    #[arg(long, env = "CHATMESH_DB_ACQUIRE_TIMEOUT", value_name = "DURATION",
          default_value = "2s", value_parser = parse_duration, global = true)]
    pub db_acquire_timeout: Duration,
    /// SQLite: how long a statement waits for a lock held by another process.
    #[arg(long, env = "CHATMESH_SQLITE_BUSY_TIMEOUT", value_name = "DURATION",
          default_value = "5s", value_parser = parse_duration, global = true)]
    pub sqlite_busy_timeout: Duration,
    /// How often the database is probed; a lost database makes health NOT_SERVING until a probe
    /// reaches it again.
    #[arg(long, env = "CHATMESH_DB_PROBE_INTERVAL", value_name = "DURATION",
          default_value = "1s", value_parser = parse_duration)]
    pub db_probe_interval: Duration,
    /// The most orders a ListOrders page returns (larger page sizes are lowered to this).
    #[arg(long, env = "CHATMESH_MAX_PAGE_SIZE", value_name = "N", default_value_t = 500,
          value_parser = clap::value_parser!(u32).range(1..=500))]
    pub max_page_size: u32,
    /// What to do instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `chatmesh-relational <command>`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Apply the pending migrations to the database and exit (the service also applies them at
    /// start).
    Migrate,
}

impl Config {
    /// How the store reaches the database.
    pub(crate) fn store_settings(&self) -> store::Settings {
        store::Settings {
            url: self.database_url.clone(),
            max_connections: self.db_max_connections,
            acquire_timeout: self.db_acquire_timeout,
            busy_timeout: self.sqlite_busy_timeout,
        }
    }
}

impl ServiceConfig for Config {
    fn server(&self) -> &ServerArgs {
        &self.server
    }

    fn validate(&mut self) -> Result<(), ConfigError> {
        database_url::validate(&self.database_url)
    }
}

/// Runs the service on its configured address until `shutdown` is cancelled (or runs
/// `migrate`).
pub async fn serve(config: Config, shutdown: CancellationToken) -> Result<(), ServeError> {
    if let Some(Command::Migrate) = config.command {
        return migrate(&config).await;
    }
    let listener = chatmesh_runtime::bind(config.server.listen_addr(&INFO)).await?;
    serve_on(config, listener, shutdown).await
}

/// Applies the pending migrations and reports the database's migrations.
async fn migrate(config: &Config) -> Result<(), ServeError> {
    let store = store::open(config.store_settings());
    let fail = |e: error::Error| ServeError::Startup(format!("migrate: {e}"));
    store.connect().await.map_err(fail)?;
    let applied = store.applied_migrations().await.map_err(fail)?;
    for (version, description) in &applied {
        println!("{version:>4}  {description}");
    }
    let latest = applied.last().map(|(v, _)| *v).unwrap_or(0);
    println!("{} database is at migration {latest}", store.engine());
    Ok(())
}

/// Runs the service on `listener` until `shutdown` is cancelled.
pub async fn serve_on(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let store = store::open(config.store_settings());
    let api = RelationalServiceServer::new(api::RelationalServiceApi::new(
        store.clone(),
        config.max_page_size,
    ))
    .max_decoding_message_size(config.server.max_message_bytes as usize);
    let server = GrpcServer::new(&INFO, &config.server)
        .await?
        .add_service(api)
        .callers(CALLERS)?;
    let health = server.health();
    let plan = lifecycle::Plan {
        seed_demo: config.seed_demo,
        probe_interval: config.db_probe_interval,
    };
    chatmesh_runtime::loading::serve_beside(server, listener, shutdown, |stop| {
        lifecycle::run(store, health, plan, stop)
    })
    .await
}
