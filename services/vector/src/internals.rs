//! Not API: what the benchmarks and the in-process tests of the index reach directly (the
//! in-memory collection with its HNSW index, the domain types it takes, generated test data).
//! Nothing here is stable; the service's API is its gRPC contract.

pub mod testdata;

pub use crate::model::{
    Bounds, CollectionSpec, Filter, HnswParams, Metric, Object, Payload, PayloadValue, Scalar,
    UpsertCounts, dot,
};
pub use crate::store::Collection;
