//! Starting the vector service in this process on a loopback port, and small builders.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use chatmesh_proto::vector::{
    self as pb, payload_value::Kind, vector_service_client::VectorServiceClient,
};
use chatmesh_runtime::{CancellationToken, ServeError};
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// The generated client over a plain channel, as the tests hold it.
pub(crate) type Client = VectorServiceClient<Channel>;

pub(crate) struct Service {
    pub client: Client,
    pub addr: std::net::SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), ServeError>>,
    /// What `Service::on` made for this service (its data directory, its database).
    place: Option<Place>,
}

/// Which engine a behaviour test runs against: one test body, two engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    /// Collections in memory, durable in a temporary data directory.
    Embedded,
    /// Collections in a fresh PostgreSQL database of their own (`CHATMESH_TEST_POSTGRES_URL`).
    Postgres,
}

impl Engine {
    /// What GetCollection reports as tombstones where the embedded engine reports `embedded`:
    /// PostgreSQL keeps no count of dead rows it could report exactly, so 0.
    pub(crate) fn tombstones(self, embedded: i64) -> i64 {
        match self {
            Engine::Embedded => embedded,
            Engine::Postgres => 0,
        }
    }
}

/// The data directory and database of a service started with `Service::on`.
pub(crate) struct Place {
    pub data: tempfile::TempDir,
    pub database: Option<chatmesh_test_support::postgres::TestDatabase>,
}

/// Declares, for each named `async fn(Engine)`, a module of that name with two tests: `embedded`
/// and `postgres` (ignored unless PostgreSQL is there: `cargo test -p chatmesh-vector --
/// --ignored postgres`).
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded() {
                super::$name(super::common::Engine::Embedded).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs PostgreSQL"]
            async fn postgres() {
                super::$name(super::common::Engine::Postgres).await
            }
        }
    )*};
}

impl Service {
    /// A service on `engine` with a data directory (and database) of its own.
    pub(crate) async fn on(engine: Engine, extra: &[&str]) -> Self {
        let data = tempfile::tempdir().unwrap();
        let database = match engine {
            Engine::Embedded => None,
            Engine::Postgres => Some(chatmesh_test_support::postgres::TestDatabase::create().await),
        };
        let mut args: Vec<&str> = Vec::new();
        if let Some(db) = &database {
            args.extend(["--database-url", db.url.as_str()]);
        }
        args.extend(extra);
        let mut svc = Self::start(data.path(), &args).await;
        svc.place = Some(Place { data, database });
        svc
    }

    /// The service's own database (PostgreSQL engine).
    pub(crate) fn database(&self) -> &chatmesh_test_support::postgres::TestDatabase {
        self.place
            .as_ref()
            .and_then(|p| p.database.as_ref())
            .expect("a service on PostgreSQL")
    }

    pub(crate) async fn start(data: &Path, extra: &[&str]) -> Self {
        let dir = data.display().to_string();
        let args = ["chatmesh-vector", "--data-dir", &dir]
            .into_iter()
            .chain(extra.iter().copied());
        let config: chatmesh_vector::Config =
            chatmesh_runtime::cli::parse_config(&chatmesh_vector::INFO, args).expect("config");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(chatmesh_vector::serve_on(
            config,
            listener,
            shutdown.clone(),
        ));
        let channel = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut client = VectorServiceClient::new(channel);
        // Ready once the store has loaded.
        for _ in 0..500 {
            match client
                .list_collections(pb::ListCollectionsRequest::default())
                .await
            {
                Err(s) if s.code() == tonic::Code::Unavailable => {
                    tokio::time::sleep(Duration::from_millis(10)).await
                }
                _ => break,
            }
        }
        Self {
            client,
            addr,
            shutdown,
            task,
            place: None,
        }
    }

    /// Stops the service and starts it again on the same data directory and database.
    pub(crate) async fn restart(mut self, extra: &[&str]) -> Self {
        let place = self
            .place
            .take()
            .expect("a service started with Service::on");
        self.stop().await;
        let mut args: Vec<&str> = Vec::new();
        if let Some(db) = &place.database {
            args.extend(["--database-url", db.url.as_str()]);
        }
        args.extend(extra);
        let mut svc = Self::start(place.data.path(), &args).await;
        svc.place = Some(place);
        svc
    }

    pub(crate) async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap().unwrap();
    }
}

pub(crate) fn text(s: &str) -> pb::PayloadValue {
    pb::PayloadValue {
        kind: Some(Kind::StringValue(s.into())),
    }
}

pub(crate) fn int(i: i64) -> pb::PayloadValue {
    pb::PayloadValue {
        kind: Some(Kind::IntValue(i)),
    }
}

pub(crate) fn object(
    id: &str,
    vector: Vec<f32>,
    payload: &[(&str, pb::PayloadValue)],
) -> pb::VectorObject {
    pb::VectorObject {
        id: id.into(),
        vector,
        payload: payload
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<HashMap<_, _>>(),
        text: None,
    }
}

pub(crate) fn create(
    name: &str,
    dimension: i32,
    distance: pb::Distance,
) -> pb::CreateCollectionRequest {
    pb::CreateCollectionRequest {
        name: name.into(),
        dimension,
        distance: distance as i32,
        hnsw_config: None,
        embedder: if dimension >= 16 {
            String::new()
        } else {
            "none".into()
        },
    }
}

pub(crate) fn near_vector(collection: &str, vector: Vec<f32>, k: i32) -> pb::SearchRequest {
    pb::SearchRequest {
        collection: collection.into(),
        query: Some(pb::search_request::Query::NearVector(pb::NearVector {
            vector,
        })),
        k,
        include_payload: true,
        ..Default::default()
    }
}

pub(crate) fn ids(response: &pb::SearchResponse) -> Vec<String> {
    response.hits.iter().map(|h| h.id.clone()).collect()
}

/// The code and message of a call that must fail.
pub(crate) fn code<T: std::fmt::Debug>(result: Result<T, tonic::Status>) -> (tonic::Code, String) {
    let status = result.expect_err("expected an error");
    (status.code(), status.message().to_owned())
}
