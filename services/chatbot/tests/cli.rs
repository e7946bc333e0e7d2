//! `chatmesh-chatbot`'s command line: configuration errors are one line and exit code 2.

use chatmesh_test_support::cli::{config_error_line, help_text};

/// The binary under test: cargo's build, or `CHATMESH_BIN_DIR`'s when that is set.
fn bin() -> String {
    chatmesh_test_support::process::built(env!("CARGO_BIN_EXE_chatmesh-chatbot"))
}

#[test]
fn bad_listen_address_from_the_environment_names_the_variable() {
    let line = config_error_line(&bin(), &[], &[("CHATMESH_LISTEN", "localhost:50051")]);
    assert!(
        line.contains("--listen") && line.contains("(from CHATMESH_LISTEN)"),
        "{line}"
    );
}

#[test]
fn message_limit_below_the_minimum() {
    let line = config_error_line(&bin(), &["--max-message-bytes", "10"], &[]);
    assert!(line.contains("--max-message-bytes"), "{line}");
}

#[test]
fn help_shows_the_default_port() {
    assert!(help_text(&bin()).contains("0.0.0.0:50051"));
}

#[test]
fn a_session_url_that_is_not_postgres_is_refused_without_its_password() {
    let line = config_error_line(
        &bin(),
        &[],
        &[("CHATMESH_SESSION_URL", "mysql://chat:s3cret@db:3306/chat")],
    );
    assert!(
        line.contains("--session-url") && line.contains("expected postgres://"),
        "{line}"
    );
    assert!(!line.contains("s3cret"), "the password leaked: {line}");
    let line = config_error_line(
        &bin(),
        &["--session-url", "postgres://chat:s3cret@db:port/chat"],
        &[],
    );
    assert!(line.contains("--session-url"), "{line}");
    assert!(!line.contains("s3cret"), "the password leaked: {line}");
}

#[test]
fn session_intervals_must_be_positive() {
    let line = config_error_line(&bin(), &["--session-sweep-interval", "0s"], &[]);
    assert!(line.contains("--session-sweep-interval"), "{line}");
}

#[test]
fn help_hides_the_session_url_from_the_environment() {
    let output = std::process::Command::new(bin())
        .arg("--help")
        .env("CHATMESH_SESSION_URL", "postgres://chat:s3cret@db/chat")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("CHATMESH_SESSION_URL"), "{help}");
    assert!(!help.contains("s3cret"), "{help}");
}

#[test]
fn an_empty_variable_counts_as_unset() {
    // Compose and Helm write `CHATMESH_SESSION_URL=` for a setting left out; that must mean
    // "sessions in memory", not "an invalid URL". The zero interval shows parsing got past it.
    let line = config_error_line(
        &bin(),
        &["--session-sweep-interval", "0s"],
        &[("CHATMESH_SESSION_URL", ""), ("CHATMESH_AUTH_TOKENS", "")],
    );
    assert!(line.contains("--session-sweep-interval"), "{line}");
}
