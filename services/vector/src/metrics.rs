//! The vector service's own series on its `GET /metrics`, beside the request metrics every
//! server has: what the embedded engine's search cache (`store/embedded/searches.rs`) does, so
//! that an operator can see whether `--search-cache-bytes` is worth its memory.
//!
//! - `chatmesh_vector_search_cache_hits_total`: searches answered from kept hits;
//! - `chatmesh_vector_search_cache_misses_total`: searches that could have been kept and were
//!   searched (a search whose query is too long to keep counts as neither);
//! - `chatmesh_vector_search_cache_entries` and `chatmesh_vector_search_cache_bytes`: what is
//!   kept now, and `chatmesh_vector_search_cache_capacity_bytes` the budget.
//!
//! Read when scraped; counting is two relaxed atomic adds on the search path. Only the embedded
//! engine keeps searches, so a service on PostgreSQL does not show these series.

use std::fmt::Write as _;
use std::sync::Arc;

use chatmesh_runtime::telemetry::{MetricsSource, metric_header};

use crate::store::{SearchCacheStats, Searches};

/// See the module documentation.
pub(crate) struct SearchCacheMetrics(Arc<Searches>);

impl SearchCacheMetrics {
    pub(crate) fn new(searches: Arc<Searches>) -> Self {
        Self(searches)
    }
}

impl MetricsSource for SearchCacheMetrics {
    fn render(&self, out: &mut String) {
        render(&self.0.stats(), out);
    }
}

fn render(stats: &SearchCacheStats, out: &mut String) {
    let families: [(&str, &str, &str, u64); 5] = [
        (
            "chatmesh_vector_search_cache_hits_total",
            "counter",
            "Searches answered from the hits kept for the same search on the unchanged collection.",
            stats.hits,
        ),
        (
            "chatmesh_vector_search_cache_misses_total",
            "counter",
            "Searches that could have been kept and were searched.",
            stats.misses,
        ),
        (
            "chatmesh_vector_search_cache_entries",
            "gauge",
            "Searches kept now.",
            stats.entries,
        ),
        (
            "chatmesh_vector_search_cache_bytes",
            "gauge",
            "What the kept searches weigh, in bytes.",
            stats.bytes,
        ),
        (
            "chatmesh_vector_search_cache_capacity_bytes",
            "gauge",
            "The most the kept searches may weigh (--search-cache-bytes).",
            stats.capacity,
        ),
    ];
    for (name, kind, help, value) in families {
        metric_header(out, name, kind, help);
        let _ = writeln!(out, "{name} {value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_has_its_header_and_one_sample() {
        let stats = SearchCacheStats {
            hits: 3,
            misses: 2,
            entries: 2,
            bytes: 2400,
            capacity: 1 << 20,
        };
        let mut out = String::new();
        render(&stats, &mut out);
        for (name, value) in [
            ("chatmesh_vector_search_cache_hits_total", "3"),
            ("chatmesh_vector_search_cache_misses_total", "2"),
            ("chatmesh_vector_search_cache_entries", "2"),
            ("chatmesh_vector_search_cache_bytes", "2400"),
            ("chatmesh_vector_search_cache_capacity_bytes", "1048576"),
        ] {
            assert!(out.contains(&format!("# TYPE {name} ")), "{out}");
            assert!(out.contains(&format!("\n{name} {value}\n")), "{out}");
        }
    }
}
