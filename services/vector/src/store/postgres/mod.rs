//! The PostgreSQL engine (`--database-url postgres://…`): collections in tables of one
//! database with the pgvector extension, searched through per-collection HNSW indexes, so
//! that several vector replicas can serve one set of collections.
//!
//! Every call is atomic (one transaction). The engine answers UNAVAILABLE, never waits long:
//! while it is not connected (before the first connect, after a failed probe) every call fails
//! at once; while connected, each call gets `--database-timeout` for a connection and its
//! answer (PostgreSQL's `statement_timeout` is the same). A call that fails on the wire wakes
//! the probe ([`PgStore::trouble`]); only a failed probe disconnects, which `crate::lifecycle`
//! turns into NOT_SERVING until a reconnect succeeds. The schema ([`schema`]) is created at
//! connect, idempotently, under an advisory lock.
//!
//! Searches score like the embedded engine: PostgreSQL finds the `k` nearest rows by the
//! metric's operator (plus a margin for ties), then the scores are computed here with the
//! domain's arithmetic (`model::Metric`), ordered by score, then id, and cut to `k`. Compaction is `VACUUM` (PostgreSQL
//! reclaims dead rows and repairs the HNSW graph itself), and reports 0 tombstones dropped:
//! PostgreSQL does not say how many it reclaimed. Flushing is nothing: every write is
//! committed.

mod errors;
mod filter;
mod schema;
mod statements;

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chatmesh_runtime::auth::Secret;
use parking_lot::RwLock;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tokio::sync::Notify;

use super::{CollectionInfo, Found, Reembedder, SearchQuery, VectorStore};
use crate::error::{Result, VectorError};
use crate::model::{CollectionSpec, Metric, Object, UpsertCounts, dot, object_field};
use errors::classify;
use statements::{Done, Failed};

/// Largest `hnsw.ef_search` pgvector accepts.
const MAX_EF_SEARCH: usize = 1000;

/// Rows fetched beyond `k`, so that ties at the k-th place (equal vectors under several ids)
/// and near-ties (PostgreSQL orders by a float8 distance, the score is computed here in f32)
/// are settled by the embedded engine's rule, score then id, among the candidates.
const TIE_MARGIN: usize = 16;

/// How the engine reaches its database.
#[derive(Debug, Clone)]
pub(crate) struct PgSettings {
    /// `postgres://…`.
    pub(crate) url: Secret,
    /// Most connections open at once.
    pub(crate) max_connections: u32,
    /// The longest a call waits for a connection, and for its answer.
    pub(crate) timeout: Duration,
}

/// See the module documentation.
pub(crate) struct PgStore {
    /// Connections for calls; replaced by a fresh pool at each (re)connect and after trouble,
    /// so that nothing opened before a loss is reused after it.
    pool: RwLock<PgPool>,
    /// With `statement_timeout`, for the pools.
    options: PgConnectOptions,
    /// Without a statement timeout: schema set-up, probes and `VACUUM`.
    admin: PgConnectOptions,
    max_connections: u32,
    timeout: Duration,
    connected: AtomicBool,
    iterative_scan: AtomicBool,
    trouble: Notify,
}

impl PgStore {
    /// An engine for the database at `settings.url`, not connected yet.
    pub(crate) fn new(settings: &PgSettings) -> Result<Self> {
        let admin = PgConnectOptions::from_str(settings.url.expose())
            .map_err(|e| VectorError::InvalidArgument(format!("--database-url: {e}")))?
            .application_name("chatmesh-vector");
        let timeout_ms = settings.timeout.as_millis().max(1).to_string();
        let options = admin
            .clone()
            .options([("statement_timeout", timeout_ms.as_str())]);
        let pool = Self::pool(&options, settings.max_connections, settings.timeout);
        Ok(Self {
            pool: RwLock::new(pool),
            options,
            admin,
            max_connections: settings.max_connections,
            timeout: settings.timeout,
            connected: AtomicBool::new(false),
            iterative_scan: AtomicBool::new(false),
            trouble: Notify::new(),
        })
    }

    fn pool(options: &PgConnectOptions, size: u32, timeout: Duration) -> PgPool {
        PgPoolOptions::new()
            .max_connections(size.max(1))
            .acquire_timeout(timeout)
            .test_before_acquire(false)
            .connect_lazy_with(options.clone())
    }

    /// Retires every pooled connection: calls from now on open fresh ones.
    fn renew(&self) {
        let fresh = Self::pool(&self.options, self.max_connections, self.timeout);
        let old = std::mem::replace(&mut *self.pool.write(), fresh);
        tokio::spawn(async move { old.close().await });
    }

    /// Whether calls are served.
    pub(crate) fn is_connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }

    /// Reaches the database and sets the schema up; UNAVAILABLE while it cannot be reached.
    pub(crate) async fn connect(&self) -> Result<()> {
        let work = async {
            let mut conn = PgConnection::connect_with(&self.admin).await?;
            let version = schema::ensure(&mut conn).await;
            let _ = conn.close().await;
            version
        };
        let version = match tokio::time::timeout(self.timeout, work).await {
            Ok(Ok(version)) => version,
            Ok(Err(e)) => return Err(classify(&e).error),
            Err(_) => return Err(self.too_slow()),
        };
        let iterative = schema::has_iterative_scan(&version);
        if !iterative {
            tracing::warn!(%version, "pgvector before 0.8: filtered searches may return fewer than k hits");
        }
        self.iterative_scan.store(iterative, Ordering::SeqCst);
        self.renew();
        self.connected.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Asks the database whether it is there, on a fresh connection; a failure disconnects.
    pub(crate) async fn probe(&self) -> Result<()> {
        let probe = async {
            let mut conn = PgConnection::connect_with(&self.admin).await?;
            let answered = statements::probe(&mut conn).await;
            let _ = conn.close().await;
            answered
        };
        let outcome = match tokio::time::timeout(self.timeout, probe).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(classify(&e).error),
            Err(_) => Err(self.too_slow()),
        };
        if let Err(error) = &outcome {
            tracing::warn!(%error, "vector database probe failed");
            if self.connected.swap(false, Ordering::SeqCst) {
                tracing::warn!("lost the vector database; calls answer UNAVAILABLE");
            }
        }
        outcome
    }

    /// Resolves when a call met trouble that may mean the database is gone.
    pub(crate) async fn trouble(&self) {
        self.trouble.notified().await;
    }

    fn too_slow(&self) -> VectorError {
        VectorError::Unavailable(format!(
            "the vector database did not answer within {:?}",
            self.timeout
        ))
    }

    /// Runs one call's `work` on a pooled connection within the timeout, or fails at once
    /// while disconnected.
    async fn bounded<T>(&self, work: impl AsyncFnOnce(&mut PgConnection) -> Done<T>) -> Result<T> {
        if !self.is_connected() {
            return Err(VectorError::Unavailable(
                "the vector database cannot be reached; the service reconnects by itself".into(),
            ));
        }
        let pool = self.pool.read().clone();
        let call = async {
            let mut conn = pool.acquire().await?;
            work(&mut conn).await
        };
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(Failed::Refused(e))) => Err(e),
            Ok(Err(Failed::Database(e))) => {
                let failure = classify(&e);
                if failure.trouble {
                    self.renew();
                    self.trouble.notify_one();
                }
                if let VectorError::Internal(message) = &failure.error {
                    tracing::error!(%message, "vector database error");
                }
                Err(failure.error)
            }
            Err(_) => {
                self.trouble.notify_one();
                Err(self.too_slow())
            }
        }
    }
}

/// Checks a batch's vectors against the collection, as the embedded engine does.
fn check_vectors(spec: &CollectionSpec, objects: &[Object]) -> Result<()> {
    objects.iter().enumerate().try_for_each(|(i, object)| {
        spec.check_vector(
            &object.vector,
            &format!("{}.vector", object_field(i, object)),
        )
    })
}

#[tonic::async_trait]
impl VectorStore for PgStore {
    async fn create_collection(&self, spec: CollectionSpec) -> Result<CollectionInfo> {
        self.bounded(async |conn| statements::create(conn, &spec).await)
            .await?;
        Ok(CollectionInfo {
            spec,
            objects: 0,
            tombstones: 0,
        })
    }

    async fn collection(&self, name: &str) -> Result<CollectionInfo> {
        self.bounded(async |conn| {
            let entry = statements::entry_of(conn, name, "").await?;
            statements::info(conn, entry).await
        })
        .await
    }

    async fn list_collections(&self, after: &str, limit: usize) -> Result<Vec<CollectionInfo>> {
        self.bounded(async |conn| {
            let mut infos = Vec::new();
            for entry in statements::list(conn, after, limit).await? {
                infos.push(statements::info(conn, entry).await?);
            }
            Ok(infos)
        })
        .await
    }

    async fn delete_collection(&self, name: &str) -> Result<u64> {
        self.bounded(async |conn| statements::drop(conn, name).await)
            .await
    }

    async fn upsert(&self, collection: &str, objects: Vec<Object>) -> Result<UpsertCounts> {
        self.bounded(async |conn| {
            let mut tx = conn.begin().await?;
            let entry = statements::entry_of(&mut tx, collection, "FOR SHARE").await?;
            check_vectors(&entry.spec, &objects)?;
            let counts = statements::write(&mut tx, entry.tab, &objects).await?;
            tx.commit().await?;
            Ok(counts)
        })
        .await
    }

    async fn get(&self, collection: &str, id: &str) -> Result<Object> {
        self.bounded(async |conn| {
            let entry = statements::entry_of(conn, collection, "").await?;
            statements::get(conn, entry.tab, id).await?.ok_or_else(|| {
                Failed::Refused(VectorError::NotFound(format!(
                    "object '{id}' does not exist in collection '{collection}'"
                )))
            })
        })
        .await
    }

    async fn delete(&self, collection: &str, ids: Vec<String>) -> Result<u64> {
        self.bounded(async |conn| {
            let mut tx = conn.begin().await?;
            let entry = statements::entry_of(&mut tx, collection, "FOR SHARE").await?;
            let deleted = statements::delete(&mut tx, entry.tab, &ids).await?;
            tx.commit().await?;
            Ok(deleted)
        })
        .await
    }

    async fn search(&self, query: SearchQuery) -> Result<Vec<Found>> {
        let settings = statements::ScanSettings {
            ef: query.ef,
            fetch: query.k + TIE_MARGIN,
            max: MAX_EF_SEARCH,
            iterative: self.iterative_scan.load(Ordering::SeqCst),
        };
        let (metric, candidates) = self
            .bounded(async |conn| {
                let entry =
                    statements::entry_for_search(conn, &query.collection, &settings).await?;
                entry
                    .spec
                    .check_vector(&query.vector, "near_vector.vector")?;
                if query.k == 0 {
                    return Ok((entry.spec.metric, Vec::new()));
                }
                let found = statements::nearest(conn, &entry, &query, settings.fetch).await?;
                Ok((entry.spec.metric, found))
            })
            .await?;
        rank(metric, &query, candidates)
    }

    async fn reembed(
        &self,
        collection: &str,
        embedder: String,
        embed: Reembedder,
    ) -> Result<(CollectionInfo, u64)> {
        self.bounded(async |conn| {
            let mut tx = conn.begin().await?;
            let mut entry = statements::entry_of(&mut tx, collection, "FOR UPDATE").await?;
            let objects = statements::all(&mut tx, entry.tab)
                .await?
                .into_iter()
                .map(|object| {
                    Ok(Object {
                        vector: embed(&object)?,
                        ..object
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            check_vectors(&entry.spec, &objects)?;
            if !objects.is_empty() {
                statements::write(&mut tx, entry.tab, &objects).await?;
            }
            statements::set_embedder(&mut tx, collection, &embedder).await?;
            entry.spec.embedder = embedder.clone();
            let info = statements::info(&mut tx, entry).await?;
            tx.commit().await?;
            Ok((info, objects.len() as u64))
        })
        .await
    }

    async fn compact(&self, collection: &str) -> Result<u64> {
        let entry = self
            .bounded(async |conn| statements::entry_of(conn, collection, "").await)
            .await?;
        // VACUUM may take long and cannot run in a transaction: its own connection, no timeout.
        let vacuum = async {
            let mut conn = PgConnection::connect_with(&self.admin).await?;
            let sql = format!("VACUUM (ANALYZE) {}", schema::table(entry.tab));
            let done = sqlx::query(AssertSqlSafe(sql)).execute(&mut conn).await;
            let _ = conn.close().await;
            done
        };
        vacuum.await.map_err(|e| classify(&e).error)?;
        Ok(0)
    }

    async fn flush(&self) -> Result<()> {
        Ok(())
    }
}

/// Scores candidates with the domain's arithmetic and orders them like the embedded engine:
/// score descending, then id.
fn rank(
    metric: Metric,
    query: &SearchQuery,
    candidates: Vec<statements::Candidate>,
) -> Result<Vec<Found>> {
    let prepared = metric.prepare(&query.vector);
    let mut found = candidates
        .into_iter()
        .map(|(id, vector, record)| {
            let (score, distance) = match metric {
                Metric::Cosine => {
                    let norm = dot(&vector, &vector).sqrt();
                    let cos = (dot(&prepared, &vector) / norm).clamp(-1.0, 1.0);
                    (cos, 1.0 - cos)
                }
                metric => metric.score_and_distance(&prepared, &vector),
            };
            let (payload, text) = match statements::payload_of(record.as_deref()) {
                Ok(parts) => parts,
                Err(Failed::Refused(e)) => return Err(e),
                Err(Failed::Database(e)) => return Err(classify(&e).error),
            };
            Ok(Found {
                id,
                score,
                distance,
                payload,
                vector: if query.with_vector {
                    vector
                } else {
                    Vec::new()
                },
                text,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    found.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    found.truncate(query.k);
    Ok(found)
}
