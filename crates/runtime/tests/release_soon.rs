//! `memory::release_free_memory_soon` (and so `release_free_memory`, which it runs) in a process
//! of its own: resident memory is counted per process, and a release in one test would give back
//! what another test freed. The release runs on the blocking pool, one at a time, and gives a
//! freed spike back.

#![cfg(all(target_os = "linux", target_env = "gnu"))]

use std::time::{Duration, Instant};

use chatmesh_runtime::memory::release_free_memory_soon;

/// This process's resident anonymous memory, in KiB.
fn rss_anon_kib() -> u64 {
    chatmesh_test_support::usage::usage(std::process::id()).anon_rss_bytes / 1024
}

#[test]
fn a_freed_spike_goes_back_on_the_blocking_pool_one_release_at_a_time() {
    // One blocking thread, held by a task until the test lets it go: a queued release cannot
    // run before then, so the calls below see it queued.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let (go, wait) = std::sync::mpsc::channel::<()>();
    runtime.spawn_blocking(move || wait.recv().ok());

    // Many small blocks (in the heap, below the mmap threshold), touched so they are resident,
    // and one more after them that stays, so that freeing cannot shrink the heap on its own.
    let blocks: Vec<Vec<u8>> = (0..64 * 1024).map(|i| vec![i as u8; 1024]).collect();
    let pin = vec![1u8; 1024];
    drop(blocks);
    let freed = rss_anon_kib();

    runtime.block_on(async {
        assert!(
            release_free_memory_soon(),
            "the first call queues a release"
        );
        assert!(
            !release_free_memory_soon(),
            "a second one while it is queued does not"
        );
    });
    assert!(
        rss_anon_kib() + 32 * 1024 > freed,
        "nothing released while the blocking thread is busy"
    );
    go.send(()).unwrap();

    // 64 MiB were freed but resident; at least half must go back once the release runs.
    let deadline = Instant::now() + Duration::from_secs(10);
    while rss_anon_kib() + 32 * 1024 >= freed {
        assert!(
            Instant::now() < deadline,
            "RssAnon {freed} kB after freeing 64 MiB, {} kB ten seconds after the release was queued",
            rss_anon_kib()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(pin[0], 1);
    // Done, so the next spike can queue another one.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !runtime.block_on(async { release_free_memory_soon() }) {
        assert!(Instant::now() < deadline, "the release never finished");
        std::thread::sleep(Duration::from_millis(10));
    }
}
