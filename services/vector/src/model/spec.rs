//! Collections as the domain sees them: the durable description every engine stores (name,
//! dimension, metric, HNSW parameters, the embedder that fills its vectors) and the rules on
//! names and vectors that hold whatever engine keeps the data.

use super::metric::Metric;
use crate::error::{Result, invalid};

/// HNSW build parameters (both engines build HNSW indexes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HnswParams {
    /// Links per node per layer.
    pub m: usize,
    /// Candidate list size while inserting.
    pub ef_construction: usize,
}

/// Largest vector dimension.
pub(crate) const MAX_DIMENSION: usize = 4096;
/// Default links per node.
pub(crate) const DEFAULT_M: usize = 16;
/// Default insert breadth.
pub(crate) const DEFAULT_EF_CONSTRUCTION: usize = 200;
/// Default search breadth.
pub(crate) const DEFAULT_EF_SEARCH: usize = 64;

/// The durable description of a collection.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionSpec {
    /// Unique name.
    pub name: String,
    /// Length of every vector.
    pub dimension: usize,
    /// Distance metric.
    pub metric: Metric,
    /// Index build parameters.
    pub params: HnswParams,
    /// Default search breadth.
    pub ef_search: usize,
    /// Embedder name recorded at creation (`none`: vectors only).
    pub embedder: String,
    /// Creation time, seconds and nanoseconds since the Unix epoch.
    pub create_time: (i64, i32),
}

impl CollectionSpec {
    /// A collection with the default HNSW parameters, no embedder and creation time zero
    /// (tests, benchmarks, the demo data).
    pub fn new(name: &str, dimension: usize, metric: Metric) -> Self {
        Self {
            name: name.to_owned(),
            dimension,
            metric,
            params: HnswParams {
                m: DEFAULT_M,
                ef_construction: DEFAULT_EF_CONSTRUCTION,
            },
            ef_search: DEFAULT_EF_SEARCH,
            embedder: crate::embed::NONE.to_owned(),
            create_time: (0, 0),
        }
    }

    /// Checks a vector against the collection: dimension, finiteness, and non-zero for cosine.
    pub(crate) fn check_vector(&self, vector: &[f32], field: &str) -> Result<()> {
        if vector.len() != self.dimension {
            return Err(invalid(format!(
                "{field}: expected dimension {}, got {}",
                self.dimension,
                vector.len()
            )));
        }
        if let Some(i) = vector.iter().position(|x| !x.is_finite()) {
            return Err(invalid(format!(
                "{field}: component {i} is not a finite number"
            )));
        }
        if self.metric == Metric::Cosine && vector.iter().all(|x| *x == 0.0) {
            return Err(invalid(format!(
                "{field}: an all-zero vector has no cosine direction"
            )));
        }
        Ok(())
    }
}

/// Checks a collection name: `[A-Za-z][A-Za-z0-9_-]{0,62}`.
pub(crate) fn check_name(name: &str, field: &str) -> Result<()> {
    let mut chars = name.chars();
    let valid = name.len() <= 63
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        Ok(())
    } else {
        Err(invalid(format!(
            "{field}: '{name}' is not a collection name (a letter, then up to 62 letters, digits, '_' or '-')"
        )))
    }
}
