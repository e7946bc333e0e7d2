//! The graph service on either engine, for tests written once and run on both
//! ([`both_engines!`](crate::both_engines)): the embedded engine in a temporary data directory
//! as a normal test, and a Bolt server as `#[ignore = "needs a Bolt server"]` (CI runs those with
//! `--include-ignored` against the ArcadeDB that `scripts/start-arcadedb.sh` starts; the URL
//! comes from `CHATMESH_TEST_BOLT_URL`, the user and password from `CHATMESH_TEST_BOLT_USER`
//! and `CHATMESH_TEST_BOLT_PASSWORD`, by default `root` and `chatmesh-test`).
//!
//! Bolt tests share the server's one database: each holds [`BOLT_LOCK`] while it runs and
//! starts from an empty graph (`MATCH (n) DETACH DELETE n`).

use std::path::Path;

use chatmesh_proto::graph as pb;
use tokio::sync::{Mutex, MutexGuard};

use super::{Client, Service};

/// The environment variable with the Bolt server's URL.
pub(crate) const BOLT_URL_ENV: &str = "CHATMESH_TEST_BOLT_URL";

/// Serialises the tests that use the shared Bolt database.
pub(crate) static BOLT_LOCK: Mutex<()> = Mutex::const_new(());

/// Which engine a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    Embedded,
    Bolt,
}

/// Instantiates each named `async fn(Engine)` test for the embedded engine and for Bolt.
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::common::engines::Engine::Embedded).await
                }
            )*
        }
        mod bolt {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs a Bolt server"]
                async fn $name() {
                    super::$name(super::common::engines::Engine::Bolt).await
                }
            )*
        }
    };
}

/// The Bolt server's URL; panics with the way to get one when it is not set.
pub(crate) fn bolt_url() -> String {
    std::env::var(BOLT_URL_ENV).unwrap_or_else(|_| {
        panic!(
            "{BOLT_URL_ENV} is not set: the Bolt tests need a server. \
             Run `export {BOLT_URL_ENV}=$(bash scripts/start-arcadedb.sh)` first."
        )
    })
}

/// The flags that point the service at `url`, the password in a file under `dir`.
pub(crate) fn bolt_flags(url: &str, dir: &Path) -> Vec<String> {
    let user = std::env::var("CHATMESH_TEST_BOLT_USER").unwrap_or_else(|_| "root".into());
    let password =
        std::env::var("CHATMESH_TEST_BOLT_PASSWORD").unwrap_or_else(|_| "chatmesh-test".into());
    let file = dir.join("bolt-password");
    std::fs::write(&file, format!("{password}\n")).expect("password file");
    vec![
        "--graph-url".into(),
        url.into(),
        "--graph-user".into(),
        user,
        "--graph-password-file".into(),
        file.display().to_string(),
    ]
}

/// The service on one engine, with an empty graph.
pub(crate) struct TestGraph {
    pub service: Service,
    pub engine: Engine,
    _data: tempfile::TempDir,
    _lock: Option<MutexGuard<'static, ()>>,
}

impl TestGraph {
    /// Starts the service on `engine` with `extra` flags; a Bolt graph is emptied first.
    pub(crate) async fn start(engine: Engine, extra: &[&str]) -> Self {
        let data = tempfile::tempdir().expect("temporary directory");
        let (lock, mut flags) = match engine {
            Engine::Embedded => (None, Vec::new()),
            Engine::Bolt => (
                Some(BOLT_LOCK.lock().await),
                bolt_flags(&bolt_url(), data.path()),
            ),
        };
        flags.extend(extra.iter().map(|s| s.to_string()));
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let service = Service::start(&data.path().join("graph"), &flags).await;
        let graph = Self {
            service,
            engine,
            _data: data,
            _lock: lock,
        };
        if engine == Engine::Bolt {
            graph.write("MATCH (n) DETACH DELETE n").await;
        }
        graph
    }

    /// A client of the service.
    pub(crate) fn client(&self) -> Client {
        self.service.client.clone()
    }

    /// Runs a statement in WRITE mode; panics on failure.
    pub(crate) async fn write(&self, cypher: &str) -> pb::ExecuteQueryResponse {
        self.client()
            .execute_query(pb::ExecuteQueryRequest {
                cypher: cypher.into(),
                access_mode: pb::AccessMode::Write as i32,
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{cypher}: {e:?}"))
            .into_inner()
    }

    /// Runs a statement in the given mode.
    pub(crate) async fn execute(
        &self,
        cypher: &str,
        mode: pb::AccessMode,
    ) -> Result<pb::ExecuteQueryResponse, tonic::Status> {
        self.client()
            .execute_query(pb::ExecuteQueryRequest {
                cypher: cypher.into(),
                access_mode: mode as i32,
                ..Default::default()
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// The single integer a READ statement returns.
    pub(crate) async fn count(&self, cypher: &str) -> i64 {
        let response = self.execute(cypher, pb::AccessMode::Read).await.unwrap();
        match response.rows[0].values[0].kind {
            Some(pb::value::Kind::IntValue(n)) => n,
            ref other => panic!("{cypher}: not an integer: {other:?}"),
        }
    }
}
