//! The PostgreSQL engine's tables. One catalogue row per collection (its description), and one
//! table per collection, named after the catalogue row's number rather than the collection's
//! name (so that no name needs escaping, and a collection created again after a deletion gets
//! a fresh table): `id` (the primary key), `embedding vector(dimension)` under an HNSW index
//! with the metric's operator class, `payload jsonb` (what filters read) and `record bytea`
//! (the payload and text exactly as given, as a protobuf `VectorObject`: JSON would turn an
//! integral double such as 1e17 into an integer on the way back).
//!
//! pgvector's HNSW takes `m` up to 100, `ef_construction` up to 1000 and at least `2·m`, and
//! indexes vectors of at most 2000 dimensions: larger parameters are clamped for the index
//! (the catalogue keeps what was asked for), and collections over 2000 dimensions get no index
//! (searches scan exactly).

use sqlx::{AssertSqlSafe, PgConnection};

use crate::model::{CollectionSpec, Metric};

/// The catalogue.
pub(super) const CATALOGUE: &str = "chatmesh_vector_collections";

/// Largest dimension pgvector's HNSW indexes for `vector`.
const MAX_INDEXED_DIMENSION: usize = 2000;

/// Key of the advisory lock under which replicas set the schema up one at a time.
const SCHEMA_LOCK: i64 = 0x6368_6174_7665_6300;

/// Makes sure the extension and the catalogue exist (idempotent; replicas starting together
/// take turns). Returns the installed pgvector version.
pub(super) async fn ensure(conn: &mut PgConnection) -> Result<String, sqlx::Error> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SCHEMA_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::query("CREATE EXTENSION IF NOT EXISTS vector")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS chatmesh_vector_collections (
            name text PRIMARY KEY,
            tab bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
            dimension integer NOT NULL,
            metric text NOT NULL,
            m integer NOT NULL,
            ef_construction integer NOT NULL,
            ef_search integer NOT NULL,
            embedder text NOT NULL,
            created_seconds bigint NOT NULL,
            created_nanos integer NOT NULL
        )",
    )
    .execute(&mut *tx)
    .await?;
    let (version,): (String,) =
        sqlx::query_as("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            .fetch_one(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(version)
}

/// Whether pgvector `version` has iterative index scans (0.8.0 and later).
pub(super) fn has_iterative_scan(version: &str) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (0, 8)
}

/// The quoted name of catalogue row `tab`'s table.
pub(super) fn table(tab: i64) -> String {
    format!("\"chatmesh_vectors_{tab}\"")
}

/// The metric as the catalogue stores it.
pub(super) fn metric_name(metric: Metric) -> &'static str {
    match metric {
        Metric::Cosine => "cosine",
        Metric::L2 => "l2",
        Metric::Dot => "dot",
    }
}

/// The metric the catalogue names.
pub(super) fn metric_of(name: &str) -> Option<Metric> {
    match name {
        "cosine" => Some(Metric::Cosine),
        "l2" => Some(Metric::L2),
        "dot" => Some(Metric::Dot),
        _ => None,
    }
}

/// pgvector's distance operator for the metric (lower is closer; `<#>` is the negative inner
/// product).
pub(super) fn operator(metric: Metric) -> &'static str {
    match metric {
        Metric::Cosine => "<=>",
        Metric::L2 => "<->",
        Metric::Dot => "<#>",
    }
}

fn operator_class(metric: Metric) -> &'static str {
    match metric {
        Metric::Cosine => "vector_cosine_ops",
        Metric::L2 => "vector_l2_ops",
        Metric::Dot => "vector_ip_ops",
    }
}

/// Creates collection table `tab` and its index, in the caller's transaction.
pub(super) async fn create_table(
    conn: &mut PgConnection,
    tab: i64,
    spec: &CollectionSpec,
) -> Result<(), sqlx::Error> {
    let table = table(tab);
    let create = format!(
        "CREATE TABLE {table} (id text PRIMARY KEY, embedding vector({}) NOT NULL, \
         payload jsonb NOT NULL, record bytea NOT NULL)",
        spec.dimension
    );
    sqlx::query(AssertSqlSafe(create))
        .execute(&mut *conn)
        .await?;
    if spec.dimension <= MAX_INDEXED_DIMENSION {
        let m = spec.params.m.clamp(2, 100);
        let ef_construction = spec.params.ef_construction.clamp(2 * m, 1000);
        let index = format!(
            "CREATE INDEX ON {table} USING hnsw (embedding {}) WITH (m = {m}, \
             ef_construction = {ef_construction})",
            operator_class(spec.metric)
        );
        sqlx::query(AssertSqlSafe(index))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_with_iterative_scans() {
        assert!(has_iterative_scan("0.8.0") && has_iterative_scan("1.0"));
        assert!(!has_iterative_scan("0.7.4") && !has_iterative_scan("garbage"));
    }
}
