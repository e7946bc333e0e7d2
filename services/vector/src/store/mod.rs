//! The [`VectorStore`] trait, the only door to stored collections, and [`open`], which picks the
//! engine. The trait speaks domain types and vectors only: texts are embedded above it
//! (`crate::vectors`), so an engine never needs an embedder, and nothing here knows protobuf.
//!
//! Engines: `embedded` (the default: collections in memory with HNSW indexes, made durable by a
//! write-ahead log and snapshots) and `postgres` (`--database-url`: collections in PostgreSQL
//! tables with pgvector HNSW indexes, shared by every replica).

mod embedded;
mod postgres;

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::Result;
use crate::model::{CollectionSpec, Filter, Object, Payload, UpsertCounts};

pub(crate) use embedded::{FULL_SCAN_FLOATS, SEARCH_CACHE_BYTES, Searches};
pub(crate) use postgres::{PgSettings, PgStore};

#[doc(hidden)]
pub use embedded::Collection;

/// A collection's description and counts.
#[derive(Debug, Clone)]
pub(crate) struct CollectionInfo {
    /// The description.
    pub(crate) spec: CollectionSpec,
    /// Live objects.
    pub(crate) objects: usize,
    /// Deleted or replaced objects an index still holds (0 where the engine has none).
    pub(crate) tombstones: usize,
}

/// A validated search near a vector.
#[derive(Debug, Clone)]
pub(crate) struct SearchQuery {
    /// Collection to search.
    pub(crate) collection: String,
    /// The query vector (not yet checked against the collection's dimension).
    pub(crate) vector: Vec<f32>,
    /// Maximum number of hits.
    pub(crate) k: usize,
    /// Search breadth; `None` uses the collection's default.
    pub(crate) ef: Option<usize>,
    /// Payload filter.
    pub(crate) filter: Option<Filter>,
    /// Return each hit's vector.
    pub(crate) with_vector: bool,
    /// Return each hit's payload and text.
    pub(crate) with_payload: bool,
}

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Found {
    /// Object id.
    pub(crate) id: String,
    /// Similarity; higher is closer.
    pub(crate) score: f32,
    /// Metric distance; lower is closer.
    pub(crate) distance: f32,
    /// Payload, when asked for.
    pub(crate) payload: Payload,
    /// Vector, when asked for.
    pub(crate) vector: Vec<f32>,
    /// Text, when the payload was asked for.
    pub(crate) text: Option<String>,
}

/// Computes an object's new vector for [`VectorStore::reembed`] (an error names the object).
pub(crate) type Reembedder = Arc<dyn Fn(&Object) -> Result<Vec<f32>> + Send + Sync>;

/// Storage of vector collections. Every method is atomic: a failed write changed nothing.
#[tonic::async_trait]
pub(crate) trait VectorStore: Send + Sync + 'static {
    /// Creates an empty collection; ALREADY_EXISTS when the name is taken.
    async fn create_collection(&self, spec: CollectionSpec) -> Result<CollectionInfo>;
    /// Describes one collection.
    async fn collection(&self, name: &str) -> Result<CollectionInfo>;
    /// Up to `limit` collections with names after `after`, in name order.
    async fn list_collections(&self, after: &str, limit: usize) -> Result<Vec<CollectionInfo>>;
    /// Deletes a collection; returns how many objects it held.
    async fn delete_collection(&self, name: &str) -> Result<u64>;
    /// Inserts or replaces objects (vectors final, batch already checked), all or nothing.
    /// Vectors are checked against the collection here (dimension, finite, cosine non-zero).
    async fn upsert(&self, collection: &str, objects: Vec<Object>) -> Result<UpsertCounts>;
    /// One object by id.
    async fn get(&self, collection: &str, id: &str) -> Result<Object>;
    /// Deletes objects by id (unknown ids are ignored); returns how many were deleted.
    async fn delete(&self, collection: &str, ids: Vec<String>) -> Result<u64>;
    /// The `k` nearest objects matching the filter, best first (score descending, then id).
    async fn search(&self, query: SearchQuery) -> Result<Vec<Found>>;
    /// Replaces every object's vector with what `embed` computes from it and records `embedder`
    /// on the collection, atomically (objects written meanwhile wait or are included); returns
    /// the collection afterwards and how many objects were re-embedded.
    async fn reembed(
        &self,
        collection: &str,
        embedder: String,
        embed: Reembedder,
    ) -> Result<(CollectionInfo, u64)>;
    /// Rebuilds a collection's index without tombstones; returns how many were dropped.
    async fn compact(&self, collection: &str) -> Result<u64>;
    /// Makes the next start fast (a snapshot); called on graceful shutdown.
    async fn flush(&self) -> Result<()>;
}

/// Whether the PostgreSQL engine accepts `url` (sqlx's options and percent-encoding).
pub(crate) fn check_url(url: &str) -> std::result::Result<(), String> {
    <sqlx::postgres::PgConnectOptions as std::str::FromStr>::from_str(url)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Which engine holds the collections, and how it is tuned.
#[derive(Debug, Clone)]
pub(crate) enum Settings {
    /// In memory, durable in `dir`.
    Embedded {
        /// The data directory.
        dir: PathBuf,
        /// Log size that triggers a snapshot.
        snapshot_after_bytes: u64,
        /// Searches over at most this many vector components scan exactly.
        full_scan_floats: usize,
        /// Searches kept for when they come again.
        searches: Arc<Searches>,
    },
}

/// Opens the engine `settings` names (for the embedded engine: loads its snapshot and log,
/// which blocks; call it off the async threads).
pub(crate) fn open(settings: Settings) -> Result<Arc<dyn VectorStore>> {
    match settings {
        Settings::Embedded {
            dir,
            snapshot_after_bytes,
            full_scan_floats,
            searches,
        } => {
            let options = embedded::StoreOptions {
                snapshot_after_bytes,
                full_scan_floats,
                searches,
            };
            Ok(Arc::new(embedded::EmbeddedStore::open(&dir, options)?))
        }
    }
}
