//! `memory::limit_arenas` in a process of its own (arenas are per process): after it, threads
//! that allocate at once share the capped arenas instead of each getting a new one.

#![cfg(all(target_os = "linux", target_env = "gnu"))]

use std::sync::{Arc, Barrier};

/// The arenas glibc has, counted from `malloc_info`'s report (one `<heap nr=` per arena).
fn arenas() -> usize {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("info.xml");
    let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: the path and mode are NUL-terminated strings that outlive the calls; the stream
    // is closed before the file is read.
    unsafe {
        let file = libc::fopen(c_path.as_ptr(), c"w".as_ptr());
        assert!(!file.is_null());
        assert_eq!(libc::malloc_info(0, file), 0);
        libc::fclose(file);
    }
    std::fs::read_to_string(&path)
        .unwrap()
        .matches("<heap nr=")
        .count()
}

#[test]
fn threads_share_the_capped_arenas() {
    assert!(
        std::env::var_os("MALLOC_ARENA_MAX").is_none(),
        "run without MALLOC_ARENA_MAX"
    );
    chatmesh_runtime::memory::limit_arenas(Some(2));
    let before = arenas();
    // Eight threads, each allocating while the others hold their blocks: without a cap each
    // would get an arena of its own.
    let start = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                let blocks: Vec<Vec<u8>> = (0..1000).map(|j| vec![(i + j) as u8; 256]).collect();
                start.wait();
                blocks.len()
            })
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap(), 1000);
    }
    let after = arenas();
    assert!(
        after <= before.max(2),
        "{before} arenas before the threads, {after} after: the cap of 2 did not hold"
    );
}
