//! The exact scan of a small collection, laid out for it: every slot's prepared vector stored
//! column by column (component `d` of all slots side by side), so that a query adds
//! `q[d] × column d` into one score per slot, a loop the compiler vectorises over contiguous
//! memory, and skips every component where the query is zero. The built-in `hashing-v1`
//! embedder's queries have a few dozen non-zero components out of 256, so a scan of the 2,000
//! FAQs reads a tenth of the floats a row-by-row scan reads (issue 17's profile had the
//! row-by-row dot products at 30–40 % of the vector service's CPU).
//!
//! The matrix only ranks: the slots it selects are scored again with the metric's own kernels,
//! so the scores a search reports are the same whichever way the candidates were found.
//!
//! Kept only while the collection is within the exact-scan size (`full_scan_floats`); a
//! collection that outgrows it drops its matrix and searches through HNSW, as before.

use crate::model::{Metric, dot};

/// Prepared vectors column by column, with room for `capacity` slots.
pub(crate) struct ScanMatrix {
    metric: Metric,
    dimension: usize,
    capacity: usize,
    /// Slots filled so far (dead ones included: liveness is the collection's business).
    len: usize,
    /// `dimension` columns of `capacity` floats.
    columns: Vec<f32>,
    /// Squared norm of each slot's vector (L2 ranks by `2 q·v − |v|²`).
    norms: Vec<f32>,
}

impl ScanMatrix {
    pub(crate) fn new(metric: Metric, dimension: usize) -> Self {
        Self {
            metric,
            dimension,
            capacity: 0,
            len: 0,
            columns: Vec::new(),
            norms: Vec::new(),
        }
    }

    /// Slots held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Appends the next slot's prepared vector (`dimension` long).
    pub(crate) fn push(&mut self, prepared: &[f32]) {
        debug_assert_eq!(prepared.len(), self.dimension);
        if self.len == self.capacity {
            // Doubling from a few slots: a one-object collection of 4,096 dimensions holds
            // 128 KiB here, not a megabyte.
            self.grow((self.capacity * 2).max(8));
        }
        for (d, x) in prepared.iter().enumerate() {
            self.columns[d * self.capacity + self.len] = *x;
        }
        self.norms.push(dot(prepared, prepared));
        self.len += 1;
    }

    fn grow(&mut self, capacity: usize) {
        let mut columns = vec![0.0; self.dimension * capacity];
        for d in 0..self.dimension {
            let old = &self.columns[d * self.capacity..d * self.capacity + self.len];
            columns[d * capacity..d * capacity + self.len].copy_from_slice(old);
        }
        self.columns = columns;
        self.capacity = capacity;
    }

    /// One ranking key per slot for the prepared `query`: higher is closer, in the metric's
    /// order (not its reported score).
    pub(crate) fn rank(&self, query: &[f32]) -> Vec<f32> {
        let mut keys = vec![0.0f32; self.len];
        for (d, &q) in query.iter().enumerate() {
            if q != 0.0 {
                let column = &self.columns[d * self.capacity..d * self.capacity + self.len];
                add_scaled(&mut keys, q, column);
            }
        }
        if self.metric == Metric::L2 {
            for (key, norm) in keys.iter_mut().zip(&self.norms) {
                *key = 2.0 * *key - norm;
            }
        }
        keys
    }
}

/// `acc += q × column`. On x86-64 with AVX2 the same loop is compiled for 256-bit registers,
/// chosen at run time, as the metric kernels are.
fn add_scaled(acc: &mut [f32], q: f32, column: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { add_scaled_avx2(acc, q, column) };
    }
    add_scaled_plain(acc, q, column);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn add_scaled_avx2(acc: &mut [f32], q: f32, column: &[f32]) {
    add_scaled_plain(acc, q, column);
}

#[inline(always)]
fn add_scaled_plain(acc: &mut [f32], q: f32, column: &[f32]) {
    for (a, c) in acc.iter_mut().zip(column) {
        *a += q * c;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_follow_each_metric_across_growth() {
        let vectors: Vec<Vec<f32>> = (0..200)
            .map(|i| {
                (0..8)
                    .map(|d| ((i * 7 + d * 3) % 11) as f32 - 5.0)
                    .collect()
            })
            .collect();
        let query = [1.0, 0.0, -2.0, 0.0, 0.5, 0.0, 0.0, 3.0];
        for metric in [Metric::Cosine, Metric::L2, Metric::Dot] {
            let mut matrix = ScanMatrix::new(metric, 8);
            let prepared: Vec<Vec<f32>> = vectors.iter().map(|v| metric.prepare(v)).collect();
            for v in &prepared {
                matrix.push(v);
            }
            assert_eq!(matrix.len(), 200);
            let q = metric.prepare(&query);
            let keys = matrix.rank(&q);
            let mut by_key: Vec<usize> = (0..200).collect();
            by_key.sort_by(|&a, &b| keys[b].total_cmp(&keys[a]).then(a.cmp(&b)));
            let mut by_score: Vec<usize> = (0..200).collect();
            let score = |i: usize| metric.score_and_distance(&q, &prepared[i]).0;
            by_score.sort_by(|&a, &b| score(b).total_cmp(&score(a)).then(a.cmp(&b)));
            // The same best ten (ties between equal vectors may differ in the last bit).
            let top = |order: &[usize]| {
                let mut t: Vec<f32> = order[..10].iter().map(|&i| score(i)).collect();
                t.sort_by(f32::total_cmp);
                t
            };
            let (a, b) = (top(&by_key), top(&by_score));
            for (x, y) in a.iter().zip(&b) {
                assert!((x - y).abs() < 1e-4, "{metric:?}: {a:?} vs {b:?}");
            }
        }
    }
}
