//! One collection in the embedded engine: its objects by id, their slots, tombstones, and the
//! search that combines the exact scan or the HNSW index with exact re-scoring and payload
//! filters.
//!
//! A collection holds one search structure at a time, chosen by its size: within the exact-scan
//! size (`full_scan_floats`) the column layout of [`ScanMatrix`], which every search then uses;
//! past it the HNSW [`Index`], built over every slot when the collection first outgrows the scan
//! (and dropped again if a compaction or a higher threshold brings it back within). A graph that
//! no search walks would cost the 2,000 FAQs of the benchmark 4.3 MB and every insert its linking
//! work. The store builds the index off the collection's lock ([`Collection::index_source`]) when
//! an upsert is about to cross the size; the other paths (loading, replay, compaction, tests)
//! build it in place.
//!
//! Writes are two steps so a batch is all-or-nothing: [`Collection::check_vectors`] checks every
//! vector without touching anything, then [`Collection::apply_upsert`] applies a batch that
//! cannot fail. Durability (the log) happens between the two, in the store.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use super::index::{BuiltIndex, Index, IndexSource, insert_points};
use super::scan::{ScanMatrix, top_slots};
use crate::error::Result;
use crate::model::{CollectionSpec, Filter, Metric, Object, UpsertCounts, dot, object_field};

/// A search result.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Slot of the object in its collection.
    pub slot: usize,
    /// Similarity; higher is closer.
    pub score: f32,
    /// Metric distance; lower is closer.
    pub distance: f32,
}

/// Searches over at most this many vector components (candidates × dimension, 10 MB of
/// floats) scan exactly instead of walking the graph: measured here, hnsw_rs's walk costs more
/// than a scan below that size, and a scan is exact.
pub(crate) const FULL_SCAN_FLOATS: usize = 2_500_000;

struct Slot {
    object: Object,
    /// Euclidean norm of the vector (for cosine scoring without a normalised copy).
    norm: f32,
}

/// A collection's objects and index.
pub struct Collection {
    spec: CollectionSpec,
    ids: HashMap<String, usize>,
    slots: Vec<Option<Slot>>,
    /// The HNSW graph over every slot, while the collection is past the exact-scan size.
    index: Option<Index>,
    full_scan_floats: usize,
    /// The column layout for exact scans, while the collection is small enough for them.
    scan: Option<ScanMatrix>,
    /// Tells this collection from one that replaced it under the same lock (a compaction
    /// renumbers the slots): an index built from the old one's copy must not be installed.
    incarnation: u64,
}

/// The next collection's incarnation.
static INCARNATIONS: AtomicU64 = AtomicU64::new(0);

impl Collection {
    /// An empty collection.
    pub fn new(spec: CollectionSpec) -> Self {
        Self {
            ids: HashMap::new(),
            slots: Vec::new(),
            scan: Some(ScanMatrix::new(spec.metric, spec.dimension)),
            index: None,
            full_scan_floats: FULL_SCAN_FLOATS,
            incarnation: INCARNATIONS.fetch_add(1, Ordering::Relaxed),
            spec,
        }
    }

    /// Rebuilds a collection from stored objects at their slots, for searches that scan up to
    /// `full_scan_floats`. `index` is a dump taken together with those objects (the caller
    /// checked it is complete), used when the collection is past the scan size; without one the
    /// live objects are indexed again then.
    pub fn restore(
        spec: CollectionSpec,
        slots: Vec<(usize, Object)>,
        next_slot: usize,
        index: Option<Index>,
        full_scan_floats: usize,
    ) -> Self {
        let mut collection = Self::new(spec);
        collection.full_scan_floats = full_scan_floats;
        collection.slots.resize_with(next_slot, || None);
        for (slot, object) in slots {
            collection.ids.insert(object.id.clone(), slot);
            let norm = dot(&object.vector, &object.vector).sqrt();
            collection.slots[slot] = Some(Slot { object, norm });
        }
        if !collection.fits_scan() {
            collection.index = index;
        }
        collection.rebuild_scan();
        collection.ensure_index();
        collection
    }

    /// Whether every slot fits the exact-scan size.
    fn fits_scan(&self) -> bool {
        self.slots.len() * self.spec.dimension <= self.full_scan_floats
    }

    /// Lays every slot out for exact scans again (dead slots as zeros), or drops the layout
    /// when the collection is past the scan size.
    fn rebuild_scan(&mut self) {
        self.scan = None;
        if !self.fits_scan() {
            return;
        }
        let metric = self.spec.metric;
        let mut scan = ScanMatrix::new(metric, self.spec.dimension);
        let zeros = vec![0.0; self.spec.dimension];
        for slot in &self.slots {
            match slot {
                Some(slot) => scan.push(&metric.prepare(&slot.object.vector)),
                None => scan.push(&zeros),
            }
        }
        self.scan = Some(scan);
    }

    /// Changes the size below which searches scan exactly (benchmarks and tests of the index).
    /// The column layout or the index is built or dropped only when the new size changes
    /// whether the collection fits.
    pub fn set_full_scan_threshold(&mut self, floats: usize) {
        self.full_scan_floats = floats;
        match (self.scan.is_some(), self.fits_scan()) {
            (true, false) => self.scan = None,
            (false, true) => self.rebuild_scan(),
            _ => {}
        }
        if self.fits_scan() {
            self.index = None;
        }
        self.ensure_index();
    }

    /// Whether an upsert of `more` objects would take the collection past the scan size while
    /// it has no index yet: the store then builds one first, off the lock.
    pub(crate) fn will_need_index(&self, more: usize) -> bool {
        self.index.is_none()
            && (self.slots.len() + more) * self.spec.dimension > self.full_scan_floats
    }

    /// What building the index takes (the live slots' prepared vectors), copied so that the
    /// build can run without the collection's lock.
    pub(crate) fn index_source(&self) -> IndexSource {
        let metric = self.spec.metric;
        IndexSource {
            metric,
            params: self.spec.params,
            points: self
                .objects()
                .map(|(slot, o)| (slot, metric.prepare(&o.vector)))
                .collect(),
            slots: self.slots.len(),
            incarnation: self.incarnation,
        }
    }

    /// Installs an index built from [`Collection::index_source`], adding the slots written
    /// since the copy. Drops it instead when another build was installed first, when the
    /// collection is within the scan size, or when this is not the collection it was copied
    /// from (a compaction replaced it meanwhile, with other slot numbers).
    pub(crate) fn install_index(&mut self, built: BuiltIndex) {
        if self.index.is_some() || self.fits_scan() || built.incarnation != self.incarnation {
            return;
        }
        let metric = self.spec.metric;
        let later: Vec<(usize, Vec<f32>)> = (built.slots..self.slots.len())
            .filter_map(|slot| {
                let stored = self.slots[slot].as_ref()?;
                Some((slot, metric.prepare(&stored.object.vector)))
            })
            .collect();
        insert_points(&built.index, &later);
        self.index = Some(built.index);
    }

    /// Builds the index in place when the collection is past the scan size without one.
    fn ensure_index(&mut self) {
        if self.index.is_none() && !self.fits_scan() {
            let built = self.index_source().build();
            self.install_index(built);
        }
    }

    /// Records the embedder that built the vectors from now on (a re-embedding).
    pub(crate) fn set_embedder(&mut self, embedder: String) {
        self.spec.embedder = embedder;
    }

    /// The collection's description.
    pub fn spec(&self) -> &CollectionSpec {
        &self.spec
    }

    /// Live objects.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the collection has no live objects.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Deleted or replaced objects still in the index.
    pub fn tombstones(&self) -> usize {
        self.slots.len() - self.ids.len()
    }

    /// Slots allocated so far (the next object gets this slot).
    pub fn next_slot(&self) -> usize {
        self.slots.len()
    }

    /// The index, for dumping (none while the collection is within the scan size).
    pub fn index(&self) -> Option<&Index> {
        self.index.as_ref()
    }

    /// Live objects with their slots.
    pub fn objects(&self) -> impl Iterator<Item = (usize, &Object)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i, &s.object)))
    }

    /// The live object with this id.
    pub fn get(&self, id: &str) -> Option<&Object> {
        self.ids.get(id).map(|&slot| self.object(slot))
    }

    /// The object at a live slot (from a search hit).
    pub fn object(&self, slot: usize) -> &Object {
        &self.slots[slot].as_ref().expect("live slot").object
    }

    /// Checks the vectors of a batch against the collection, touching nothing.
    pub(crate) fn check_vectors(&self, objects: &[Object]) -> Result<()> {
        objects.iter().enumerate().try_for_each(|(i, object)| {
            let field = format!("{}.vector", object_field(i, object));
            self.spec.check_vector(&object.vector, &field)
        })
    }

    /// Applies a validated batch: new objects get new slots, replaced ones leave tombstones.
    pub fn apply_upsert(&mut self, objects: Vec<Object>) -> UpsertCounts {
        let mut counts = UpsertCounts::default();
        let first = self.slots.len();
        let prepared: Vec<Vec<f32>> = objects
            .iter()
            .map(|o| self.spec.metric.prepare(&o.vector))
            .collect();
        for object in objects {
            let slot = self.slots.len();
            match self.ids.insert(object.id.clone(), slot) {
                Some(old) => {
                    self.slots[old] = None;
                    counts.replaced += 1;
                }
                None => counts.created += 1,
            }
            let norm = dot(&object.vector, &object.vector).sqrt();
            self.slots.push(Some(Slot { object, norm }));
        }
        if !self.fits_scan() {
            self.scan = None;
        } else if let Some(scan) = &mut self.scan {
            prepared.iter().for_each(|v| scan.push(v));
        }
        match &self.index {
            Some(index) => {
                let points: Vec<(&[f32], usize)> = prepared
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (v.as_slice(), first + i))
                    .collect();
                index.insert(&points);
            }
            None => self.ensure_index(),
        }
        counts
    }

    /// Deletes objects by id; unknown ids are ignored. Returns how many were deleted.
    pub fn apply_delete(&mut self, ids: &[String]) -> u64 {
        let mut deleted = 0;
        for id in ids {
            if let Some(slot) = self.ids.remove(id) {
                self.slots[slot] = None;
                deleted += 1;
            }
        }
        deleted
    }

    /// The `k` live objects nearest `query` (already checked) that match `filter`, best first
    /// (score descending, then id ascending). `ef` is the search breadth.
    pub fn search(&self, query: &[f32], k: usize, ef: usize, filter: Option<&Filter>) -> Vec<Hit> {
        let metric = self.spec.metric;
        let query = metric.prepare(query);
        let keep = |slot: usize| {
            self.slots
                .get(slot)
                .and_then(Option::as_ref)
                .is_some_and(|s| filter.is_none_or(|f| f.matches(&s.object.payload)))
        };
        let candidates = match filter {
            None => self.len(),
            Some(_) => (0..self.slots.len()).filter(|&s| keep(s)).count(),
        };
        let wanted = k.min(candidates);
        if wanted == 0 {
            return Vec::new();
        }
        // Small or very selective candidate sets are scanned exactly; otherwise HNSW, with the
        // filter applied while it walks the graph, and a scan if it came back short.
        let scan = candidates * self.spec.dimension <= self.full_scan_floats
            || candidates * 20 < self.slots.len();
        let order = |a: &Hit, b: &Hit| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| self.object(a.slot).id.cmp(&self.object(b.slot).id))
        };
        // With no filter and no dead slots every slot is kept: no need to read them.
        let check: Option<&dyn Fn(usize) -> bool> =
            (filter.is_some() || self.tombstones() > 0).then_some(&keep);
        if scan && let Some(matrix) = self.scan.as_ref().filter(|m| m.len() == self.slots.len()) {
            return self.scan_search(matrix, &query, k, check, order);
        }
        let mut slots = match &self.index {
            Some(index) if !scan => index.search(&query, k, ef, check),
            _ => Vec::new(),
        };
        if slots.len() < wanted {
            slots = (0..self.slots.len()).filter(|&s| keep(s)).collect();
        }
        let hits: Vec<Hit> = slots
            .into_iter()
            .map(|slot| self.score(&query, slot))
            .collect();
        best(hits, k, order)
    }

    /// The exact scan through the column layout: ranks every slot, keeps the best live ones
    /// that pass `keep` if there is one (twice `k`, so that rounding between the layout's sums
    /// and the metric's kernels cannot push a hit out), and scores those with the metric's
    /// kernels.
    ///
    /// The layout's keys are within `e` = [`ScanMatrix::rank_error`] of the exact ones, so an
    /// answer's key is at least the `k`-th best key less `2e` (the `k` best keys are exact
    /// scores of at least that key less `e`, and an answer scores at least that). When the
    /// shortlist's last key is still above that floor, slots past the cut may be answers too:
    /// every slot above the floor is scored then.
    fn scan_search(
        &self,
        matrix: &ScanMatrix,
        query: &[f32],
        k: usize,
        keep: Option<&dyn Fn(usize) -> bool>,
        order: impl Fn(&Hit, &Hit) -> std::cmp::Ordering,
    ) -> Vec<Hit> {
        let keys = matrix.rank(query);
        let shortlist = k.saturating_mul(2).max(k + 8);
        let mut slots = top_slots(&keys, shortlist, keep);
        if slots.len() == shortlist {
            let mut listed: Vec<f32> = slots.iter().map(|&slot| keys[slot]).collect();
            listed.sort_unstable_by(|a, b| b.total_cmp(a));
            let floor = listed[k - 1] - 2.0 * matrix.rank_error(query);
            if listed[shortlist - 1] >= floor {
                slots = (0..keys.len())
                    .filter(|&slot| keys[slot] >= floor && keep.is_none_or(|keep| keep(slot)))
                    .collect();
            }
        }
        let hits = slots
            .into_iter()
            .map(|slot| self.score(query, slot))
            .collect();
        best(hits, k, order)
    }

    fn score(&self, prepared_query: &[f32], slot: usize) -> Hit {
        let stored = self.slots[slot].as_ref().expect("live slot");
        let (score, distance) = match self.spec.metric {
            Metric::Cosine => {
                let cos =
                    (dot(prepared_query, &stored.object.vector) / stored.norm).clamp(-1.0, 1.0);
                (cos, 1.0 - cos)
            }
            metric => metric.score_and_distance(prepared_query, &stored.object.vector),
        };
        Hit {
            slot,
            score,
            distance,
        }
    }

    /// What a compaction needs, copied so the rebuild can run without holding the lock.
    pub fn compacted_source(&self) -> CompactionSource {
        CompactionSource {
            spec: self.spec.clone(),
            full_scan_floats: self.full_scan_floats,
            objects: self.objects().map(|(_, o)| o.clone()).collect(),
        }
    }
}

/// The `k` best of `hits` in `order`, sorted.
fn best(
    mut hits: Vec<Hit>,
    k: usize,
    order: impl Fn(&Hit, &Hit) -> std::cmp::Ordering,
) -> Vec<Hit> {
    if hits.len() > k {
        hits.select_nth_unstable_by(k - 1, &order);
        hits.truncate(k);
    }
    hits.sort_by(order);
    hits
}

/// The live objects of a collection, to be re-indexed without its tombstones.
pub struct CompactionSource {
    spec: CollectionSpec,
    full_scan_floats: usize,
    objects: Vec<Object>,
}

impl CompactionSource {
    /// The compacted collection: fresh slots, and a fresh index if it is past the scan size.
    pub fn build(self) -> Collection {
        let mut fresh = Collection::new(self.spec);
        fresh.full_scan_floats = self.full_scan_floats;
        fresh.apply_upsert(self.objects);
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(id: usize, vector: Vec<f32>) -> Object {
        Object {
            id: format!("o{id:03}"),
            vector,
            payload: Default::default(),
            text: None,
        }
    }

    /// Every live object scored with the metric's kernel, best first (score, then id).
    fn brute_force(collection: &Collection, query: &[f32], k: usize) -> Vec<(String, f32)> {
        let metric = collection.spec().metric;
        let q = metric.prepare(query);
        let mut all: Vec<(String, f32)> = collection
            .objects()
            .map(|(_, o)| {
                (
                    o.id.clone(),
                    metric.score_and_distance(&q, &metric.prepare(&o.vector)).0,
                )
            })
            .collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        all.truncate(k);
        all
    }

    #[test]
    fn the_column_scan_finds_what_scoring_every_object_finds() {
        let vector = |i: usize| -> Vec<f32> {
            (0..24)
                .map(|d| (((i * 31 + d * 17) % 13) as f32 - 6.0) * 0.5)
                .collect()
        };
        for metric in [Metric::Cosine, Metric::L2, Metric::Dot] {
            let mut collection = Collection::new(CollectionSpec::new("c", 24, metric));
            collection.apply_upsert((0..150).map(|i| object(i, vector(i))).collect());
            // Replaced objects leave tombstones; deleted ones leave holes; copies tie.
            collection.apply_upsert((0..40).map(|i| object(i * 3, vector(i + 500))).collect());
            collection.apply_delete(
                &(0..30)
                    .map(|i| format!("o{:03}", i * 5))
                    .collect::<Vec<_>>(),
            );
            collection.apply_upsert(vec![object(900, vector(7)), object(901, vector(7))]);
            assert!(collection.scan.is_some());
            for (q, k) in [(3, 5), (77, 10), (7, 3), (123, 200)] {
                let mut query = vector(q);
                query[5] = 0.0; // a sparse component, skipped by the scan
                let found = collection.search(&query, k, 64, None);
                let expected = brute_force(&collection, &query, k);
                let ids: Vec<&str> = found
                    .iter()
                    .map(|h| collection.object(h.slot).id.as_str())
                    .collect();
                let wanted: Vec<&str> = expected.iter().map(|(id, _)| id.as_str()).collect();
                assert_eq!(ids, wanted, "{metric:?} q={q} k={k}");
                for (hit, (_, score)) in found.iter().zip(&expected) {
                    assert!(
                        (hit.score - score).abs() < 1e-5,
                        "{metric:?}: {} vs {score}",
                        hit.score
                    );
                }
            }
            // Past the scan size the layout goes, and search still answers (through HNSW).
            assert!(
                collection.index().is_none(),
                "no graph within the scan size"
            );
            collection.set_full_scan_threshold(10);
            assert!(collection.scan.is_none());
            assert!(collection.index().is_some());
            assert_eq!(collection.search(&vector(3), 5, 64, None).len(), 5);
            // Back within it (a higher threshold here, a compaction in the store) the graph goes.
            collection.set_full_scan_threshold(FULL_SCAN_FLOATS);
            assert!(collection.index().is_none() && collection.scan.is_some());
        }
    }

    #[test]
    fn near_ties_come_out_as_scoring_every_object_orders_them() {
        // Cosines 1e-5 to 1e-4 apart: far finer than the layout's halves tell apart, far
        // coarser than the rounding of float sums. Only the widened shortlist finds these.
        let base: Vec<f32> = (0..24).map(|d| 1.0 + (d % 5) as f32 * 0.25).collect();
        let mut collection = Collection::new(CollectionSpec::new("c", 24, Metric::Cosine));
        collection.apply_upsert(
            (0..300)
                .map(|i| {
                    let mut v = base.clone();
                    v[(i * 7) % 24] += i as f32 * 1e-4;
                    object(i, v)
                })
                .collect(),
        );
        for (d, k) in [(0, 5), (3, 10), (11, 1), (20, 40)] {
            let mut query = base.clone();
            query[d] += 0.5;
            let found = collection.search(&query, k, 64, None);
            let expected = brute_force(&collection, &query, k);
            assert_eq!(found.len(), k);
            // Scores at each rank, as closely as two float kernels agree: objects whose
            // cosines differ by less than that may swap places.
            for (rank, (hit, (id, score))) in found.iter().zip(&expected).enumerate() {
                assert!(
                    (hit.score - score).abs() < 1e-6,
                    "d={d} k={k} rank {rank}: {} {} against {id} {score}",
                    collection.object(hit.slot).id,
                    hit.score
                );
            }
        }
    }

    /// Points far apart on a line: the nearest object to each one's vector is itself.
    fn spaced(i: usize) -> Vec<f32> {
        vec![i as f32 * 10.0, 1.0]
    }

    /// A collection of `spaced` objects 0 to 99 that scans up to `scan_slots` slots.
    fn hundred_spaced(scan_slots: usize) -> Collection {
        let mut collection = Collection::new(CollectionSpec::new("c", 2, Metric::L2));
        collection.set_full_scan_threshold(2 * scan_slots);
        collection.apply_upsert((0..100).map(|i| object(i, spaced(i))).collect());
        collection
    }

    /// Moves a collection past the scan size without building its index, as the store's upsert
    /// finds it while an index is built off the lock.
    fn past_the_scan_size(collection: &mut Collection) {
        collection.full_scan_floats = 0;
        collection.scan = None;
    }

    /// The graph alone answers (no scan layout, no exact fallback for a full answer), so a slot
    /// missing from it is found as some other object.
    fn assert_indexed(collection: &Collection, count: usize) {
        assert!(collection.scan.is_none());
        for i in 0..count {
            let hits = collection.search(&spaced(i), 1, 64, None);
            assert_eq!(collection.object(hits[0].slot).id, format!("o{i:03}"));
        }
    }

    #[test]
    fn an_upsert_past_the_scan_size_indexes_every_slot() {
        let mut collection = hundred_spaced(100);
        assert!(collection.index().is_none());
        assert!(collection.will_need_index(1));
        assert!(!collection.will_need_index(0));
        collection.apply_upsert((100..130).map(|i| object(i, spaced(i))).collect());
        assert_eq!(collection.index().map(Index::len), Some(130));
        assert!(!collection.will_need_index(1));
        assert_indexed(&collection, 130);
    }

    #[test]
    fn an_index_built_off_the_lock_gets_the_slots_written_meanwhile() {
        let mut collection = hundred_spaced(1000);
        let source = collection.index_source();
        // Written while the copy is being indexed: a new object and a replaced one.
        collection.apply_upsert((100..150).map(|i| object(i, spaced(i))).collect());
        collection.apply_upsert(vec![object(7, spaced(7))]);
        let built = source.build();
        past_the_scan_size(&mut collection);
        collection.install_index(built);
        assert_eq!(collection.index().map(Index::len), Some(151));
        assert_indexed(&collection, 150);
        // A second build arriving late changes nothing.
        let late = collection.index_source().build();
        collection.install_index(late);
        assert_eq!(collection.index().map(Index::len), Some(151));
    }

    #[test]
    fn an_index_built_from_a_collection_a_compaction_replaced_is_dropped() {
        let mut collection = hundred_spaced(1000);
        let source = collection.index_source();
        // Replaced objects leave tombstones, which the compaction drops: other slot numbers.
        collection.apply_upsert((0..50).map(|i| object(i, spaced(i))).collect());
        let mut compacted = collection.compacted_source().build();
        assert_eq!(compacted.next_slot(), 100);
        past_the_scan_size(&mut compacted);
        compacted.install_index(source.build());
        assert!(
            compacted.index().is_none(),
            "not the collection it was built from"
        );
        // Nor is one installed into a collection within the scan size.
        let mut small = Collection::new(CollectionSpec::new("s", 2, Metric::L2));
        small.apply_upsert(vec![object(0, spaced(0))]);
        small.install_index(small.index_source().build());
        assert!(small.index().is_none());
    }
}
