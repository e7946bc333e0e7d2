//! `chatmesh-chatbot`'s command line: configuration errors are one line and exit code 2.

use chatmesh_runtime::test_support::{config_error_line, help_text};

const BIN: &str = env!("CARGO_BIN_EXE_chatmesh-chatbot");

#[test]
fn bad_listen_address_from_the_environment_names_the_variable() {
    let line = config_error_line(BIN, &[], &[("CHATMESH_LISTEN", "localhost:50051")]);
    assert!(
        line.contains("--listen") && line.contains("(from CHATMESH_LISTEN)"),
        "{line}"
    );
}

#[test]
fn message_limit_below_the_minimum() {
    let line = config_error_line(BIN, &["--max-message-bytes", "10"], &[]);
    assert!(line.contains("--max-message-bytes"), "{line}");
}

#[test]
fn help_shows_the_default_port() {
    assert!(help_text(BIN).contains("0.0.0.0:50051"));
}
