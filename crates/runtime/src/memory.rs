//! Keeping the allocator's footprint small. glibc's allocator keeps the pages it freed in its
//! per-thread arenas for reuse, so a process that once held a spike (a large query, a parsed
//! model file) keeps it resident for its lifetime. Services call [`release_free_memory`] after
//! such a spike, and every process starts with [`limit_arenas`]: each is a few lines of
//! `unsafe`, written once here so that every caller gets the same platform guard.

use std::sync::atomic::{AtomicBool, Ordering};

/// Hands the allocator's free pages back to the system: `malloc_trim(0)` on glibc, nothing
/// elsewhere (musl and other allocators return memory on their own terms). Walks the
/// allocator's free lists, so it costs up to milliseconds: call it after a spike, not per request.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it takes no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// [`release_free_memory`] on Tokio's blocking pool, for a request handler after a spike (a bulk
/// write's decoded batch, its embeddings, its log record): the answer does not wait for it, and
/// while one release is queued or running another call queues none, so a stream of bulk writes
/// costs one walk of the free lists at a time. Outside a Tokio runtime it runs at once. Returns
/// whether this call queued (or ran) one.
pub fn release_free_memory_soon() -> bool {
    static QUEUED: AtomicBool = AtomicBool::new(false);
    if QUEUED.swap(true, Ordering::AcqRel) {
        return false;
    }
    let release = || {
        release_free_memory();
        QUEUED.store(false, Ordering::Release);
    };
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn_blocking(release)),
        Err(_) => release(),
    }
    true
}

/// Caps glibc's malloc arenas at the runtime's worker threads (`workers`, else one per CPU the
/// process may use, as Tokio counts them; at least two), unless the operator chose a cap
/// (`MALLOC_ARENA_MAX`, or `arena_max` in `GLIBC_TUNABLES`). glibc gives each thread an arena
/// of its own, up to eight per core, and each keeps the pages freed in it: after the chat mix
/// the relational service had twelve besides the main one (its sqlx worker threads), the vector
/// service five, the others two or three. Measured on two cores, the five release processes
/// under the chat mix at c=64: 91 → 85 MiB with two arenas each, throughput the same within
/// the rounds' spread (docs/benchmarks.md). Call it first thing in `main`, before threads
/// start: arenas that exist stay.
pub fn limit_arenas(workers: Option<usize>) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let threads =
            workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
        let chosen = std::env::var_os("MALLOC_ARENA_MAX").is_some()
            || std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains("arena_max"));
        if chosen {
            return;
        }
        let cap = libc::c_int::try_from(threads.max(2)).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt sets one of the allocator's parameters; it takes no pointers.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, cap);
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = workers;
}
