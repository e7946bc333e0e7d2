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
//! Bounded (`crate::memo`): a search weighs its key (the query vector, k, ef and the filter in a
//! canonical byte form) and its hits; keys longer than [`MAX_KEY`] are not kept, and all kept
//! searches weigh at most the configured bytes. Searches of older versions are never asked for
//! again, so they are the first to leave. Zero bytes keeps nothing.

use std::sync::Arc;

use super::collection::Hit;
use crate::memo::{Key, Memo, MemoStats};
use crate::model::{Bounds, Filter, Scalar};

/// Weight kept by default: 1 MiB, about 900 searches of 256-dimensional vectors.
pub(crate) const DEFAULT_BYTES: u64 = 1 << 20;

/// Longest key kept (bytes): a 4,096-dimensional query with a small filter.
const MAX_KEY: usize = 20 * 1024;

/// See the module documentation. One per process, shared by the store and the server's
/// `GET /metrics` (`crate::metrics`).
#[derive(Debug)]
pub(crate) struct Searches(Memo<[Hit]>);

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
        Self(Memo::new(bytes))
    }

    /// The counts so far.
    pub(crate) fn stats(&self) -> MemoStats {
        self.0.stats()
    }

    /// The hits of `query`: kept from an earlier call at the same version, or found now by
    /// `search` (and kept).
    pub(super) fn hits(&self, query: &Query<'_>, search: impl FnOnce() -> Vec<Hit>) -> Arc<[Hit]> {
        let key = self.0.keeps().then(|| key(query)).flatten();
        self.0.get_or(key, || search().into())
    }

    /// How many searches are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.stats().entries as usize
    }
}

/// The canonical bytes of `query`, or `None` when they would be longer than [`MAX_KEY`]. Two
/// queries have the same bytes only when they ask the same thing; queries that differ only in a
/// float's bit pattern (0.0 and -0.0) get different keys and merely miss.
fn key(query: &Query<'_>) -> Option<Box<[u8]>> {
    let size = 5 * 8 + 4 * query.vector.len();
    if size > MAX_KEY {
        return None;
    }
    let mut key = Key::with_capacity(size + 64);
    key.u64(query.version);
    key.u64(query.k as u64);
    key.u64(query.ef as u64);
    key.floats(query.vector);
    match query.filter {
        None => key.tag(0),
        Some(filter) => {
            key.tag(1);
            put_filter(&mut key, filter);
        }
    }
    key.finish(MAX_KEY)
}

fn put_filter(key: &mut Key, filter: &Filter) {
    match filter {
        Filter::And(operands) | Filter::Or(operands) => {
            key.tag(if matches!(filter, Filter::And(_)) {
                1
            } else {
                2
            });
            key.u64(operands.len() as u64);
            operands.iter().for_each(|f| put_filter(key, f));
        }
        Filter::Not(operand) => {
            key.tag(3);
            put_filter(key, operand);
        }
        Filter::Match { key: field, value } => {
            key.tag(4);
            key.text(field);
            put_scalar(key, value);
        }
        Filter::In { key: field, values } => {
            key.tag(5);
            key.text(field);
            key.u64(values.len() as u64);
            values.iter().for_each(|v| put_scalar(key, v));
        }
        Filter::Range { key: field, bounds } => {
            key.tag(6);
            key.text(field);
            put_bounds(key, bounds);
        }
    }
}

fn put_scalar(key: &mut Key, value: &Scalar) {
    match value {
        Scalar::Null => key.tag(0),
        Scalar::Bool(b) => {
            key.tag(1);
            key.tag(u8::from(*b));
        }
        Scalar::Number(x) => {
            key.tag(2);
            key.f64(*x);
        }
        Scalar::Text(s) => {
            key.tag(3);
            key.text(s);
        }
    }
}

fn put_bounds(key: &mut Key, bounds: &Bounds) {
    for bound in [bounds.lower(), bounds.upper()] {
        match bound {
            None => key.tag(0),
            Some((x, inclusive)) => {
                key.tag(1);
                key.tag(u8::from(inclusive));
                key.f64(x);
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
        let stats = searches.stats();
        assert!(stats.bytes <= 64 * 1024, "{stats:?}");
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
