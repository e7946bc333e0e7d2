//! `chatmesh-graph`'s command line: configuration errors are one line and exit code 2,
//! unusable peer tokens included (without showing the token).

use chatmesh_test_support::cli::{config_error_line, help_text};
use chatmesh_test_support::process::Process;

/// The binary under test: cargo's build, or `CHATMESH_BIN_DIR`'s when that is set.
fn bin() -> String {
    chatmesh_test_support::process::built(env!("CARGO_BIN_EXE_chatmesh-graph"))
}

#[test]
fn unknown_flag() {
    let line = config_error_line(&bin(), &["--bogus"], &[]);
    assert!(line.contains("unexpected argument '--bogus'"), "{line}");
}

#[test]
fn bad_port() {
    let line = config_error_line(&bin(), &["--listen", "0.0.0.0:99999"], &[]);
    assert!(
        line.contains("--listen") && line.contains("port '99999'"),
        "{line}"
    );
}

#[test]
fn unusable_data_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let bad = file.join("graph");
    let line = config_error_line(&bin(), &["--data-dir", bad.to_str().unwrap()], &[]);
    assert!(line.contains("--data-dir (CHATMESH_DATA_DIR)"), "{line}");
    assert!(line.contains(bad.to_str().unwrap()), "{line}");
}

#[test]
fn unusable_peer_tokens() {
    let line = config_error_line(
        &bin(),
        &[],
        &[("CHATMESH_PEER_TOKENS", "router:short-token")],
    );
    assert!(
        line.contains("--peer-tokens (CHATMESH_PEER_TOKENS)"),
        "{line}"
    );
    assert!(line.contains("shorter than 16 characters"), "{line}");
    assert!(!line.contains("short-token"), "{line}");
    let tmp = tempfile::tempdir().unwrap();
    let peers = tmp.path().join("peers");
    std::fs::write(&peers, "router\n").unwrap();
    let line = config_error_line(
        &bin(),
        &["--peer-tokens-file", peers.to_str().unwrap()],
        &[],
    );
    assert!(line.contains("line 1: expected NAME TOKEN"), "{line}");
    let line = config_error_line(&bin(), &["--allow-callers", "rou ter"], &[]);
    assert!(line.contains("--allow-callers"), "{line}");
}

#[test]
fn bad_query_memory() {
    let line = config_error_line(&bin(), &["--query-memory", "lots"], &[]);
    assert!(line.contains("--query-memory"), "{line}");
    let line = config_error_line(&bin(), &[], &[("CHATMESH_GRAPH_QUERY_MEMORY", "512KiB")]);
    assert!(line.contains("at least 1MiB"), "{line}");
    let line = config_error_line(
        &bin(),
        &["--query-memory", "64MiB", "--total-query-memory", "32MiB"],
        &[],
    );
    assert!(
        line.contains("--total-query-memory (CHATMESH_GRAPH_TOTAL_QUERY_MEMORY)")
            && line.contains("at least --query-memory"),
        "{line}"
    );
}

#[test]
fn help_documents_every_setting_with_its_environment_variable() {
    let help = help_text(&bin());
    for env in [
        "CHATMESH_LISTEN",
        "CHATMESH_DATA_DIR",
        "CHATMESH_LOG_FORMAT",
        "CHATMESH_SHUTDOWN_GRACE",
        "CHATMESH_WORKER_THREADS",
        "CHATMESH_GRAPH_QUERY_MEMORY",
        "CHATMESH_GRAPH_TOTAL_QUERY_MEMORY",
    ] {
        assert!(help.contains(env), "--help lacks {env}");
    }
    assert!(
        help.contains("0.0.0.0:50053"),
        "--help shows the default port"
    );
}

#[test]
fn bad_worker_threads() {
    for bad in ["0", "many", "5000"] {
        let line = config_error_line(&bin(), &["--worker-threads", bad], &[]);
        assert!(line.contains("--worker-threads"), "{bad}: {line}");
    }
    let line = config_error_line(&bin(), &[], &[("CHATMESH_WORKER_THREADS", "0")]);
    assert!(line.contains("--worker-threads"), "{line}");
}

/// The worker count the process logged at start (`async runtime started`).
fn logged_workers(log: &std::path::Path) -> Option<u64> {
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|line| line["message"] == "async runtime started")?["workers"]
        .as_u64()
}

#[test]
fn the_runtime_runs_as_many_workers_as_asked() {
    let cpus = std::thread::available_parallelism().unwrap().get() as u64;
    for (flag, expected) in [(None, cpus), (Some("1"), 1), (Some("3"), 3)] {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let mut args = vec!["--data-dir", data.to_str().unwrap()];
        args.extend(flag.map(|n| ["--worker-threads", n]).into_iter().flatten());
        let mut graph = Process::start(
            "chatmesh-graph",
            &args,
            tmp.path(),
            std::time::Duration::from_secs(20),
        );
        let log = tmp.path().join("chatmesh-graph.log");
        assert_eq!(logged_workers(&log), Some(expected), "{flag:?}");
        assert_eq!(graph.terminate(), Some(0));
    }
}
