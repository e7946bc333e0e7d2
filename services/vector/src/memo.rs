//! A bounded memo of shared values by byte keys, counting its hits and misses: what the vector
//! service keeps so that a search asked again costs less. Two use it: the embedded engine keeps
//! hits by query (`store/embedded/searches.rs`) and the domain keeps query vectors by embedder and
//! text (`vectors.rs`). What a key means, and why a kept value is still right when found, is
//! theirs to say; this module only bounds and counts.
//!
//! Bounded so that no caller can grow it: an entry weighs its key, its value and [`OVERHEAD`];
//! callers keep no key longer than they can afford, and all entries weigh at most the budget.
//! `quick_cache`'s CLOCK-Pro policy evicts: entries asked for again stay, one-off entries leave
//! first. A budget of zero keeps nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use quick_cache::sync::{Cache, DefaultLifecycle};
use quick_cache::{DefaultHashBuilder, OptionsBuilder};

/// An entry's fixed cost beyond its key and value: the cache's slot and the two boxes.
const OVERHEAD: u64 = 96;

/// Shards of each memo, each with its own lock and a quarter of the budget.
const SHARDS: usize = 4;

/// See the module documentation.
pub(crate) struct Memo<V: ?Sized> {
    kept: Option<Cache<Box<[u8]>, Arc<V>, Weight>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// What a memo has done so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MemoStats {
    /// Lookups answered from a kept value.
    pub(crate) hits: u64,
    /// Lookups that could have been answered and were computed.
    pub(crate) misses: u64,
    /// Values kept now.
    pub(crate) entries: u64,
    /// What they weigh (bytes, as the budget counts them).
    pub(crate) bytes: u64,
    /// The budget.
    pub(crate) capacity: u64,
}

/// An entry's weight in bytes: its key, its value and [`OVERHEAD`].
#[derive(Clone)]
struct Weight;

impl<V: ?Sized> quick_cache::Weighter<Box<[u8]>, Arc<V>> for Weight {
    fn weight(&self, key: &Box<[u8]>, value: &Arc<V>) -> u64 {
        (key.len() + std::mem::size_of_val::<V>(value)) as u64 + OVERHEAD
    }
}

impl<V: ?Sized> std::fmt::Debug for Memo<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Memo").field(&self.stats()).finish()
    }
}

impl<V: ?Sized> Memo<V> {
    /// Keeps entries weighing at most `bytes` in all (0: none).
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

    /// Whether it keeps anything (a budget above zero): callers skip building keys otherwise.
    pub(crate) fn keeps(&self) -> bool {
        self.kept.is_some()
    }

    /// The value kept under `key`, or `compute`'s (then kept). `None` for a key means "do not
    /// keep this one": it is computed and counted as neither hit nor miss.
    pub(crate) fn get_or(
        &self,
        key: Option<Box<[u8]>>,
        compute: impl FnOnce() -> Arc<V>,
    ) -> Arc<V> {
        let (Some(kept), Some(key)) = (&self.kept, key) else {
            return compute();
        };
        if let Some(value) = kept.get(&key[..]) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return value;
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let value = compute();
        kept.insert(key, Arc::clone(&value));
        value
    }

    /// The counts so far.
    pub(crate) fn stats(&self) -> MemoStats {
        let kept = self.kept.as_ref();
        MemoStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: kept.map_or(0, |k| k.len() as u64),
            bytes: kept.map_or(0, |k| k.weight()),
            capacity: kept.map_or(0, |k| k.capacity()),
        }
    }
}

/// A key being written: every part tagged or prefixed by its length, so that two different
/// things never write the same bytes.
pub(crate) struct Key(Vec<u8>);

impl Key {
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        Self(Vec::with_capacity(bytes))
    }

    pub(crate) fn u64(&mut self, n: u64) {
        self.0.extend_from_slice(&n.to_le_bytes());
    }

    pub(crate) fn f64(&mut self, x: f64) {
        self.u64(x.to_bits());
    }

    pub(crate) fn tag(&mut self, tag: u8) {
        self.0.push(tag);
    }

    pub(crate) fn text(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }

    pub(crate) fn floats(&mut self, xs: &[f32]) {
        self.u64(xs.len() as u64);
        for x in xs {
            self.0.extend_from_slice(&x.to_bits().to_le_bytes());
        }
    }

    /// The key, when it is at most `max` bytes long.
    pub(crate) fn finish(self, max: usize) -> Option<Box<[u8]>> {
        (self.0.len() <= max).then(|| self.0.into_boxed_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Option<Box<[u8]>> {
        let mut key = Key::with_capacity(16);
        key.text(s);
        key.finish(64)
    }

    #[test]
    fn kept_values_are_found_counted_and_bounded() {
        let memo = Memo::<[f32]>::new(16 * 1024);
        let computed = |x: f32| -> Arc<[f32]> { vec![x; 4].into() };
        assert_eq!(&*memo.get_or(key("a"), || computed(1.0)), [1.0; 4]);
        assert_eq!(&*memo.get_or(key("a"), || computed(2.0)), [1.0; 4], "kept");
        assert_eq!(&*memo.get_or(key("b"), || computed(3.0)), [3.0; 4]);
        assert_eq!(&*memo.get_or(None, || computed(4.0)), [4.0; 4]);
        assert_eq!(&*memo.get_or(None, || computed(5.0)), [5.0; 4], "not kept");
        let stats = memo.stats();
        assert_eq!((stats.hits, stats.misses, stats.entries), (1, 2, 2));
        for i in 0..1000 {
            memo.get_or(key(&i.to_string()), || computed(0.0));
        }
        let stats = memo.stats();
        assert!(
            stats.bytes <= 16 * 1024 && stats.capacity == 16 * 1024,
            "{stats:?}"
        );
        assert!(stats.entries > 10 && stats.entries < 200, "{stats:?}");
    }

    #[test]
    fn a_zero_budget_keeps_nothing() {
        let memo = Memo::<[f32]>::new(0);
        assert!(!memo.keeps());
        memo.get_or(key("a"), || vec![1.0].into());
        assert_eq!(&*memo.get_or(key("a"), || vec![2.0].into()), [2.0]);
        assert_eq!(memo.stats().entries, 0);
    }

    #[test]
    fn long_keys_are_not_kept() {
        assert!(key(&"x".repeat(57)).is_none(), "8 + 57 bytes is over 64");
        assert!(key(&"x".repeat(56)).is_some());
    }
}
