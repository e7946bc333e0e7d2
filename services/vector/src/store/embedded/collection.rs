//! One collection in the embedded engine: its objects by id, their slots in the HNSW index,
//! tombstones, and the search that combines the index with exact re-scoring and payload
//! filters.
//!
//! Writes are two steps so a batch is all-or-nothing: [`Collection::check_vectors`] checks every
//! vector without touching anything, then [`Collection::apply_upsert`] applies a batch that
//! cannot fail. Durability (the log) happens between the two, in the store.

use std::collections::HashMap;

use super::index::Index;
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
    index: Index,
    full_scan_floats: usize,
}

impl Collection {
    /// An empty collection.
    pub fn new(spec: CollectionSpec) -> Self {
        let index = Index::new(spec.metric, spec.params, 1024);
        Self::with_index(spec, index)
    }

    fn with_index(spec: CollectionSpec, index: Index) -> Self {
        Self {
            spec,
            ids: HashMap::new(),
            slots: Vec::new(),
            index,
            full_scan_floats: FULL_SCAN_FLOATS,
        }
    }

    /// Rebuilds a collection from stored objects at their slots. `index` is a dump taken
    /// together with those objects (the caller checked it is complete); without one, the live
    /// objects are indexed again.
    pub fn restore(
        spec: CollectionSpec,
        slots: Vec<(usize, Object)>,
        next_slot: usize,
        index: Option<Index>,
    ) -> Self {
        let rebuild = index.is_none();
        let mut collection = match index {
            Some(index) => Self::with_index(spec, index),
            None => Self::new(spec),
        };
        collection.slots.resize_with(next_slot, || None);
        for (slot, object) in slots {
            collection.ids.insert(object.id.clone(), slot);
            let norm = dot(&object.vector, &object.vector).sqrt();
            collection.slots[slot] = Some(Slot { object, norm });
        }
        if rebuild {
            let metric = collection.spec.metric;
            let prepared: Vec<(usize, Vec<f32>)> = collection
                .objects()
                .map(|(slot, o)| (slot, metric.prepare(&o.vector)))
                .collect();
            let points: Vec<(&[f32], usize)> = prepared
                .iter()
                .map(|(slot, v)| (v.as_slice(), *slot))
                .collect();
            collection.index.insert(&points);
        }
        collection
    }

    /// Changes the size below which searches scan exactly (benchmarks and tests of the index).
    pub fn set_full_scan_threshold(&mut self, floats: usize) {
        self.full_scan_floats = floats;
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

    /// The index, for dumping.
    pub fn index(&self) -> &Index {
        &self.index
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
        let points: Vec<(&[f32], usize)> = prepared
            .iter()
            .enumerate()
            .map(|(i, v)| (v.as_slice(), first + i))
            .collect();
        self.index.insert(&points);
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
        let mut slots = if scan {
            Vec::new()
        } else if filter.is_none() && self.tombstones() == 0 {
            self.index.search(&query, k, ef, None)
        } else {
            self.index.search(&query, k, ef, Some(&keep))
        };
        if slots.len() < wanted {
            slots = (0..self.slots.len()).filter(|&s| keep(s)).collect();
        }
        let mut hits: Vec<Hit> = slots
            .into_iter()
            .map(|slot| self.score(&query, slot))
            .collect();
        let order = |a: &Hit, b: &Hit| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| self.object(a.slot).id.cmp(&self.object(b.slot).id))
        };
        if hits.len() > k {
            hits.select_nth_unstable_by(k - 1, order);
            hits.truncate(k);
        }
        hits.sort_by(order);
        hits
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
            objects: self.objects().map(|(_, o)| o.clone()).collect(),
        }
    }
}

/// The live objects of a collection, to be re-indexed without its tombstones.
pub struct CompactionSource {
    spec: CollectionSpec,
    objects: Vec<Object>,
}

impl CompactionSource {
    /// The compacted collection: fresh slots, fresh index.
    pub fn build(self) -> Collection {
        let mut fresh = Collection::new(self.spec);
        fresh.apply_upsert(self.objects);
        fresh
    }
}
