//! The PostgreSQL engine's statements, one function per store operation, each given the
//! connection or transaction to run on. Vectors travel as pgvector's text form (`[1,2,3]`,
//! Rust's shortest round-trip decimals) and come back as `real[]`; payloads go in twice (see
//! `schema`); identifiers are the catalogue's numbered tables, never a caller's string.

use chatmesh_proto::vector as pb;
use prost::Message;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, Row};

use super::filter::Condition;
use super::schema::{self, CATALOGUE, table};
use crate::error::{Result, VectorError};
use crate::model::{CollectionSpec, HnswParams, Object, Payload, PayloadValue, UpsertCounts};
use crate::store::{CollectionInfo, SearchQuery};

/// Either a store error or a database error (sorted by the caller).
pub(super) enum Failed {
    /// The request cannot be served (unknown collection, a bad vector…).
    Refused(VectorError),
    /// The database failed.
    Database(sqlx::Error),
}

impl From<sqlx::Error> for Failed {
    fn from(e: sqlx::Error) -> Self {
        Failed::Database(e)
    }
}

impl From<VectorError> for Failed {
    fn from(e: VectorError) -> Self {
        Failed::Refused(e)
    }
}

/// What a statement returns.
pub(super) type Done<T> = std::result::Result<T, Failed>;

const COLUMNS: &str = "name, tab, dimension, metric, m, ef_construction, ef_search, embedder, \
                       created_seconds, created_nanos";

/// A catalogue row: the collection's table and description.
pub(super) struct Entry {
    pub(super) tab: i64,
    pub(super) spec: CollectionSpec,
}

fn entry(row: &PgRow) -> Done<Entry> {
    let metric: String = row.try_get("metric")?;
    let int = |column: &str| -> Done<usize> {
        let v: i32 = row.try_get(column)?;
        Ok(usize::try_from(v).unwrap_or(0))
    };
    let name: String = row.try_get("name")?;
    let metric = schema::metric_of(&metric).ok_or_else(|| {
        VectorError::Corrupt(format!("collection '{name}' has unknown metric '{metric}'"))
    })?;
    Ok(Entry {
        tab: row.try_get("tab")?,
        spec: CollectionSpec {
            dimension: int("dimension")?,
            metric,
            params: HnswParams {
                m: int("m")?,
                ef_construction: int("ef_construction")?,
            },
            ef_search: int("ef_search")?,
            embedder: row.try_get("embedder")?,
            create_time: (
                row.try_get("created_seconds")?,
                row.try_get("created_nanos")?,
            ),
            name,
        },
    })
}

fn missing(name: &str) -> Failed {
    Failed::Refused(VectorError::NotFound(format!(
        "collection '{name}' does not exist"
    )))
}

/// The catalogue row of `name`, locked as `lock` says (`""`, `FOR SHARE`, `FOR UPDATE`).
pub(super) async fn entry_of(conn: &mut PgConnection, name: &str, lock: &str) -> Done<Entry> {
    let sql = format!("SELECT {COLUMNS} FROM {CATALOGUE} WHERE name = $1 {lock}");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
    entry(&row.ok_or_else(|| missing(name))?)
}

/// What a search asks of pgvector's index scan: `ef_search` as the request gives it (else the
/// collection's), at least `fetch` (the rows the query keeps) and at most `max`; and whether to
/// turn on iterative scans (pgvector 0.8 and later), so that a filter cannot starve the result.
pub(super) struct ScanSettings {
    pub(super) ef: Option<usize>,
    pub(super) fetch: usize,
    pub(super) max: usize,
    pub(super) iterative: bool,
}

/// The catalogue row of `name`, and pgvector's settings for the search that follows on this
/// connection, in one round trip (a search is this and [`nearest`], no transaction around
/// them). The settings are the session's: every search sets them before its query, so what an
/// earlier search left on a pooled connection never counts.
pub(super) async fn entry_for_search(
    conn: &mut PgConnection,
    name: &str,
    settings: &ScanSettings,
) -> Done<Entry> {
    let iterative = if settings.iterative {
        ", set_config('hnsw.iterative_scan', 'strict_order', false)"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {COLUMNS}, set_config('hnsw.ef_search', \
         LEAST(GREATEST(COALESCE($2, ef_search), $3), $4)::text, false){iterative} \
         FROM {CATALOGUE} WHERE name = $1"
    );
    let int = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(name)
        .bind(settings.ef.map(int))
        .bind(int(settings.fetch))
        .bind(int(settings.max))
        .fetch_optional(&mut *conn)
        .await?;
    entry(&row.ok_or_else(|| missing(name))?)
}

/// The description and count of a catalogue entry.
pub(super) async fn info(conn: &mut PgConnection, entry: Entry) -> Done<CollectionInfo> {
    let sql = format!("SELECT count(*) FROM {}", table(entry.tab));
    let (objects,): (i64,) = sqlx::query_as(AssertSqlSafe(sql))
        .fetch_one(&mut *conn)
        .await?;
    Ok(CollectionInfo {
        spec: entry.spec,
        objects: usize::try_from(objects).unwrap_or(0),
        tombstones: 0,
    })
}

/// Creates the catalogue row and the table, in one transaction.
pub(super) async fn create(conn: &mut PgConnection, spec: &CollectionSpec) -> Done<()> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    let sql = format!(
        "INSERT INTO {CATALOGUE} (name, dimension, metric, m, ef_construction, ef_search, \
         embedder, created_seconds, created_nanos) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (name) DO NOTHING RETURNING tab"
    );
    let small = |v: usize| i32::try_from(v).unwrap_or(i32::MAX);
    let tab: Option<(i64,)> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(&spec.name)
        .bind(small(spec.dimension))
        .bind(schema::metric_name(spec.metric))
        .bind(small(spec.params.m))
        .bind(small(spec.params.ef_construction))
        .bind(small(spec.ef_search))
        .bind(&spec.embedder)
        .bind(spec.create_time.0)
        .bind(spec.create_time.1)
        .fetch_optional(&mut *tx)
        .await?;
    let Some((tab,)) = tab else {
        return Err(Failed::Refused(VectorError::AlreadyExists(format!(
            "collection '{}' already exists",
            spec.name
        ))));
    };
    schema::create_table(&mut tx, tab, spec).await?;
    tx.commit().await?;
    Ok(())
}

/// Up to `limit` catalogue entries after `after`, in byte order of their names.
pub(super) async fn list(conn: &mut PgConnection, after: &str, limit: usize) -> Done<Vec<Entry>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM {CATALOGUE} WHERE name COLLATE \"C\" > $1 \
         ORDER BY name COLLATE \"C\" LIMIT $2"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(after)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(entry).collect()
}

/// Deletes the catalogue row and drops the table, in one transaction; returns the count.
pub(super) async fn drop(conn: &mut PgConnection, name: &str) -> Done<u64> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    let found = entry_of(&mut tx, name, "FOR UPDATE").await?;
    let table = table(found.tab);
    let (objects,): (i64,) = sqlx::query_as(AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(AssertSqlSafe(format!(
        "DELETE FROM {CATALOGUE} WHERE name = $1"
    )))
    .bind(name)
    .execute(&mut *tx)
    .await?;
    sqlx::query(AssertSqlSafe(format!("DROP TABLE {table}")))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(u64::try_from(objects).unwrap_or(0))
}

/// pgvector's text form of a vector.
pub(super) fn vector_text(vector: &[f32]) -> String {
    let parts: Vec<String> = vector.iter().map(f32::to_string).collect();
    format!("[{}]", parts.join(","))
}

fn payload_json(payload: &Payload) -> serde_json::Value {
    fn value(v: &PayloadValue) -> serde_json::Value {
        match v {
            PayloadValue::Null => serde_json::Value::Null,
            PayloadValue::Bool(b) => (*b).into(),
            PayloadValue::Int(i) => (*i).into(),
            PayloadValue::Double(d) => serde_json::Number::from_f64(*d)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            PayloadValue::Text(s) => s.as_str().into(),
            PayloadValue::List(l) => l.iter().map(value).collect(),
        }
    }
    payload
        .iter()
        .map(|(k, v)| (k.clone(), value(v)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The stored record: the object's payload and text, exactly.
fn record(object: &Object) -> Vec<u8> {
    crate::wire::object_to_pb(Object {
        vector: Vec::new(),
        ..object.clone()
    })
    .encode_to_vec()
}

/// Payload and text from a stored record.
fn unrecord(bytes: &[u8]) -> Done<(Payload, Option<String>)> {
    let object = pb::VectorObject::decode(bytes)
        .map_err(|e| VectorError::Corrupt(format!("a stored object does not decode: {e}")))?;
    let object = crate::wire::object_from_pb(object);
    Ok((object.payload, object.text))
}

/// Inserts or replaces `objects` into `tab`, in the caller's transaction.
pub(super) async fn write(
    conn: &mut PgConnection,
    tab: i64,
    objects: &[Object],
) -> Done<UpsertCounts> {
    let ids: Vec<&str> = objects.iter().map(|o| o.id.as_str()).collect();
    let vectors: Vec<String> = objects.iter().map(|o| vector_text(&o.vector)).collect();
    let payloads: Vec<String> = objects
        .iter()
        .map(|o| payload_json(&o.payload).to_string())
        .collect();
    let records: Vec<Vec<u8>> = objects.iter().map(record).collect();
    let sql = format!(
        "INSERT INTO {} (id, embedding, payload, record) \
         SELECT i, v::vector, p::jsonb, r FROM unnest($1::text[], $2::text[], $3::text[], \
         $4::bytea[]) AS u(i, v, p, r) \
         ON CONFLICT (id) DO UPDATE SET embedding = excluded.embedding, \
         payload = excluded.payload, record = excluded.record \
         RETURNING (xmax = 0)",
        table(tab)
    );
    let created: Vec<(bool,)> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(ids)
        .bind(vectors)
        .bind(payloads)
        .bind(records)
        .fetch_all(&mut *conn)
        .await?;
    let new = created.iter().filter(|(c,)| *c).count() as u64;
    Ok(UpsertCounts {
        created: new,
        replaced: created.len() as u64 - new,
    })
}

/// One object.
pub(super) async fn get(conn: &mut PgConnection, tab: i64, id: &str) -> Done<Option<Object>> {
    let sql = format!(
        "SELECT embedding::real[], record FROM {} WHERE id = $1",
        table(tab)
    );
    let row: Option<(Vec<f32>, Vec<u8>)> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some((vector, bytes)) = row else {
        return Ok(None);
    };
    let (payload, text) = unrecord(&bytes)?;
    Ok(Some(Object {
        id: id.to_owned(),
        vector,
        payload,
        text,
    }))
}

/// Every object of `tab`, by id (re-embedding).
pub(super) async fn all(conn: &mut PgConnection, tab: i64) -> Done<Vec<Object>> {
    let sql = format!(
        "SELECT id, embedding::real[], record FROM {} ORDER BY id",
        table(tab)
    );
    let rows: Vec<(String, Vec<f32>, Vec<u8>)> = sqlx::query_as(AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter()
        .map(|(id, vector, bytes)| {
            let (payload, text) = unrecord(&bytes)?;
            Ok(Object {
                id,
                vector,
                payload,
                text,
            })
        })
        .collect()
}

/// Deletes ids from `tab`; returns how many were there.
pub(super) async fn delete(conn: &mut PgConnection, tab: i64, ids: &[String]) -> Done<u64> {
    let sql = format!("DELETE FROM {} WHERE id = ANY($1)", table(tab));
    let done = sqlx::query(AssertSqlSafe(sql))
        .bind(ids)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

/// Records the embedder of a re-embedded collection.
pub(super) async fn set_embedder(conn: &mut PgConnection, name: &str, embedder: &str) -> Done<()> {
    sqlx::query(AssertSqlSafe(format!(
        "UPDATE {CATALOGUE} SET embedder = $2 WHERE name = $1"
    )))
    .bind(name)
    .bind(embedder)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A candidate of a search: id, vector, and the record when the payload was asked for.
pub(super) type Candidate = (String, Vec<f32>, Option<Vec<u8>>);

/// The `limit` rows nearest the query by pgvector's operator (through the HNSW index when the
/// planner uses it), with the settings [`entry_for_search`] made.
///
/// The vectors become `real[]` only for the rows kept: when the planner scans the table
/// instead of the index (it does for small tables, or when `ef` is large next to the table),
/// a projection beside `ORDER BY … LIMIT` would convert every row before the sort, which cost
/// 5.4 of 5.8 ms for 2,000 vectors of 256 dimensions (docs/benchmarks.md).
pub(super) async fn nearest(
    conn: &mut PgConnection,
    entry: &Entry,
    query: &SearchQuery,
    limit: usize,
) -> Done<Vec<Candidate>> {
    let condition = query.filter.as_ref().map(|f| Condition::new(f, 3));
    let (inner, outer) = if query.with_payload {
        (", record", "record")
    } else {
        ("", "NULL::bytea")
    };
    let sql = format!(
        "SELECT id, embedding::real[], {outer} FROM (\
         SELECT id, embedding{inner} FROM {} WHERE {} \
         ORDER BY embedding {} $1::vector LIMIT $2) AS nearest",
        table(entry.tab),
        condition.as_ref().map_or("TRUE", |c| c.sql.as_str()),
        schema::operator(entry.spec.metric),
    );
    let mut statement = sqlx::query_as(AssertSqlSafe(sql))
        .bind(vector_text(&query.vector))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX));
    for value in condition.iter().flat_map(|c| c.binds.iter()) {
        statement = statement.bind(value);
    }
    Ok(statement.fetch_all(&mut *conn).await?)
}

/// Payload and text of a candidate's record (empty when none was fetched).
pub(super) fn payload_of(record: Option<&[u8]>) -> Done<(Payload, Option<String>)> {
    record.map_or_else(|| Ok(Default::default()), unrecord)
}

/// Answers when the database does.
pub(super) async fn probe(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1")
        .execute(&mut *conn)
        .await
        .map(|_| ())
}
