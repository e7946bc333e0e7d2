//! Loopback ports for tests that must name a port before something listens on it (a child
//! process's `--listen`, a run of consecutive ports, an address where nothing answers). A port
//! found free is released before it is returned, so another process could take it first: tests
//! that can bind themselves should bind `127.0.0.1:0` instead.

use std::net::TcpListener;

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind a loopback port")
        .port()
}

/// A loopback port nothing listens on (bound, then released): connecting to it is refused.
pub fn closed_port() -> u16 {
    free_port()
}

/// A base port such that it and the `count - 1` ports after it are free on loopback (checked,
/// not reserved).
pub fn free_port_run(count: u16) -> u16 {
    for _ in 0..50 {
        let base = free_port();
        if base < 65535 - count
            && (0..count).all(|i| TcpListener::bind(("127.0.0.1", base + i)).is_ok())
        {
            return base;
        }
    }
    panic!("no {count} consecutive free ports on loopback");
}
