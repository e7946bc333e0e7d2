//! Not API: what the benchmarks and the in-process tests of the index reach directly (the
//! in-memory collection with its HNSW index, the domain types it takes, generated test data).
//! Nothing here is stable; the service's API is its gRPC contract.

pub mod testdata;

pub use crate::model::{
    Bounds, CollectionSpec, Filter, HnswParams, Metric, Object, Payload, PayloadValue, Scalar,
    UpsertCounts, dot,
};
pub use crate::store::Collection;

use std::sync::Arc;

use crate::embed::{Embedder, EmbedderSetting, Embedders};

/// An embedder for measurements outside the service (the paraphrase evaluation).
pub struct TextEmbedder(Arc<dyn Embedder>);

impl TextEmbedder {
    /// `hashing-v1` at `dimension`.
    pub fn hashing(dimension: usize) -> Result<Self, String> {
        Self::resolve(&Embedders::default(), crate::embed::HASHING_V1, dimension)
    }

    /// The static model in `dir`.
    pub fn load_static(dir: &std::path::Path) -> Result<Self, String> {
        let embedders = Embedders::load(&EmbedderSetting::Static(dir.to_path_buf()))?;
        Self::resolve(&embedders, embedders.default_name(), 256)
    }

    fn resolve(embedders: &Embedders, name: &str, dimension: usize) -> Result<Self, String> {
        match embedders.resolve(name, dimension) {
            Ok(Some(embedder)) => Ok(Self(embedder)),
            Ok(None) => Err("no embedder".into()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// The name collections record.
    pub fn name(&self) -> &str {
        self.0.name()
    }

    /// A question's vector (near_text).
    pub fn query(&self, text: &str) -> Vec<f32> {
        self.0.embed(text)
    }

    /// A stored document's vector.
    pub fn document(&self, text: &str) -> Vec<f32> {
        self.0.embed_document(text)
    }
}
