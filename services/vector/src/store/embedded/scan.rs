//! The exact scan of a small collection, laid out for it: every slot's prepared vector stored
//! column by column (component `d` of all slots side by side), so that a query adds
//! `q[d] × column d` into one score per slot (four columns per pass), a loop the compiler
//! vectorises over contiguous memory, and skips every component where the query is zero. The
//! built-in `hashing-v1` embedder's queries have a few dozen non-zero components out of 256, so
//! a scan of the 2,000 FAQs reads a tenth of the floats a row-by-row scan reads (issue 17's
//! profile had the row-by-row dot products at 30–40 % of the vector service's CPU).
//!
//! The matrix only ranks: the slots it selects are scored again with the metric's own kernels,
//! so the scores a search reports are the same whichever way the candidates were found.
//!
//! Cosine collections keep their columns as IEEE half floats (`half::f16`): their prepared
//! vectors are unit vectors, well inside the format's range, and the column sums were the
//! vector service's top frame, waiting on the memory they read (an AVX-512 copy of the loop
//! measured no faster). Halves read half the bytes. A half keeps 11 bits of each component, so
//! a key is off by at most [`ScanMatrix::rank_error`]; the search widens its shortlist by
//! that much (`collection.rs`), so the answer is still the one scoring every slot would give.
//! L2 and dot product vectors can hold any float, so those keep full floats.
//!
//! Kept only while the collection is within the exact-scan size (`full_scan_floats`); a
//! collection that outgrows it drops its matrix and searches through HNSW, as before.

use half::f16;
use half::slice::HalfFloatSliceExt;

use crate::model::{Metric, dot};

/// Prepared vectors column by column, with room for `capacity` slots.
pub(crate) struct ScanMatrix {
    metric: Metric,
    dimension: usize,
    capacity: usize,
    /// Slots filled so far (dead ones included: liveness is the collection's business).
    len: usize,
    /// `dimension` columns of `capacity` components.
    columns: Columns,
    /// Squared norm of each slot's vector (L2 ranks by `2 q·v − |v|²`).
    norms: Vec<f32>,
}

/// The components, as halves for cosine collections and as floats otherwise.
enum Columns {
    Half(Vec<f16>),
    Full(Vec<f32>),
}

/// A kernel adding four scaled columns of `T` into the keys.
type AddScaled4<T> = fn(&mut [f32], &[(f32, &[T]); 4]);

/// Relative rounding error of a half: 11 significant bits, rounded to nearest.
const HALF_ROUNDING: f32 = 1.0 / 2048.0;

impl ScanMatrix {
    pub(crate) fn new(metric: Metric, dimension: usize) -> Self {
        let columns = match metric {
            Metric::Cosine => Columns::Half(Vec::new()),
            Metric::L2 | Metric::Dot => Columns::Full(Vec::new()),
        };
        Self {
            metric,
            dimension,
            capacity: 0,
            len: 0,
            columns,
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
        let (capacity, len) = (self.capacity, self.len);
        match &mut self.columns {
            Columns::Half(columns) => {
                for (d, x) in prepared.iter().enumerate() {
                    columns[d * capacity + len] = f16::from_f32(*x);
                }
            }
            Columns::Full(columns) => {
                for (d, x) in prepared.iter().enumerate() {
                    columns[d * capacity + len] = *x;
                }
            }
        }
        self.norms.push(dot(prepared, prepared));
        self.len += 1;
    }

    fn grow(&mut self, capacity: usize) {
        fn regrow<T: Copy + Default>(
            old: &[T],
            dimension: usize,
            from: (usize, usize),
            capacity: usize,
        ) -> Vec<T> {
            let (old_capacity, len) = from;
            let mut columns = vec![T::default(); dimension * capacity];
            for d in 0..dimension {
                let column = &old[d * old_capacity..d * old_capacity + len];
                columns[d * capacity..d * capacity + len].copy_from_slice(column);
            }
            columns
        }
        let from = (self.capacity, self.len);
        self.columns = match &self.columns {
            Columns::Half(old) => Columns::Half(regrow(old, self.dimension, from, capacity)),
            Columns::Full(old) => Columns::Full(regrow(old, self.dimension, from, capacity)),
        };
        self.capacity = capacity;
    }

    /// How far a key from [`rank`](Self::rank) may be from the exact one for the prepared
    /// `query`: none beyond the sum's own rounding for full floats; for halves, each
    /// component's rounding times `|q_d|` summed, at most `|q| · |v| · 2⁻¹¹` with `|v|` = 1,
    /// doubled to cover halves too small for 11 bits and the float sums' rounding.
    pub(crate) fn rank_error(&self, query: &[f32]) -> f32 {
        match self.columns {
            Columns::Half(_) => 2.0 * HALF_ROUNDING * dot(query, query).sqrt(),
            Columns::Full(_) => 0.0,
        }
    }

    /// One ranking key per slot for the prepared `query`: higher is closer, in the metric's
    /// order (not its reported score), within [`rank_error`](Self::rank_error) of the exact
    /// key.
    pub(crate) fn rank(&self, query: &[f32]) -> Vec<f32> {
        let mut keys = vec![0.0f32; self.len];
        match &self.columns {
            Columns::Half(columns) => self.sum_columns(&mut keys, query, columns, add_scaled4_half),
            Columns::Full(columns) => self.sum_columns(&mut keys, query, columns, add_scaled4),
        }
        if self.metric == Metric::L2 {
            for (key, norm) in keys.iter_mut().zip(&self.norms) {
                *key = 2.0 * *key - norm;
            }
        }
        keys
    }

    /// `keys += Σ q[d] × column d` over the query's non-zero components, four columns per
    /// pass over the keys: a quarter of the loads and stores of `keys`.
    fn sum_columns<T>(&self, keys: &mut [f32], query: &[f32], columns: &[T], add4: AddScaled4<T>) {
        let column = |d: usize| &columns[d * self.capacity..d * self.capacity + self.len];
        let mut group: [(f32, &[T]); 4] = [(0.0, &[]); 4];
        let mut filled = 0;
        for (d, &q) in query.iter().enumerate().filter(|(_, q)| **q != 0.0) {
            group[filled] = (q, column(d));
            filled += 1;
            if filled == 4 {
                add4(keys, &group);
                filled = 0;
            }
        }
        if filled > 0 {
            // The last few, with zero factors on a real column for the rest.
            let padding = (0.0, group[0].1);
            group[filled..].fill(padding);
            add4(keys, &group);
        }
    }
}

/// The slots of the `n` highest `keys` that pass `keep` (all of them when it is `None`), in no
/// particular order (ties at the cut broken arbitrarily).
///
/// Keys are compared in [`f32::total_cmp`]'s order, through [`order`]'s integers, in blocks of
/// [`BLOCK`]: one vectorised pass takes each block's highest key, and the per-key loop, with
/// its branches, runs only in blocks that can hold an answer. Two bounds say which:
/// - without `keep`, the `n`-th highest block maximum is a floor: those `n` blocks hold `n`
///   keys at or above it, so no key below it is an answer. Over the 2,000 FAQs and a shortlist
///   of 13 that leaves about 13 blocks of 125 to look into.
/// - with `keep`, a buffer of `2n` candidates: when it fills, a selection keeps its best `n`,
///   whose lowest key becomes the bar, and a block or key at or below the bar is passed over
///   without calling `keep`.
///
/// Against collecting a pair per slot and partitioning them all (about 15 % of the vector
/// service's CPU under issue 17's Search cell) the buffer alone wrote and sorted a few dozen
/// pairs; its per-key loop over all 2,000 keys was still two thirds of the search's own
/// instructions (2026-12-07), which the blocks remove.
pub(crate) fn top_slots(
    keys: &[f32],
    n: usize,
    keep: Option<&dyn Fn(usize) -> bool>,
) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    let maxima: Vec<i32> = keys
        .chunks(BLOCK)
        .map(|block| block.iter().fold(i32::MIN, |max, &key| max.max(order(key))))
        .collect();
    let floor = match keep {
        None if maxima.len() > n => nth_highest(&maxima, n),
        _ => i32::MIN,
    };
    let best_first = |a: &(i32, usize), b: &(i32, usize)| b.0.cmp(&a.0);
    let mut list: Vec<(i32, usize)> = Vec::with_capacity(n.saturating_mul(2).min(keys.len()));
    let mut bar = None;
    for (block, chunk) in keys.chunks(BLOCK).enumerate() {
        let max = maxima[block];
        if max < floor || bar.is_some_and(|bar| max <= bar) {
            continue;
        }
        for (i, &key) in chunk.iter().enumerate() {
            let (key, slot) = (order(key), block * BLOCK + i);
            if key < floor
                || bar.is_some_and(|bar| key <= bar)
                || keep.is_some_and(|keep| !keep(slot))
            {
                continue;
            }
            list.push((key, slot));
            if list.len() == n.saturating_mul(2) {
                list.select_nth_unstable_by(n - 1, best_first);
                list.truncate(n);
                bar = Some(list[n - 1].0);
            }
        }
    }
    if list.len() > n {
        list.select_nth_unstable_by(n - 1, best_first);
        list.truncate(n);
    }
    list.into_iter().map(|(_, slot)| slot).collect()
}

/// The `n`-th highest of `values` (`n` ≥ 1, at most their number). A list of the highest `n`
/// so far, highest first, that a value enters only when it beats the list's last: over 125
/// block maxima and `n` = 13 that is a few dozen insertions, where a selection over a copy of
/// all of them measured 1 µs per search.
fn nth_highest(values: &[i32], n: usize) -> i32 {
    let mut highest: Vec<i32> = Vec::with_capacity(n + 1);
    for &value in values {
        if highest.len() == n && value <= highest[n - 1] {
            continue;
        }
        let at = highest.partition_point(|&h| h >= value);
        highest.insert(at, value);
        highest.truncate(n);
    }
    highest[n - 1]
}

/// Keys per block: small enough that few blocks hold a key above the floor, large enough that
/// the maxima pass runs on whole vector registers.
const BLOCK: usize = 16;

/// The integer that orders as `x` does in [`f32::total_cmp`] (the same mapping it uses), so
/// that a block's maximum and comparisons with it vectorise as integer instructions.
#[inline]
fn order(x: f32) -> i32 {
    let bits = x.to_bits() as i32;
    bits ^ ((((bits >> 31) as u32) >> 1) as i32)
}

/// [`add_scaled4`] over columns of halves. On x86-64 with AVX2, FMA and F16C (which converts
/// eight halves to floats in one instruction) a loop that converts as it adds; elsewhere each
/// stretch of [`HALF_STRETCH`] slots converted to floats first (by `half`, with whatever
/// conversion instructions the CPU has), into buffers that stay in the L1 cache. The
/// conversion through `half`'s slices measured twice as slow as full floats on the benchmark
/// machine, the fused loop faster (docs/benchmarks.md).
fn add_scaled4_half(acc: &mut [f32], terms: &[(f32, &[f16]); 4]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("fma")
        && std::arch::is_x86_feature_detected!("f16c")
    {
        // SAFETY: the CPU has AVX2, FMA and F16C, checked just above.
        return unsafe { add_scaled4_half_f16c(acc, terms) };
    }
    add_scaled4_half_portable(acc, terms);
}

fn add_scaled4_half_portable(acc: &mut [f32], terms: &[(f32, &[f16]); 4]) {
    let mut buffers = [[0.0f32; HALF_STRETCH]; 4];
    for start in (0..acc.len()).step_by(HALF_STRETCH) {
        let end = (start + HALF_STRETCH).min(acc.len());
        for (buffer, (_, column)) in buffers.iter_mut().zip(terms) {
            column[start..end].convert_to_f32_slice(&mut buffer[..end - start]);
        }
        let [b0, b1, b2, b3] = &buffers;
        let n = end - start;
        let floats = [
            (terms[0].0, &b0[..n]),
            (terms[1].0, &b1[..n]),
            (terms[2].0, &b2[..n]),
            (terms[3].0, &b3[..n]),
        ];
        add_scaled4(&mut acc[start..end], &floats);
    }
}

/// Slots converted from halves at a time where there is no fused loop: four columns' worth is
/// 4 KiB of floats.
const HALF_STRETCH: usize = 256;

/// Eight slots per step: eight halves of each of the four columns loaded (16 bytes), converted
/// (`vcvtph2ps`) and multiplied into the eight keys with one fused multiply-add each.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
fn add_scaled4_half_f16c(acc: &mut [f32], terms: &[(f32, &[f16]); 4]) {
    use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm256_cvtph_ps, _mm256_fmadd_ps};
    use std::arch::x86_64::{_mm256_loadu_ps, _mm256_set1_ps, _mm256_storeu_ps};
    let n = acc.len();
    let columns = terms.map(|(_, column)| &column[..n]);
    let factors = terms.map(|(q, _)| _mm256_set1_ps(q));
    let whole = n - n % 8;
    for i in (0..whole).step_by(8) {
        // SAFETY: i + 8 ≤ n, and every column and `acc` hold n elements (sliced above); the
        // loads and the store are unaligned ones.
        unsafe {
            let mut sum = _mm256_loadu_ps(acc.as_ptr().add(i));
            for (factor, column) in factors.iter().zip(&columns) {
                let halves = _mm_loadu_si128(column.as_ptr().add(i).cast::<__m128i>());
                sum = _mm256_fmadd_ps(*factor, _mm256_cvtph_ps(halves), sum);
            }
            _mm256_storeu_ps(acc.as_mut_ptr().add(i), sum);
        }
    }
    for i in whole..n {
        acc[i] += terms
            .iter()
            .zip(&columns)
            .map(|((q, _), column)| q * column[i].to_f32())
            .sum::<f32>();
    }
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
            let mut found = top_slots(&keys, n, Some(&keep));
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
    fn both_sums_over_halves_agree_with_converting_each_half() {
        let column = |c: usize| -> Vec<f16> {
            (0..45)
                .map(|i| f16::from_f32(((i * 13 + c * 7) % 19) as f32 / 19.0 - 0.5))
                .collect()
        };
        let columns: Vec<Vec<f16>> = (0..4).map(column).collect();
        let factors = [0.75, -1.5, 0.125, 2.0];
        // Every length up to past five steps of eight, so that each tail length is summed.
        for n in 0..=45 {
            let terms: [(f32, &[f16]); 4] = std::array::from_fn(|c| (factors[c], &columns[c][..n]));
            let expected: Vec<f32> = (0..n)
                .map(|i| {
                    1.0 + (0..4)
                        .map(|c| factors[c] * columns[c][i].to_f32())
                        .sum::<f32>()
                })
                .collect();
            let sums = |add: AddScaled4<f16>| {
                let mut acc = vec![1.0; n];
                add(&mut acc, &terms);
                acc
            };
            for (which, got) in [
                ("chosen", sums(add_scaled4_half)),
                ("portable", sums(add_scaled4_half_portable)),
            ] {
                for (g, e) in got.iter().zip(&expected) {
                    assert!(
                        (g - e).abs() < 1e-5,
                        "{which} n={n}: {got:?} vs {expected:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn nth_highest_counts_ties() {
        let values = [5, -1, 9, 9, 3, 7, 9, 0];
        let mut sorted = values.to_vec();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        for n in 1..=values.len() {
            assert_eq!(nth_highest(&values, n), sorted[n - 1], "n={n}");
        }
    }

    #[test]
    fn order_agrees_with_total_cmp() {
        let values = [
            f32::NEG_INFINITY,
            -3.5,
            -1e-30,
            -0.0,
            0.0,
            1e-30,
            0.25,
            7.0,
            f32::MAX,
            f32::INFINITY,
        ];
        for &a in &values {
            for &b in &values {
                assert_eq!(order(a).cmp(&order(b)), a.total_cmp(&b), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn top_slots_over_many_blocks_matches_a_full_sort() {
        // Rising keys move the bar in every block, falling keys leave most blocks below it,
        // and few distinct keys put ties at every cut; 1,000 keys end in a partial block, and
        // n = 65 is more than there are blocks (no floor).
        let everything = |_: usize| true;
        for keys in [
            (0..1000).map(|i| i as f32).collect::<Vec<_>>(),
            (0..1000).map(|i| -(i as f32)).collect(),
            (0..1000).map(|i| ((i * 7919) % 1009) as f32).collect(),
            (0..1000).map(|i| (i % 3) as f32 - 1.0).collect(),
        ] {
            for n in [1, 5, 13, 64, 65] {
                for keep in [None, Some(&everything as &dyn Fn(usize) -> bool)] {
                    let found = top_slots(&keys, n, keep);
                    let mut unique = found.clone();
                    unique.sort_unstable();
                    unique.dedup();
                    assert_eq!(unique.len(), n, "n={n}");
                    let mut found: Vec<f32> = found.into_iter().map(|s| keys[s]).collect();
                    found.sort_by(|a, b| b.total_cmp(a));
                    let mut all = keys.clone();
                    all.sort_by(|a, b| b.total_cmp(a));
                    assert_eq!(found, all[..n], "n={n}");
                }
            }
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
