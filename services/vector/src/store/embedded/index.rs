//! The in-memory engine's approximate nearest-neighbour index: an HNSW graph from hnsw_rs over a
//! collection's prepared vectors, addressed by slot number, for one of three metrics, and the
//! copy of a collection's vectors it is built from off the collection's lock.
//!
//! The distances are our own rather than hnsw_rs's: hnsw_rs asserts that distances are
//! non-negative and its dot-product distance panics on vectors that are not unit length, and
//! client input must never panic the server. Cosine works on vectors normalised at insert.

use std::path::Path;

use hnsw_rs::prelude::{AnnT, Distance, FilterT, Hnsw, HnswIo};

use crate::model::{HnswParams, Metric, dot, l2};

/// 1 - cosine, on unit vectors: in [0, 2].
#[derive(Debug, Default, Clone, Copy)]
pub struct CosineDistance;
/// Euclidean distance.
#[derive(Debug, Default, Clone, Copy)]
pub struct L2Distance;
/// A positive, strictly decreasing function of the inner product (HNSW needs d ≥ 0).
#[derive(Debug, Default, Clone, Copy)]
pub struct DotDistance;

impl Distance<f32> for CosineDistance {
    fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
        (1.0 - dot(a, b)).max(0.0)
    }
}

impl Distance<f32> for L2Distance {
    fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
        l2(a, b)
    }
}

impl Distance<f32> for DotDistance {
    fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
        let d = dot(a, b);
        if d >= 0.0 { 1.0 / (1.0 + d) } else { 1.0 - d }
    }
}

const MAX_LAYERS: usize = 16;

/// An HNSW index for one metric.
pub enum Index {
    /// Cosine.
    Cosine(Hnsw<'static, f32, CosineDistance>),
    /// Euclidean.
    L2(Hnsw<'static, f32, L2Distance>),
    /// Inner product.
    Dot(Hnsw<'static, f32, DotDistance>),
}

macro_rules! each {
    ($index:expr, $h:ident => $body:expr) => {
        match $index {
            Index::Cosine($h) => $body,
            Index::L2($h) => $body,
            Index::Dot($h) => $body,
        }
    };
}

impl Index {
    /// An empty index expecting about `capacity` points.
    pub fn new(metric: Metric, params: HnswParams, capacity: usize) -> Self {
        let capacity = capacity.max(1024);
        let (m, ef) = (params.m, params.ef_construction);
        let mut index = match metric {
            Metric::Cosine => Index::Cosine(Hnsw::new(m, capacity, MAX_LAYERS, ef, CosineDistance)),
            Metric::L2 => Index::L2(Hnsw::new(m, capacity, MAX_LAYERS, ef, L2Distance)),
            Metric::Dot => Index::Dot(Hnsw::new(m, capacity, MAX_LAYERS, ef, DotDistance)),
        };
        // Extending the candidate list with neighbours' neighbours while choosing links gives a
        // better connected graph: recall@10 at ef 64 rose from 0.91-0.94 to 0.96 on the test set.
        each!(&mut index, h => h.set_extend_candidates(true));
        index
    }

    /// Adds prepared vectors under their slot numbers (in parallel for large batches).
    pub fn insert(&self, points: &[(&[f32], usize)]) {
        if points.len() >= 64 {
            let batch = points.to_vec();
            each!(self, h => h.parallel_insert_slice(&batch));
        } else {
            for point in points {
                each!(self, h => h.insert_slice(*point));
            }
        }
    }

    /// Points ever inserted (including tombstoned ones).
    pub fn len(&self) -> usize {
        each!(self, h => h.get_nb_point())
    }

    /// Whether nothing was inserted yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Up to `k` slots near `query`, nearest first; with `keep`, only slots it accepts (checked
    /// while walking the graph).
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        ef: usize,
        keep: Option<&dyn Fn(usize) -> bool>,
    ) -> Vec<usize> {
        // Always search through a filter: hnsw_rs's filtered walk does not stop at the first
        // candidate farther than the current results, which measured recall@10 0.96 instead of
        // 0.86 at ef 64 on the clustered test set, for a few more distance evaluations.
        let all = |_: usize| true;
        let filter = Keep(keep.unwrap_or(&all));
        let found = each!(self, h => h.search_filter(query, k, ef.max(k), Some(&filter)));
        found.into_iter().map(|n| n.d_id).collect()
    }

    /// Writes the graph and its vectors to `dir` as `basename.hnsw.{graph,data}`.
    pub fn dump(&self, dir: &Path, basename: &str) -> std::io::Result<()> {
        each!(self, h => h.file_dump(dir, basename))
            .map(|_| ())
            .map_err(|e| std::io::Error::other(e.to_string()))
    }

    /// Reads an index written by [`Index::dump`]. A damaged dump is an error, never a panic.
    pub fn load(metric: Metric, dir: &Path, basename: &str) -> std::io::Result<Self> {
        let dir = dir.to_path_buf();
        let basename = basename.to_owned();
        std::panic::catch_unwind(move || {
            // The loaded graph borrows its reader for its whole life; loads happen once per
            // collection at start-up, so the reader is kept for the life of the process.
            let io: &'static mut HnswIo = Box::leak(Box::new(HnswIo::new(&dir, &basename)));
            let loaded = match metric {
                Metric::Cosine => io.load_hnsw::<f32, CosineDistance>().map(Index::Cosine),
                Metric::L2 => io.load_hnsw::<f32, L2Distance>().map(Index::L2),
                Metric::Dot => io.load_hnsw::<f32, DotDistance>().map(Index::Dot),
            };
            loaded.map_err(|e| std::io::Error::other(e.to_string()))
        })
        .unwrap_or_else(|_| Err(std::io::Error::other("index dump is damaged")))
    }
}

/// A collection's live slots, prepared, for building its index off the lock.
pub(crate) struct IndexSource {
    pub(super) metric: Metric,
    pub(super) params: HnswParams,
    pub(super) points: Vec<(usize, Vec<f32>)>,
    /// Slots allocated when the copy was taken.
    pub(super) slots: usize,
    /// The collection's, see `Collection::install_index`.
    pub(super) incarnation: u64,
}

impl IndexSource {
    /// The index over the copied slots.
    pub(crate) fn build(self) -> BuiltIndex {
        let index = Index::new(self.metric, self.params, self.points.len());
        insert_points(&index, &self.points);
        BuiltIndex {
            index,
            slots: self.slots,
            incarnation: self.incarnation,
        }
    }
}

/// An index built from an [`IndexSource`], waiting to be installed.
pub(crate) struct BuiltIndex {
    pub(super) index: Index,
    pub(super) slots: usize,
    pub(super) incarnation: u64,
}

pub(super) fn insert_points(index: &Index, points: &[(usize, Vec<f32>)]) {
    let refs: Vec<(&[f32], usize)> = points.iter().map(|(s, v)| (v.as_slice(), *s)).collect();
    index.insert(&refs);
}

struct Keep<'a>(&'a dyn Fn(usize) -> bool);

impl FilterT for Keep<'_> {
    fn hnsw_filter(&self, id: &usize) -> bool {
        (self.0)(*id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_distance_is_positive_and_decreasing() {
        let d = |x: f32| DotDistance.eval(&[x], &[1.0]);
        let samples = [-1e6, -3.0, -0.5, 0.0, 0.5, 3.0, 1e6];
        for pair in samples.windows(2) {
            assert!(d(pair[0]) > d(pair[1]), "{pair:?}");
            assert!(d(pair[1]) > 0.0);
        }
    }

    #[test]
    fn search_honours_the_keep_predicate_and_dump_round_trips() {
        let index = Index::new(
            Metric::L2,
            HnswParams {
                m: 8,
                ef_construction: 50,
            },
            100,
        );
        let points: Vec<Vec<f32>> = (0..100).map(|i| vec![i as f32, 0.0]).collect();
        let refs: Vec<(&[f32], usize)> = points
            .iter()
            .enumerate()
            .map(|(i, p)| (p.as_slice(), i))
            .collect();
        index.insert(&refs);
        let near_ten = index.search(&[10.2, 0.0], 3, 50, Some(&|slot| slot != 10));
        assert_eq!(near_ten, vec![11, 9, 12]);

        let dir = tempfile::tempdir().unwrap();
        index.dump(dir.path(), "test").unwrap();
        let loaded = Index::load(Metric::L2, dir.path(), "test").unwrap();
        assert_eq!(loaded.len(), 100);
        assert_eq!(loaded.search(&[10.2, 0.0], 1, 50, None), vec![10]);
        assert!(Index::load(Metric::L2, dir.path(), "missing").is_err());
    }
}
