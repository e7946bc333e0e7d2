//! The embedded engine's on-disk format: the record types of the log and the snapshot, as
//! protobuf messages (prost derive). Objects and collection descriptions reuse the public v1
//! messages (translated in `crate::wire`), whose wire format buf's breaking-change check already
//! keeps stable.

use chatmesh_proto::vector as pb;

use crate::error::{Result, VectorError};
use crate::model::CollectionSpec;

/// The description a log entry or snapshot recorded (corruption when it makes no sense).
pub(super) fn spec(stored: &pb::Collection) -> Result<CollectionSpec> {
    crate::wire::collection_from_pb(stored).ok_or_else(|| {
        VectorError::Corrupt(format!(
            "stored collection '{}' has an impossible description",
            stored.name
        ))
    })
}

/// One logged write, with its log sequence number.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct LogEntry {
    /// Increases by one per write, across restarts.
    #[prost(uint64, tag = "1")]
    pub(super) lsn: u64,
    /// The write.
    #[prost(oneof = "Op", tags = "2, 3, 4, 5, 6")]
    pub(super) op: Option<Op>,
}

/// A write.
#[derive(Clone, PartialEq, prost::Oneof)]
pub(super) enum Op {
    /// A new collection (name, dimension, distance, HNSW parameters, embedder, time).
    #[prost(message, tag = "2")]
    CreateCollection(pb::Collection),
    /// A collection removed with its objects.
    #[prost(string, tag = "3")]
    DeleteCollection(String),
    /// Objects inserted or replaced, with their final vectors.
    #[prost(message, tag = "4")]
    Upsert(UpsertOp),
    /// Objects deleted by id.
    #[prost(message, tag = "5")]
    Delete(DeleteOp),
    /// Every object with its new vector, and the embedder that computed them.
    #[prost(message, tag = "6")]
    Reembed(ReembedOp),
}

/// A collection re-embedded.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct ReembedOp {
    /// The collection.
    #[prost(string, tag = "1")]
    pub(super) collection: String,
    /// The embedder recorded from now on.
    #[prost(string, tag = "2")]
    pub(super) embedder: String,
    /// The objects with their new vectors.
    #[prost(message, repeated, tag = "3")]
    pub(super) objects: Vec<pb::VectorObject>,
}

/// Objects written to one collection.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct UpsertOp {
    /// The collection.
    #[prost(string, tag = "1")]
    pub(super) collection: String,
    /// The objects, vectors filled in.
    #[prost(message, repeated, tag = "2")]
    pub(super) objects: Vec<pb::VectorObject>,
}

/// Ids deleted from one collection.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct DeleteOp {
    /// The collection.
    #[prost(string, tag = "1")]
    pub(super) collection: String,
    /// The ids.
    #[prost(string, repeated, tag = "2")]
    pub(super) ids: Vec<String>,
}

/// One record of a snapshot file.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct SnapshotRecord {
    /// The part.
    #[prost(oneof = "SnapshotPart", tags = "1, 2, 3, 4")]
    pub(super) part: Option<SnapshotPart>,
}

/// The parts of a snapshot, in file order: header, then per collection its description
/// followed by its objects in chunks, then the end marker.
#[derive(Clone, PartialEq, prost::Oneof)]
pub(super) enum SnapshotPart {
    /// The log sequence number the snapshot includes (later log entries are replayed).
    #[prost(uint64, tag = "1")]
    Header(u64),
    /// A collection.
    #[prost(message, tag = "2")]
    Collection(SnapshotCollection),
    /// Objects of the collection before, with their slots.
    #[prost(message, tag = "3")]
    Objects(SnapshotObjects),
    /// The number of collections and objects written, proving the file is complete.
    #[prost(message, tag = "4")]
    End(SnapshotEnd),
}

/// A collection's description and index bookkeeping.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct SnapshotCollection {
    /// The description.
    #[prost(message, optional, tag = "1")]
    pub(super) spec: Option<pb::Collection>,
    /// Slots allocated so far.
    #[prost(uint64, tag = "2")]
    pub(super) next_slot: u64,
    /// Points in the dumped index, or 0 when no dump was written.
    #[prost(uint64, tag = "3")]
    pub(super) index_points: u64,
    /// Base name of the index dump in the data directory.
    #[prost(string, tag = "4")]
    pub(super) index_basename: String,
}

/// A chunk of objects.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct SnapshotObjects {
    /// Slot of each object.
    #[prost(uint64, repeated, tag = "1")]
    pub(super) slots: Vec<u64>,
    /// The objects.
    #[prost(message, repeated, tag = "2")]
    pub(super) objects: Vec<pb::VectorObject>,
}

/// Totals closing a snapshot.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct SnapshotEnd {
    /// Collections written.
    #[prost(uint64, tag = "1")]
    pub(super) collections: u64,
    /// Objects written.
    #[prost(uint64, tag = "2")]
    pub(super) objects: u64,
}

impl chatmesh_durable::Entry for LogEntry {
    fn lsn(&self) -> u64 {
        self.lsn
    }
}
