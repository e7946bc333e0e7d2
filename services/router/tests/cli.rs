//! `chatmesh-router`'s command line: configuration errors are one line and exit code 2.

use chatmesh_runtime::test_support::{config_error_line, help_text};

const BIN: &str = env!("CARGO_BIN_EXE_chatmesh-router");

#[test]
fn bad_backend_address() {
    let line = config_error_line(BIN, &["--graph-addr", "http://bad host:1"], &[]);
    assert!(
        line.contains("--graph-addr (CHATMESH_GRAPH_ADDR)"),
        "{line}"
    );
}

#[test]
fn bad_log_filter() {
    let line = config_error_line(BIN, &["--log", "=["], &[]);
    assert!(
        line.contains("invalid value '=['") && line.contains("--log"),
        "{line}"
    );
}

#[test]
fn help_shows_the_default_port() {
    assert!(help_text(BIN).contains("0.0.0.0:50052"));
}
