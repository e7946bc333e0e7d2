//! What the relational tests share: a fresh database per test on either engine, the service
//! started in this process on a loopback port (the same `serve_on` the binary runs), a gRPC client,
//! and health checks. Each test is written once, generic over [`Engine`], and instantiated for
//! both with [`both_engines!`]: SQLite as a normal test, PostgreSQL as `#[ignore = "needs
//! PostgreSQL"]` (CI runs those with `--include-ignored` against the server that
//! `scripts/start-postgres.sh` starts; the URL comes from `CHATMESH_TEST_POSTGRES_URL`).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chatmesh_proto::relational as pb;
use chatmesh_proto::relational::relational_service_client::RelationalServiceClient;
use chatmesh_runtime::ServeError;
use chatmesh_test_support::grpc;
use chatmesh_test_support::serve::{self, Running};
use sqlx::{AssertSqlSafe, Connection};
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;

/// The service's name, as health and reflection know it.
const SERVICE: &str = "chatmesh.relational.v1.RelationalService";

/// The environment variable with the PostgreSQL server's URL.
pub(crate) const POSTGRES_URL_ENV: &str = "CHATMESH_TEST_POSTGRES_URL";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    Sqlite,
    Postgres,
}

/// Instantiates each named `async fn(Engine)` test for SQLite and for PostgreSQL.
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::common::Engine::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs PostgreSQL"]
                async fn $name() {
                    super::$name(super::common::Engine::Postgres).await
                }
            )*
        }
    };
}

/// A database of its own for one test: a file in a temporary directory, or a new PostgreSQL
/// database (dropped when the test ends).
pub(crate) struct TestDb {
    pub engine: Engine,
    pub url: String,
    /// SQLite: the directory holding the database file.
    pub dir: Option<tempfile::TempDir>,
    /// PostgreSQL: the database's name and the server's URL.
    pg: Option<(String, String)>,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl TestDb {
    pub(crate) async fn new(engine: Engine) -> Self {
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/db/orders.db", dir.path().display());
                Self {
                    engine,
                    url,
                    dir: Some(dir),
                    pg: None,
                }
            }
            Engine::Postgres => {
                let server = std::env::var(POSTGRES_URL_ENV).unwrap_or_else(|_| {
                    panic!(
                        "{POSTGRES_URL_ENV} is not set: the PostgreSQL tests need a server. \
                         Run `export {POSTGRES_URL_ENV}=$(bash scripts/start-postgres.sh)` first."
                    )
                });
                let name = format!(
                    "chatmesh_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst),
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .subsec_nanos()
                );
                admin(&server, &format!("CREATE DATABASE {name}")).await;
                let base = server.split('?').next().unwrap();
                let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
                Self {
                    engine,
                    url,
                    dir: None,
                    pg: Some((name, server)),
                }
            }
        }
    }

    /// SQLite: the directory of the database file.
    pub(crate) fn sqlite_dir(&self) -> PathBuf {
        self.dir
            .as_ref()
            .expect("a SQLite database")
            .path()
            .join("db")
    }

    /// PostgreSQL: runs `sql` on the server as the test role, outside the test's database.
    pub(crate) async fn admin(&self, sql: &str) {
        let (_, server) = self.pg.as_ref().expect("a PostgreSQL database");
        admin(server, sql).await;
    }

    /// PostgreSQL: the test database's name.
    pub(crate) fn pg_name(&self) -> &str {
        &self.pg.as_ref().expect("a PostgreSQL database").0
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((name, server)) = self.pg.take() {
            // Best effort, on a thread of its own: Drop cannot await.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async move {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&server).await {
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut conn).await;
                    }
                });
            })
            .join();
        }
    }
}

async fn admin(server: &str, sql: &str) {
    let mut conn = sqlx::PgConnection::connect(server)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {server}: {e}"));
    sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = conn.close().await;
}

/// The service running in this process.
pub(crate) struct Service {
    pub addr: SocketAddr,
    running: Running,
}

impl Service {
    /// Starts the service on `db` with `extra` flags and waits until it is SERVING.
    pub(crate) async fn start(db: &TestDb, extra: &[&str]) -> Self {
        let service = Self::spawn(db, extra).await;
        service.wait_for(ServingStatus::Serving).await;
        service
    }

    /// Starts the service without waiting for it to be ready.
    pub(crate) async fn spawn(db: &TestDb, extra: &[&str]) -> Self {
        let mut args = vec!["--database-url", &db.url, "--db-probe-interval", "100ms"];
        args.extend_from_slice(extra);
        let config = serve::config(&chatmesh_relational::INFO, &args);
        let running = serve::start(config, chatmesh_relational::serve_on).await;
        Self {
            addr: running.addr,
            running,
        }
    }

    /// A client on a new connection.
    pub(crate) async fn client(&self) -> RelationalServiceClient<Channel> {
        RelationalServiceClient::new(grpc::channel(self.addr).await)
    }

    /// What health says about the service.
    pub(crate) async fn health(&self) -> ServingStatus {
        self.health_of(SERVICE).await
    }

    /// Health as reported for `service` (`""` is the whole server: what liveness asks).
    pub(crate) async fn health_of(&self, service: &str) -> ServingStatus {
        grpc::health(self.addr, service)
            .await
            .expect("health answers")
    }

    /// Waits (up to a minute, so a slow machine cannot fail the test) until health says `want`.
    pub(crate) async fn wait_for(&self, want: ServingStatus) {
        grpc::wait_for_health(self.addr, SERVICE, want, Duration::from_secs(60)).await;
    }

    /// Shuts down and returns the service's outcome.
    pub(crate) async fn stop(self) -> Result<(), ServeError> {
        self.running.stop().await
    }
}

/// A valid CreateOrder request.
pub(crate) fn new_order(
    customer: &str,
    product: &str,
    quantity: i32,
    total_cents: i64,
) -> pb::CreateOrderRequest {
    pb::CreateOrderRequest {
        id: None,
        customer: customer.into(),
        product: product.into(),
        quantity,
        status: 0,
        total_cents,
    }
}

/// Every order, via ExportOrders.
pub(crate) async fn export_all(client: &mut RelationalServiceClient<Channel>) -> Vec<pb::Order> {
    let mut stream = client
        .export_orders(pb::ExportOrdersRequest {
            filter: None,
            batch_size: 1000,
        })
        .await
        .expect("export")
        .into_inner();
    let mut orders = Vec::new();
    while let Some(batch) = stream.message().await.expect("export batch") {
        orders.extend(batch.orders);
    }
    orders
}

/// Asserts that `result` failed with `code` and that the message mentions `needle`.
#[track_caller]
pub(crate) fn assert_code<T: std::fmt::Debug>(
    result: Result<T, tonic::Status>,
    code: tonic::Code,
    needle: &str,
) {
    match result {
        Ok(value) => panic!("expected {code:?}, got {value:?}"),
        Err(status) => {
            assert_eq!(status.code(), code, "{status:?}");
            assert!(
                status.message().contains(needle),
                "message {:?} should mention {needle:?}",
                status.message()
            );
        }
    }
}

/// The generated client over a tonic channel.
pub(crate) type Client = RelationalServiceClient<Channel>;

/// Runs `sql` directly on the test database (bypassing the service) and returns the first column
/// of every row as text.
pub(crate) async fn direct_query(db: &TestDb, sql: &'static str) -> Vec<String> {
    match db.engine {
        Engine::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&db.url)
                .await
                .expect("open SQLite");
            let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&mut conn).await.expect(sql);
            rows.into_iter().map(|(v,)| v).collect()
        }
        Engine::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("connect");
            let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&mut conn).await.expect(sql);
            rows.into_iter().map(|(v,)| v).collect()
        }
    }
}

/// CreateOrder, which must succeed; the created order.
pub(crate) async fn create(client: &mut Client, request: pb::CreateOrderRequest) -> pb::Order {
    client
        .create_order(request)
        .await
        .expect("CreateOrder")
        .into_inner()
        .order
        .expect("an order")
}

/// GetOrder, which must succeed; the order.
pub(crate) async fn get(client: &mut Client, request: pb::GetOrderRequest) -> pb::Order {
    client
        .get_order(request)
        .await
        .expect("GetOrder")
        .into_inner()
        .order
        .expect("an order")
}
