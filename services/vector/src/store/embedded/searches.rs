//! Searches answered again from memory. A chatbot's users ask the same questions in the same
//! words (the FAQ cells of the benchmark repeat 300 of them); the exact scan of a collection is
//! most of a search's own work (docs/benchmarks.md), so a search that comes again while its
//! collection is unchanged is answered with the hits found the first time.
//!
//! Correctness rests on the collection's version (`cell`): a search is kept under the version
//! read while its collection was read-locked, and every write gives the collection a new one,
//! so a kept search is never found after a write, whatever changed. What is kept are the hits'
//! slots and scores; the objects themselves (ids, payloads, vectors) are read from the
//! collection under the same read lock as before, so nothing about an object is ever stale.
//!
//! Bounded so that no caller can grow it: a search is weighed by its key (the query vector,
//! k, ef and the filter in a canonical byte form) and its hits; keys longer than [`MAX_KEY`]
//! are not kept, and all kept searches weigh at most the configured bytes. `quick_cache`'s
//! CLOCK-Pro policy evicts: searches asked again stay, one-off searches and those of older
//! versions (never asked again) leave first. Zero bytes keeps nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use quick_cache::sync::{Cache, DefaultLifecycle};
use quick_cache::{DefaultHashBuilder, OptionsBuilder};

use super::collection::Hit;
use crate::model::{Bounds, Filter, Scalar};

/// Weight kept by default: 1 MiB, about 900 searches of 256-dimensional vectors.
pub(crate) const DEFAULT_BYTES: u64 = 1 << 20;

/// Longest key kept (bytes): a 4,096-dimensional query with a small filter.
const MAX_KEY: usize = 20 * 1024;

/// A kept search's fixed cost beyond its key and hits: the cache's slot and the two boxes.
const OVERHEAD: u64 = 96;

/// Shards of the cache, each with its own lock and a quarter of the weight.
const SHARDS: usize = 4;

/// See the module documentation. One per process, shared by the store and the server's
/// `GET /metrics` (`crate::metrics`).
pub(crate) struct Searches {
    kept: Option<Kept>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for Searches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Searches").field(&self.stats()).finish()
    }
}

/// What the kept searches have done so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SearchCacheStats {
    /// Searches answered from kept hits.
    pub(crate) hits: u64,
    /// Searches that could have been kept and were searched.
    pub(crate) misses: u64,
    /// Searches kept now.
    pub(crate) entries: u64,
    /// What they weigh (bytes, as the budget counts them).
    pub(crate) bytes: u64,
    /// The budget.
    pub(crate) capacity: u64,
}

/// Hits by the canonical bytes of their query.
type Kept = Cache<Box<[u8]>, Arc<[Hit]>, Weight>;

/// A kept search's weight in bytes: its key, its hits and [`OVERHEAD`].
#[derive(Clone)]
struct Weight;

impl quick_cache::Weighter<Box<[u8]>, Arc<[Hit]>> for Weight {
    fn weight(&self, key: &Box<[u8]>, hits: &Arc<[Hit]>) -> u64 {
        (key.len() + std::mem::size_of_val::<[Hit]>(hits)) as u64 + OVERHEAD
    }
}

/// What a search asks, apart from which objects' fields it wants back.
pub(super) struct Query<'a> {
    /// The collection's version, read under its read lock.
    pub(super) version: u64,
    /// The query vector, checked against the collection.
    pub(super) vector: &'a [f32],
    /// Maximum number of hits.
    pub(super) k: usize,
    /// Search breadth.
    pub(super) ef: usize,
    /// Payload filter.
    pub(super) filter: Option<&'a Filter>,
}

impl Searches {
    /// Keeps searches weighing at most `bytes` in all (0: none).
    pub(crate) fn new(bytes: u64) -> Self {
        let kept = (bytes > 0).then(|| {
            Cache::with_options(
                OptionsBuilder::new()
                    .estimated_items_capacity(256)
                    .weight_capacity(bytes)
                    // Few shards, so that a shard's share of a small budget still holds the
                    // longest key (the default grows with the cores).
                    .shards(SHARDS)
                    .build()
                    .expect("every option is set"),
                Weight,
                DefaultHashBuilder::default(),
                DefaultLifecycle::default(),
            )
        });
        Self {
            kept,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The counts so far.
    pub(crate) fn stats(&self) -> SearchCacheStats {
        let kept = self.kept.as_ref();
        SearchCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: kept.map_or(0, |k| k.len() as u64),
            bytes: kept.map_or(0, Kept::weight),
            capacity: kept.map_or(0, Kept::capacity),
        }
    }

    /// The hits of `query`: kept from an earlier call at the same version, or found now by
    /// `search` (and kept).
    pub(super) fn hits(&self, query: &Query<'_>, search: impl FnOnce() -> Vec<Hit>) -> Arc<[Hit]> {
        let Some(kept) = &self.kept else {
            return search().into();
        };
        let Some(key) = key(query) else {
            return search().into();
        };
        if let Some(hits) = kept.get(&key[..]) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return hits;
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let hits: Arc<[Hit]> = search().into();
        kept.insert(key, Arc::clone(&hits));
        hits
    }

    /// How many searches are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.kept.as_ref().map_or(0, Kept::len)
    }
}

/// The canonical bytes of `query`, or `None` when they would be longer than [`MAX_KEY`]. Every
/// part is tagged or prefixed by its length, so two queries have the same bytes only when they
/// ask the same thing; queries that differ only in a float's bit pattern (0.0 and -0.0) get
/// different keys and merely miss.
fn key(query: &Query<'_>) -> Option<Box<[u8]>> {
    let size = 4 * 8 + 4 * query.vector.len();
    if size > MAX_KEY {
        return None;
    }
    let mut key = Key(Vec::with_capacity(size + 64));
    key.u64(query.version);
    key.u64(query.k as u64);
    key.u64(query.ef as u64);
    key.u64(query.vector.len() as u64);
    for x in query.vector {
        key.0.extend_from_slice(&x.to_bits().to_le_bytes());
    }
    match query.filter {
        None => key.0.push(0),
        Some(filter) => {
            key.0.push(1);
            key.filter(filter);
        }
    }
    (key.0.len() <= MAX_KEY).then(|| key.0.into_boxed_slice())
}

/// A key being written.
struct Key(Vec<u8>);

impl Key {
    fn u64(&mut self, n: u64) {
        self.0.extend_from_slice(&n.to_le_bytes());
    }

    fn f64(&mut self, x: f64) {
        self.u64(x.to_bits());
    }

    fn text(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }

    fn filter(&mut self, filter: &Filter) {
        match filter {
            Filter::And(operands) | Filter::Or(operands) => {
                self.0.push(if matches!(filter, Filter::And(_)) {
                    1
                } else {
                    2
                });
                self.u64(operands.len() as u64);
                operands.iter().for_each(|f| self.filter(f));
            }
            Filter::Not(operand) => {
                self.0.push(3);
                self.filter(operand);
            }
            Filter::Match { key, value } => {
                self.0.push(4);
                self.text(key);
                self.scalar(value);
            }
            Filter::In { key, values } => {
                self.0.push(5);
                self.text(key);
                self.u64(values.len() as u64);
                values.iter().for_each(|v| self.scalar(v));
            }
            Filter::Range { key, bounds } => {
                self.0.push(6);
                self.text(key);
                self.bounds(bounds);
            }
        }
    }

    fn scalar(&mut self, value: &Scalar) {
        match value {
            Scalar::Null => self.0.push(0),
            Scalar::Bool(b) => self.0.extend_from_slice(&[1, u8::from(*b)]),
            Scalar::Number(x) => {
                self.0.push(2);
                self.f64(*x);
            }
            Scalar::Text(s) => {
                self.0.push(3);
                self.text(s);
            }
        }
    }

    fn bounds(&mut self, bounds: &Bounds) {
        for bound in [bounds.lower(), bounds.upper()] {
            match bound {
                None => self.0.push(0),
                Some((x, inclusive)) => {
                    self.0.extend_from_slice(&[1, u8::from(inclusive)]);
                    self.f64(x);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn hit(slot: usize) -> Hit {
        Hit {
            slot,
            score: 1.0 / (1 + slot) as f32,
            distance: slot as f32,
        }
    }

    fn query<'a>(version: u64, vector: &'a [f32], filter: Option<&'a Filter>) -> Query<'a> {
        Query {
            version,
            vector,
            k: 5,
            ef: 64,
            filter,
        }
    }

    /// Asks `searches` for `query` and says whether it had to search.
    fn searched(searches: &Searches, query: &Query<'_>) -> bool {
        let ran = Cell::new(false);
        let hits = searches.hits(query, || {
            ran.set(true);
            vec![hit(3), hit(7)]
        });
        assert_eq!(hits.iter().map(|h| h.slot).collect::<Vec<_>>(), [3, 7]);
        ran.get()
    }

    #[test]
    fn a_search_is_kept_for_its_version_only() {
        let searches = Searches::new(DEFAULT_BYTES);
        let v = [0.5, -0.25, 1.0];
        assert!(searched(&searches, &query(1, &v, None)));
        assert!(!searched(&searches, &query(1, &v, None)), "asked again");
        assert!(searched(&searches, &query(2, &v, None)), "a later version");
        let mut other = query(1, &v, None);
        other.k = 6;
        assert!(searched(&searches, &other), "another k");
        other.k = 5;
        other.ef = 65;
        assert!(searched(&searches, &other), "another ef");
        assert!(searched(&searches, &query(1, &[0.5, -0.25, 1.5], None)));
        assert!(searched(&searches, &query(1, &[-0.0, 0.0, 0.0], None)));
        assert!(searched(&searches, &query(1, &[0.0, 0.0, 0.0], None)));
    }

    #[test]
    fn filters_are_part_of_the_key() {
        let searches = Searches::new(DEFAULT_BYTES);
        let v = [1.0, 2.0];
        let text = |s: &str| Scalar::Text(s.into());
        let matching = |key: &str, value| Filter::Match {
            key: key.into(),
            value,
        };
        let range = |gt, lte| Filter::Range {
            key: "n".into(),
            bounds: Bounds::new(gt, None, None, lte).unwrap(),
        };
        let filters = [
            matching("a", text("x")),
            matching("a", text("y")),
            matching("b", text("x")),
            // A key and value that would run together without the length prefixes.
            matching("ab", text("")),
            matching("a", Scalar::Null),
            matching("a", Scalar::Bool(true)),
            matching("a", Scalar::Number(1.0)),
            Filter::In {
                key: "a".into(),
                values: vec![text("x")],
            },
            Filter::Not(Box::new(matching("a", text("x")))),
            Filter::And(vec![matching("a", text("x")), matching("b", text("x"))]),
            Filter::Or(vec![matching("a", text("x")), matching("b", text("x"))]),
            range(Some(1.0), None),
            range(None, Some(1.0)),
            range(Some(1.0), Some(2.0)),
        ];
        for filter in &filters {
            assert!(searched(&searches, &query(1, &v, Some(filter))));
        }
        assert!(searched(&searches, &query(1, &v, None)));
        for filter in &filters {
            assert!(
                !searched(&searches, &query(1, &v, Some(filter))),
                "{filter:?} asked again"
            );
        }
        assert_eq!(searches.len(), filters.len() + 1);
    }

    #[test]
    fn the_weight_is_bounded_and_zero_keeps_nothing() {
        let searches = Searches::new(64 * 1024);
        let vectors: Vec<Vec<f32>> = (0..1000).map(|i| vec![i as f32; 256]).collect();
        for v in &vectors {
            searched(&searches, &query(1, v, None));
        }
        let kept = searches.kept.as_ref().unwrap();
        assert!(kept.weight() <= 64 * 1024, "{}", kept.weight());
        assert!(
            searches.len() > 10 && searches.len() < 100,
            "{}",
            searches.len()
        );

        let none = Searches::new(0);
        assert!(searched(&none, &query(1, &vectors[0], None)));
        assert!(searched(&none, &query(1, &vectors[0], None)));

        let long = vec![1.0; MAX_KEY / 4];
        assert!(searched(&searches, &query(1, &long, None)));
        assert!(
            searched(&searches, &query(1, &long, None)),
            "too long to keep"
        );
    }
}
