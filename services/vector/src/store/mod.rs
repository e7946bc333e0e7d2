//! The [`VectorStore`] trait, the gRPC layer's only door to data, and its embedded
//! implementation ([`EmbeddedStore`]: in-memory collections made durable by a write-ahead log
//! and snapshots). A Weaviate- or Qdrant-backed store would be another implementation.

mod embedded;
mod records;

pub use embedded::{EmbeddedStore, StoreOptions};

use crate::collection::{CollectionSpec, Object, UpsertCounts};
use crate::error::Result;
use crate::filter::{Filter, Payload};
use chatmesh_proto::vector as pb;

/// A collection's description and counts.
#[derive(Debug, Clone)]
pub struct CollectionInfo {
    /// The description.
    pub spec: CollectionSpec,
    /// Live objects.
    pub objects: usize,
    /// Deleted or replaced objects still in the index.
    pub tombstones: usize,
}

/// What to search near.
#[derive(Debug, Clone)]
pub enum Query {
    /// A vector of the collection's dimension.
    Vector(Vec<f32>),
    /// A text, embedded with the collection's embedder.
    Text(String),
}

/// A search request, validated except for what needs the collection (dimension, embedder).
#[derive(Debug, Clone)]
pub struct SearchQuery {
    /// Collection to search.
    pub collection: String,
    /// What to search near.
    pub query: Query,
    /// Maximum number of hits.
    pub k: usize,
    /// Search breadth; `None` uses the collection's default.
    pub ef: Option<usize>,
    /// Payload filter.
    pub filter: Option<Filter>,
    /// Return each hit's vector.
    pub with_vector: bool,
    /// Return each hit's payload and text.
    pub with_payload: bool,
}

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// Object id.
    pub id: String,
    /// Similarity; higher is closer.
    pub score: f32,
    /// Metric distance; lower is closer.
    pub distance: f32,
    /// Payload, when asked for.
    pub payload: Payload,
    /// Vector, when asked for.
    pub vector: Vec<f32>,
    /// Text, when the payload was asked for.
    pub text: Option<String>,
}

/// Storage of vector collections.
pub trait VectorStore: Send + Sync + 'static {
    /// Creates an empty collection.
    fn create_collection(&self, spec: CollectionSpec) -> Result<CollectionInfo>;
    /// Describes one collection.
    fn collection(&self, name: &str) -> Result<CollectionInfo>;
    /// Up to `limit` collections with names after `after`, in name order.
    fn list_collections(&self, after: &str, limit: usize) -> Result<Vec<CollectionInfo>>;
    /// Deletes a collection; returns how many objects it held.
    fn delete_collection(&self, name: &str) -> Result<u64>;
    /// Inserts or replaces objects, all or nothing.
    fn upsert(&self, collection: &str, objects: Vec<pb::VectorObject>) -> Result<UpsertCounts>;
    /// One object by id.
    fn get(&self, collection: &str, id: &str) -> Result<Object>;
    /// Deletes objects by id (unknown ids are ignored); returns how many were deleted.
    fn delete(&self, collection: &str, ids: &[String]) -> Result<u64>;
    /// Nearest objects.
    fn search(&self, query: &SearchQuery) -> Result<Vec<Found>>;
    /// Embeds texts with a collection's embedder; returns the embedder's name and the vectors.
    fn embed(&self, collection: &str, texts: &[String]) -> Result<(String, Vec<Vec<f32>>)>;
    /// Rebuilds a collection's index without tombstones; returns how many were dropped.
    fn compact(&self, collection: &str) -> Result<u64>;
    /// Makes start-up fast next time (a snapshot); called on graceful shutdown.
    fn flush(&self) -> Result<()>;
}
