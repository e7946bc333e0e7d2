//! One collection in memory: its objects by id, their slots in the HNSW index, tombstones, and
//! the search that combines the index with exact re-scoring and payload filters.
//!
//! Writes are two steps so a batch is all-or-nothing: `validate_upsert` checks every object
//! (and embeds texts) without touching anything, then `apply_upsert` applies a batch that
//! cannot fail. Durability (the log) happens between the two, in the store.

use std::collections::HashMap;
use std::sync::Arc;

use chatmesh_proto::vector::{self as pb, payload_value::Kind};

use crate::embed::{self, Embedder};
use crate::error::{Result, VectorError, invalid};
use crate::filter::{Filter, Payload};
use crate::index::{HnswParams, Index, Metric, dot};

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
    /// Embedder name recorded at creation.
    pub embedder: String,
    /// Creation time, seconds and nanoseconds since the Unix epoch.
    pub create_time: (i64, i32),
}

impl CollectionSpec {
    /// Validates a create request's fields (zero means "the default", as the contract says).
    pub fn validated(request: &pb::CreateCollectionRequest, now: (i64, i32)) -> Result<Self> {
        check_name(&request.name, "name")?;
        let dimension = request.dimension;
        if !(1..=4096).contains(&dimension) {
            return Err(invalid(format!(
                "dimension: must be 1 to 4096, got {dimension}"
            )));
        }
        let metric = match pb::Distance::try_from(request.distance) {
            Ok(pb::Distance::Unspecified | pb::Distance::Cosine) => Metric::Cosine,
            Ok(pb::Distance::L2) => Metric::L2,
            Ok(pb::Distance::Dot) => Metric::Dot,
            Err(_) => {
                return Err(invalid(format!(
                    "distance: unknown value {}",
                    request.distance
                )));
            }
        };
        let hnsw = request.hnsw_config.unwrap_or_default();
        let m = or_default(hnsw.m, 16, 2..=128, "hnsw_config.m")?;
        let ef_construction = or_default(
            hnsw.ef_construction,
            200,
            m..=4096,
            "hnsw_config.ef_construction",
        )?;
        let ef_search = or_default(hnsw.ef_search, 64, 1..=4096, "hnsw_config.ef_search")?;
        let embedder = if request.embedder.is_empty() {
            embed::HASHING_V1
        } else {
            &request.embedder
        };
        if embedder != embed::NONE {
            embed::by_name(embedder, dimension as usize)
                .map_err(|e| invalid(format!("embedder: {e}")))?;
        }
        Ok(Self {
            name: request.name.clone(),
            dimension: dimension as usize,
            metric,
            params: HnswParams { m, ef_construction },
            ef_search,
            embedder: embedder.to_owned(),
            create_time: now,
        })
    }

    /// The description as the contract (and the log) carries it.
    pub fn to_pb(&self, objects: usize, tombstones: usize) -> pb::Collection {
        pb::Collection {
            name: self.name.clone(),
            dimension: self.dimension as i32,
            distance: match self.metric {
                Metric::Cosine => pb::Distance::Cosine,
                Metric::L2 => pb::Distance::L2,
                Metric::Dot => pb::Distance::Dot,
            } as i32,
            hnsw_config: Some(pb::HnswConfig {
                m: self.params.m as i32,
                ef_construction: self.params.ef_construction as i32,
                ef_search: self.ef_search as i32,
            }),
            embedder: self.embedder.clone(),
            object_count: objects as i64,
            tombstone_count: tombstones as i64,
            create_time: Some(prost_types::Timestamp {
                seconds: self.create_time.0,
                nanos: self.create_time.1,
            }),
        }
    }

    /// Reads back a description written by [`CollectionSpec::to_pb`].
    pub fn from_pb(stored: &pb::Collection) -> Result<Self> {
        let time = stored.create_time.unwrap_or_default();
        let mut spec = Self::validated(
            &pb::CreateCollectionRequest {
                name: stored.name.clone(),
                dimension: stored.dimension,
                distance: stored.distance,
                hnsw_config: stored.hnsw_config,
                embedder: embed::NONE.to_owned(),
            },
            (time.seconds, time.nanos),
        )
        .map_err(|e| VectorError::Corrupt(format!("stored collection '{}': {e}", stored.name)))?;
        // Kept as recorded even if this server does not know it: only near_text needs it.
        spec.embedder = stored.embedder.clone();
        Ok(spec)
    }
}

fn or_default(
    value: i32,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
    field: &str,
) -> Result<usize> {
    if value == 0 {
        return Ok(default);
    }
    usize::try_from(value)
        .ok()
        .filter(|v| range.contains(v))
        .ok_or_else(|| {
            invalid(format!(
                "{field}: must be {} to {}, got {value}",
                range.start(),
                range.end()
            ))
        })
}

/// Checks a collection name: `[A-Za-z][A-Za-z0-9_-]{0,62}`.
pub fn check_name(name: &str, field: &str) -> Result<()> {
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

/// A stored object.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// Client-chosen id.
    pub id: String,
    /// The vector as given (or as embedded from `text`).
    pub vector: Vec<f32>,
    /// Metadata.
    pub payload: Payload,
    /// Source text, if any.
    pub text: Option<String>,
}

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

/// What an upsert did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    /// Objects that did not exist before.
    pub created: u64,
    /// Objects that replaced an existing one.
    pub replaced: u64,
}

/// Limits on objects, from the contract.
pub const MAX_ID_BYTES: usize = 256;
/// Largest payload string or object text.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
const MAX_PAYLOAD_KEYS: usize = 256;
const MAX_KEY_BYTES: usize = 128;
const MAX_LIST_DEPTH: usize = 8;
/// Searches over at most this many vector components (candidates × dimension, 10 MB of
/// floats) scan exactly instead of walking the graph: measured here, hnsw_rs's walk costs more
/// than a scan below that size, and a scan is exact.
pub const FULL_SCAN_FLOATS: usize = 2_500_000;

struct Slot {
    object: Object,
    /// Euclidean norm of the vector (for cosine scoring without a normalised copy).
    norm: f32,
}

/// A collection's objects and index.
pub struct Collection {
    spec: CollectionSpec,
    embedder: std::result::Result<Option<Arc<dyn Embedder>>, String>,
    ids: HashMap<String, usize>,
    slots: Vec<Option<Slot>>,
    index: Index,
    full_scan_floats: usize,
}

impl Collection {
    /// An empty collection. The embedder is resolved now; an unknown one only disables
    /// `near_text` (data written by another server version stays readable).
    pub fn new(spec: CollectionSpec) -> Self {
        let index = Index::new(spec.metric, spec.params, 1024);
        Self::with_index(spec, index)
    }

    fn with_index(spec: CollectionSpec, index: Index) -> Self {
        let embedder = embed::by_name(&spec.embedder, spec.dimension).map_err(|e| e.to_string());
        Self {
            spec,
            embedder,
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

    /// Embeds `text` with the collection's embedder.
    pub fn embed(&self, text: &str, field: &str) -> Result<Vec<f32>> {
        let embedder = match &self.embedder {
            Ok(Some(embedder)) => embedder,
            Ok(None) => {
                return Err(VectorError::FailedPrecondition(format!(
                    "collection '{}' has no text embedder (embedder '{}'); send vectors instead",
                    self.spec.name, self.spec.embedder
                )));
            }
            Err(reason) => {
                return Err(VectorError::FailedPrecondition(format!(
                    "collection '{}' was created with embedder '{}', which this server cannot use: {reason}",
                    self.spec.name, self.spec.embedder
                )));
            }
        };
        let vector = embedder.embed(text);
        if vector.iter().all(|x| *x == 0.0) {
            return Err(invalid(format!("{field}: the text has no words to embed")));
        }
        Ok(vector)
    }

    /// Checks a vector against the collection: dimension, finiteness, and non-zero for cosine.
    pub fn check_vector(&self, vector: &[f32], field: &str) -> Result<()> {
        if vector.len() != self.spec.dimension {
            return Err(invalid(format!(
                "{field}: expected dimension {}, got {}",
                self.spec.dimension,
                vector.len()
            )));
        }
        if let Some(i) = vector.iter().position(|x| !x.is_finite()) {
            return Err(invalid(format!(
                "{field}: component {i} is not a finite number"
            )));
        }
        if self.spec.metric == Metric::Cosine && vector.iter().all(|x| *x == 0.0) {
            return Err(invalid(format!(
                "{field}: an all-zero vector has no cosine direction"
            )));
        }
        Ok(())
    }

    /// Validates a batch and fills in embedded vectors, touching nothing.
    pub fn validate_upsert(&self, objects: Vec<pb::VectorObject>) -> Result<Vec<Object>> {
        let mut seen = std::collections::HashSet::new();
        let mut valid = Vec::with_capacity(objects.len());
        for (i, object) in objects.into_iter().enumerate() {
            let field = format!("objects[{i}]");
            check_id(&object.id, &format!("{field}.id"))?;
            if !seen.insert(object.id.clone()) {
                return Err(invalid(format!(
                    "{field}.id: '{}' appears twice in the request",
                    object.id
                )));
            }
            let field = format!("objects[{i}] (id '{}')", object.id);
            if let Some(text) = &object.text
                && text.len() > MAX_TEXT_BYTES
            {
                return Err(invalid(format!(
                    "{field}.text: longer than {MAX_TEXT_BYTES} bytes"
                )));
            }
            check_payload(&object.payload, &format!("{field}.payload"))?;
            let vector = match (&object.text, object.vector.is_empty()) {
                (Some(text), true) => self.embed(text, &format!("{field}.text"))?,
                (None, true) => return Err(invalid(format!("{field}: needs a vector or a text"))),
                (_, false) => object.vector,
            };
            self.check_vector(&vector, &format!("{field}.vector"))?;
            valid.push(Object {
                id: object.id,
                vector,
                payload: object.payload,
                text: object.text,
            });
        }
        Ok(valid)
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

/// Checks an object id: 1 to 256 bytes, no control characters.
pub fn check_id(id: &str, field: &str) -> Result<()> {
    if id.is_empty() || id.len() > MAX_ID_BYTES {
        return Err(invalid(format!(
            "{field}: must be 1 to {MAX_ID_BYTES} bytes"
        )));
    }
    if id.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{field}: must not contain control characters"
        )));
    }
    Ok(())
}

fn check_payload(payload: &Payload, field: &str) -> Result<()> {
    if payload.len() > MAX_PAYLOAD_KEYS {
        return Err(invalid(format!(
            "{field}: more than {MAX_PAYLOAD_KEYS} keys"
        )));
    }
    for (key, value) in payload {
        if key.is_empty() || key.len() > MAX_KEY_BYTES {
            return Err(invalid(format!(
                "{field}: key '{key}' must be 1 to {MAX_KEY_BYTES} bytes"
            )));
        }
        check_value(value, &format!("{field}['{key}']"), 0)?;
    }
    Ok(())
}

fn check_value(value: &pb::PayloadValue, field: &str, depth: usize) -> Result<()> {
    match &value.kind {
        Some(Kind::DoubleValue(d)) if !d.is_finite() => {
            Err(invalid(format!("{field}: must be finite")))
        }
        Some(Kind::StringValue(s)) if s.len() > MAX_TEXT_BYTES => Err(invalid(format!(
            "{field}: longer than {MAX_TEXT_BYTES} bytes"
        ))),
        Some(Kind::ListValue(list)) => {
            if depth >= MAX_LIST_DEPTH {
                return Err(invalid(format!(
                    "{field}: lists nest at most {MAX_LIST_DEPTH} deep"
                )));
            }
            list.values
                .iter()
                .enumerate()
                .try_for_each(|(i, v)| check_value(v, &format!("{field}[{i}]"), depth + 1))
        }
        _ => Ok(()),
    }
}
