//! A PostgreSQL database of its own for each test, on the server whose URL is in
//! `CHATMESH_TEST_POSTGRES_URL` (`export CHATMESH_TEST_POSTGRES_URL=$(bash
//! scripts/start-postgres.sh)`; CI does that before the step that runs the tests marked
//! `#[ignore = "needs PostgreSQL"]`). The database is created empty (from `template1`) and
//! dropped when the handle is dropped, so tests on one server never see each other's rows.
//!
//! [`TestDatabase::take_away`] makes the database unreachable the way a lost server or network
//! does (new connections refused, existing ones terminated) without touching other tests'
//! databases; [`TestDatabase::bring_back`] undoes it.

use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::{AssertSqlSafe, Connection, PgConnection};

/// The environment variable holding the test server's URL.
pub const URL_ENV: &str = "CHATMESH_TEST_POSTGRES_URL";

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// One test's database.
pub struct TestDatabase {
    /// `postgres://…/<name>`: the test's database.
    pub url: String,
    name: String,
    server: String,
}

impl TestDatabase {
    /// Creates a fresh database; panics with instructions when no server is configured.
    pub async fn create() -> Self {
        let server = std::env::var(URL_ENV).unwrap_or_else(|_| {
            panic!(
                "{URL_ENV} is not set: this test needs a PostgreSQL server. \
                 Run `export {URL_ENV}=$(bash scripts/start-postgres.sh)` first."
            )
        });
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let name = format!(
            "chatmesh_test_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        admin(&server, &format!("CREATE DATABASE {name}")).await;
        let base = server.split('?').next().unwrap_or(&server);
        let url = format!(
            "{}/{name}",
            &base[..base.rfind('/').expect("a URL with a path")]
        );
        Self { url, name, server }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `sql` on the server as the test role, outside the test's database.
    pub async fn admin(&self, sql: &str) {
        admin(&self.server, sql).await;
    }

    /// Runs `sql` in the test's database and returns the first column of each row as text.
    pub async fn query(&self, sql: &str) -> Vec<String> {
        let mut conn = PgConnection::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the test database: {e}"));
        let rows: Vec<(String,)> = sqlx::query_as(AssertSqlSafe(sql.to_owned()))
            .fetch_all(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let _ = conn.close().await;
        rows.into_iter().map(|(v,)| v).collect()
    }

    /// New connections are refused and every open one is terminated.
    pub async fn take_away(&self) {
        let name = &self.name;
        self.admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
            .await;
        self.admin(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .await;
    }

    /// Connections are accepted again.
    pub async fn bring_back(&self) {
        let name = &self.name;
        self.admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
            .await;
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // Best effort, on a thread of its own: Drop cannot await, and the test's runtime may be
        // shutting down.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&server).await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut conn).await;
                }
            });
        })
        .join();
    }
}

async fn admin(server: &str, sql: &str) {
    let mut conn = PgConnection::connect(server)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {server}: {e}"));
    sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = conn.close().await;
}
