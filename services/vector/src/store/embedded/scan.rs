//! The exact scan of a small collection, laid out for it: every slot's prepared vector stored
//! column by column (component `d` of all slots side by side), so that a query adds
//! `q[d] × column d` into one score per slot (four columns per pass), a loop the compiler
//! vectorises over contiguous memory, and skips every component where the query is zero. The built-in `hashing-v1`
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
        let column = |d: usize| &self.columns[d * self.capacity..d * self.capacity + self.len];
        // Four columns per pass over the keys: a quarter of the loads and stores of `keys`.
        let mut group: [(f32, &[f32]); 4] = [(0.0, &[]); 4];
        let mut filled = 0;
        for (d, &q) in query.iter().enumerate().filter(|(_, q)| **q != 0.0) {
            group[filled] = (q, column(d));
            filled += 1;
            if filled == 4 {
                add_scaled4(&mut keys, &group);
                filled = 0;
            }
        }
        if filled > 0 {
            // The last few, with zero factors on a real column for the rest.
            let padding = (0.0, group[0].1);
            group[filled..].fill(padding);
            add_scaled4(&mut keys, &group);
        }
        if self.metric == Metric::L2 {
            for (key, norm) in keys.iter_mut().zip(&self.norms) {
                *key = 2.0 * *key - norm;
            }
        }
        keys
    }
}

/// The slots of the `n` highest `keys` that pass `keep`, in no particular order (ties at the
/// cut broken arbitrarily). One pass with a buffer of `2n` candidates: when it fills, a
/// selection keeps its best `n`, whose lowest key becomes the bar; a slot at or below the bar
/// is passed over without calling `keep`. Against collecting a pair per slot and partitioning
/// them all (about 15 % of the vector service's CPU under issue 17's Search cell) it writes
/// and sorts a few dozen pairs and reads no rejected slot.
pub(crate) fn top_slots(keys: &[f32], n: usize, keep: impl Fn(usize) -> bool) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    let best_first = |a: &(f32, usize), b: &(f32, usize)| b.0.total_cmp(&a.0);
    let mut list: Vec<(f32, usize)> = Vec::with_capacity(n.saturating_mul(2).min(keys.len()));
    let mut bar = None;
    for (slot, &key) in keys.iter().enumerate() {
        if bar.is_some_and(|bar: f32| key.total_cmp(&bar).is_le()) || !keep(slot) {
            continue;
        }
        list.push((key, slot));
        if list.len() == n.saturating_mul(2) {
            list.select_nth_unstable_by(n - 1, best_first);
            list.truncate(n);
            bar = Some(list[n - 1].0);
        }
    }
    if list.len() > n {
        list.select_nth_unstable_by(n - 1, best_first);
        list.truncate(n);
    }
    list.into_iter().map(|(_, slot)| slot).collect()
}

/// `acc += Σ q × column` over four (factor, column) pairs, each column as long as `acc`. On
/// x86-64 with AVX2 the same loop is compiled for 256-bit registers, chosen at run time, as the
/// metric kernels are.
fn add_scaled4(acc: &mut [f32], terms: &[(f32, &[f32]); 4]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { add_scaled4_avx2(acc, terms) };
    }
    add_scaled4_plain(acc, terms);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn add_scaled4_avx2(acc: &mut [f32], terms: &[(f32, &[f32]); 4]) {
    add_scaled4_plain(acc, terms);
}

#[inline(always)]
fn add_scaled4_plain(acc: &mut [f32], terms: &[(f32, &[f32]); 4]) {
    let [(q0, c0), (q1, c1), (q2, c2), (q3, c3)] = *terms;
    let n = acc.len();
    let (c0, c1, c2, c3) = (&c0[..n], &c1[..n], &c2[..n], &c3[..n]);
    for i in 0..n {
        acc[i] += q0 * c0[i] + q1 * c1[i] + q2 * c2[i] + q3 * c3[i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_slots_are_the_highest_kept_keys() {
        let keys: Vec<f32> = (0..500).map(|i| ((i * 37) % 101) as f32 - 50.0).collect();
        let keep = |slot: usize| !slot.is_multiple_of(3);
        for n in [0, 1, 5, 16, 300, 1000] {
            let mut found = top_slots(&keys, n, keep);
            found.sort_unstable();
            let mut kept: Vec<usize> = (0..keys.len()).filter(|&s| keep(s)).collect();
            kept.sort_by(|&a, &b| keys[b].total_cmp(&keys[a]).then(a.cmp(&b)));
            kept.truncate(n);
            // Ties at the cut may pick other slots of the same key; the keys must agree.
            let key_list = |slots: &[usize]| {
                let mut k: Vec<f32> = slots.iter().map(|&s| keys[s]).collect();
                k.sort_by(f32::total_cmp);
                k
            };
            assert_eq!(key_list(&found), key_list(&kept), "n={n}");
            assert!(found.iter().all(|&s| keep(s)), "n={n}");
            let mut unique = found.clone();
            unique.dedup();
            assert_eq!(unique.len(), found.len(), "n={n}");
        }
    }

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
