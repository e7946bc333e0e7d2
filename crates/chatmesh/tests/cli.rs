//! The `chatmesh` command as a user runs it: `up` serves all five services and stops cleanly
//! on Ctrl-C (SIGINT); `health` exits 0 only for SERVING.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_chatmesh");

const SERVICES: [&str; 5] = [
    "chatmesh.chat.v1.ChatService",
    "chatmesh.router.v1.RouterService",
    "chatmesh.graph.v1.GraphService",
    "chatmesh.vector.v1.VectorService",
    "chatmesh.relational.v1.RelationalService",
];

/// A base port with the four ports after it free on loopback (checked, not reserved).
fn free_base_port() -> u16 {
    for _ in 0..50 {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = probe.local_addr().unwrap().port();
        drop(probe);
        if base < 65000
            && (0..5).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok())
        {
            return base;
        }
    }
    panic!("no five consecutive free ports");
}

fn health(addr: &str, service: &str) -> Option<i32> {
    Command::new(BIN)
        .args([
            "health",
            "--quiet",
            "--timeout",
            "2s",
            "--addr",
            addr,
            "--service",
            service,
        ])
        .status()
        .unwrap()
        .code()
}

#[test]
fn up_serves_all_five_and_stops_cleanly_on_sigint() {
    let data = tempfile::tempdir().unwrap();
    let base = free_base_port();
    let mut child = Command::new(BIN)
        .args(["up", "--base-port", &base.to_string(), "--data-dir"])
        .arg(data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    let started = Instant::now();
    while !banner.contains("grpc.health.v1.Health/Check") {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "up exited early: {banner}"
        );
        banner.push_str(&line);
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no banner: {banner}"
        );
    }
    for (i, fqn) in SERVICES.iter().enumerate() {
        let addr = format!("127.0.0.1:{}", base + i as u16);
        assert!(
            banner.contains(&format!("{addr} describe {fqn}")),
            "{banner}"
        );
        assert_eq!(health(&addr, fqn), Some(0), "{fqn} at {addr}");
        assert_eq!(health(&addr, ""), Some(0), "server health at {addr}");
        assert_eq!(
            health(&addr, "chatmesh.nope.v1.Nope"),
            Some(1),
            "unknown service"
        );
    }
    for name in ["graph", "vector", "relational"] {
        assert!(data.path().join(name).is_dir(), "{name} data dir created");
    }

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "exit code after SIGINT");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert!(rest.contains("all services stopped"), "{rest}");
    assert_eq!(health(&format!("127.0.0.1:{base}"), ""), Some(1), "stopped");
}

#[test]
fn health_fails_when_nothing_listens() {
    let port = free_base_port();
    let output = Command::new(BIN)
        .args([
            "health",
            "--timeout",
            "1s",
            "--addr",
            &format!("127.0.0.1:{port}"),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot connect"));
}

#[test]
fn up_refuses_a_port_in_use() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let data = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .args(["up", "--base-port", &port.to_string(), "--data-dir"])
        .arg(data.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{stderr}"
    );
}

#[test]
fn bad_arguments_are_one_line_and_exit_two() {
    for args in [
        vec!["health"],
        vec!["health", "--addr", "x", "--timeout", "later"],
        vec!["up", "--base-port", "70000"],
        vec!["frobnicate"],
    ] {
        let output = Command::new(BIN).args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("chatmesh: "), "{stderr}");
    }
}
