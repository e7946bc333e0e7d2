//! Keeping the allocator's footprint small. glibc's allocator keeps the pages it freed in its
//! per-thread arenas for reuse, so a process that once held a spike (a large query, a parsed
//! model file) keeps it resident for its lifetime. Services call [`release_free_memory`] after
//! such a spike, and every process starts with [`limit_arenas`]: each is a few lines of
//! `unsafe`, written once here so that every caller gets the same platform guard.

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

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::release_free_memory;

    /// This process's resident anonymous memory, from /proc.
    fn rss_anon_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("RssAnon:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("RssAnon in /proc/self/status")
    }

    #[test]
    fn freed_heap_pages_go_back_to_the_system() {
        // Many small blocks (below the mmap threshold, so they live in the heap), touched so
        // that they are resident, and one more block after them that stays: it pins the top of
        // the heap, so freeing the others cannot shrink the heap on its own.
        let blocks: Vec<Vec<u8>> = (0..64 * 1024).map(|i| vec![i as u8; 1024]).collect();
        let pin = vec![1u8; 1024];
        drop(blocks);
        let freed = rss_anon_kib();
        release_free_memory();
        let after = rss_anon_kib();
        assert_eq!(pin[0], 1);
        // 64 MiB were freed but still resident; at least half of it must go back. Other tests
        // run in parallel threads of this process and allocate too, hence the margin.
        assert!(
            after + 32 * 1024 < freed,
            "RssAnon {freed} kB after freeing 64 MiB, {after} kB after the release"
        );
    }
}
