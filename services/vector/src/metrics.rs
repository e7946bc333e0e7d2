//! The vector service's own series on its `GET /metrics`, beside the request metrics every
//! server has: what its two memories for repeated searches do (`crate::memo`), so that an
//! operator can see whether `--search-cache-bytes` is worth its memory.
//!
//! - `chatmesh_vector_query_vector_cache_*`: query texts' vectors (`vectors.rs`), both engines;
//! - `chatmesh_vector_search_cache_*`: the hits of searches (`store/embedded/searches.rs`), the
//!   embedded engine only: PostgreSQL keeps no searches, so a service on it does not show these.
//!
//! Each has `_hits_total` (answered from what was kept), `_misses_total` (could have been, and
//! was computed; what is too long to keep counts as neither), `_entries`, `_bytes` (what is kept
//! now, as the budget weighs it) and `_capacity_bytes` (the budget). Read when scraped; counting
//! is a relaxed atomic add per lookup.

use std::fmt::Write as _;
use std::sync::Arc;

use chatmesh_runtime::telemetry::{MetricsSource, metric_header};

use crate::memo::MemoStats;
use crate::store::Searches;
use crate::vectors::QueryVectors;

/// See the module documentation.
pub(crate) struct CacheMetrics {
    searches: Option<Arc<Searches>>,
    queries: Arc<QueryVectors>,
}

impl CacheMetrics {
    /// The series of `queries`, and of `searches` when the engine keeps them.
    pub(crate) fn new(searches: Option<Arc<Searches>>, queries: Arc<QueryVectors>) -> Self {
        Self { searches, queries }
    }
}

impl MetricsSource for CacheMetrics {
    fn render(&self, out: &mut String) {
        render(
            "chatmesh_vector_query_vector_cache",
            "query texts' vectors",
            &self.queries.stats(),
            out,
        );
        if let Some(searches) = &self.searches {
            render(
                "chatmesh_vector_search_cache",
                "searches' hits",
                &searches.stats(),
                out,
            );
        }
    }
}

fn render(prefix: &str, what: &str, stats: &MemoStats, out: &mut String) {
    let families: [(&str, &str, String, u64); 5] = [
        (
            "hits_total",
            "counter",
            format!("Lookups of {what} answered from what was kept."),
            stats.hits,
        ),
        (
            "misses_total",
            "counter",
            format!("Lookups of {what} that could have been kept and were computed."),
            stats.misses,
        ),
        (
            "entries",
            "gauge",
            format!("Entries of {what} kept now."),
            stats.entries,
        ),
        (
            "bytes",
            "gauge",
            format!("What the kept {what} weigh, in bytes."),
            stats.bytes,
        ),
        (
            "capacity_bytes",
            "gauge",
            format!("The most the kept {what} may weigh (--search-cache-bytes)."),
            stats.capacity,
        ),
    ];
    for (suffix, kind, help, value) in families {
        let name = format!("{prefix}_{suffix}");
        metric_header(out, &name, kind, &help);
        let _ = writeln!(out, "{name} {value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_has_its_header_and_one_sample() {
        let stats = MemoStats {
            hits: 3,
            misses: 2,
            entries: 2,
            bytes: 2400,
            capacity: 1 << 20,
        };
        let mut out = String::new();
        render(
            "chatmesh_vector_search_cache",
            "searches' hits",
            &stats,
            &mut out,
        );
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
