//! The memory budget of Cypher queries (issue #18). The cap on intermediate rows bounds work,
//! not memory: one row can carry a collected list of thousands of values, so a few hundred
//! thousand rows reached almost a GiB. Here each query charges an estimate of what it holds
//! (each intermediate row with its values, each projected row with its collected lists) to its
//! own budget (`--query-memory`, like PostgreSQL's `work_mem`) and to one total shared by the
//! queries running at once (`--total-query-memory`); past either, the query ends with
//! RESOURCE_EXHAUSTED. The estimate is approximate (heap sizes of `Bindings` and `RVal`, not the
//! allocator's real footprint) and errs high.
//!
//! Freed memory is not returned to the system by glibc on its own: its per-thread arenas keep
//! the pages of a spike, so the process kept 7.3 GiB after eight such queries. When the last
//! query that held much memory ends, `malloc_trim(0)` hands the free pages back; it runs on the
//! blocking thread that ran the query, at most once per quiet period, and costs milliseconds.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::error::{GraphError, Result};

const MIB: u64 = 1024 * 1024;
/// Memory is taken from the shared total in chunks of this size, so that the atomic counter is
/// touched once per chunk rather than once per row.
const CHUNK: u64 = MIB;
/// A query that held at least this much marks the allocator for trimming.
const TRIM_AFTER: u64 = 8 * MIB;

/// The shared total of the queries running at once. One per store.
#[derive(Debug)]
pub(crate) struct MemoryPool {
    per_query: u64,
    total: u64,
    reserved: AtomicU64,
    trim: AtomicBool,
}

impl MemoryPool {
    /// A pool giving each query at most `per_query` bytes and all of them at most `total`.
    pub(crate) fn new(per_query: u64, total: u64) -> Arc<Self> {
        Arc::new(Self {
            per_query,
            total,
            reserved: AtomicU64::new(0),
            trim: AtomicBool::new(false),
        })
    }

    /// Bytes the running queries hold now.
    #[cfg(test)]
    fn reserved(&self) -> u64 {
        self.reserved.load(Ordering::Relaxed)
    }

    fn reserve(&self, bytes: u64) -> Result<()> {
        let mut now = self.reserved.load(Ordering::Relaxed);
        loop {
            if now + bytes > self.total {
                return Err(GraphError::ResourceExhausted(format!(
                    "the queries running at once would hold more than {} of memory \
                     (--total-query-memory); try again when fewer queries run",
                    mib(self.total)
                )));
            }
            match self.reserved.compare_exchange_weak(
                now,
                now + bytes,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => now = actual,
            }
        }
    }

    fn release(&self, bytes: u64) -> u64 {
        self.reserved.fetch_sub(bytes, Ordering::AcqRel) - bytes
    }
}

/// One query's share: what it holds now (estimated), reserved from the pool in chunks.
#[derive(Debug)]
pub(crate) struct QueryMemory {
    pool: Arc<MemoryPool>,
    used: Cell<u64>,
    reserved: Cell<u64>,
    peak: Cell<u64>,
}

impl QueryMemory {
    /// A new query's share of `pool`.
    pub(crate) fn new(pool: &Arc<MemoryPool>) -> Self {
        Self {
            pool: pool.clone(),
            used: Cell::new(0),
            reserved: Cell::new(0),
            peak: Cell::new(0),
        }
    }

    /// Charges `bytes` more; fails past the query's budget or the shared total.
    pub(crate) fn charge(&self, bytes: u64) -> Result<()> {
        self.set(self.used.get() + bytes)
    }

    /// Sets what the query holds to `bytes` (after a clause, the rows it kept).
    pub(crate) fn settle(&self, bytes: u64) -> Result<()> {
        self.set(bytes)
    }

    fn set(&self, used: u64) -> Result<()> {
        if used > self.pool.per_query {
            return Err(GraphError::ResourceExhausted(format!(
                "the query would hold more than {} of memory (--query-memory); \
                 narrow its patterns or collect less",
                mib(self.pool.per_query)
            )));
        }
        let reserved = self.reserved.get();
        if used > reserved {
            let want = used.div_ceil(CHUNK) * CHUNK;
            let want = want.min(self.pool.per_query.max(used));
            self.pool.reserve(want - reserved)?;
            self.reserved.set(want);
        } else if reserved - used > 4 * CHUNK {
            let keep = used.div_ceil(CHUNK) * CHUNK;
            self.pool.release(reserved - keep);
            self.reserved.set(keep);
        }
        self.used.set(used);
        self.peak.set(self.peak.get().max(used));
        Ok(())
    }
}

impl Drop for QueryMemory {
    fn drop(&mut self) {
        if self.peak.get() >= TRIM_AFTER {
            self.pool.trim.store(true, Ordering::Release);
        }
        let left = self.pool.release(self.reserved.get());
        if left == 0 && self.pool.trim.swap(false, Ordering::AcqRel) {
            chatmesh_runtime::memory::release_free_memory();
        }
    }
}

/// `bytes` as whole MiB for messages.
fn mib(bytes: u64) -> String {
    if bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_ends_at_its_budget_and_the_total_is_shared() {
        let pool = MemoryPool::new(4 * MIB, 6 * MIB);
        let a = QueryMemory::new(&pool);
        a.charge(3 * MIB).unwrap();
        let err = a.charge(2 * MIB).unwrap_err().to_string();
        assert!(
            err.contains("4 MiB") && err.contains("--query-memory"),
            "{err}"
        );
        let b = QueryMemory::new(&pool);
        let err = b.charge(4 * MIB).unwrap_err().to_string();
        assert!(err.contains("--total-query-memory"), "{err}");
        a.settle(0).unwrap();
        b.charge(3 * MIB).unwrap();
        drop(a);
        drop(b);
        assert_eq!(pool.reserved(), 0);
    }
}
